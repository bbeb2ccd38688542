using System.Text;
using System.Text.RegularExpressions;
using ChatHub.Server.Protocol;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Docs;

/// <summary>
/// The text-format lines docs/protocol.md shows for each reply and event are the ones the text codec writes:
/// every documented line is rendered from the event it documents, and every row of the table is checked.
/// </summary>
public sealed partial class TextFormatDocumentTests
{
    private static readonly DateTimeOffset Time = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    /// <summary>The events each row of the table documents, with the values its examples use.</summary>
    private static readonly Dictionary<string, ServerEvent[]> EventsByRow = new()
    {
        ["`welcome`"] = [new WelcomeEvent("ann", "s", "ChatHub/1.0.0", new WelcomeLimits(4096, 50, 20))],
        ["`joined`"] = [new JoinedEvent("lobby", ["ann", "bob"], [], truncated: true)],
        ["`left`"] = [new LeftEvent("lobby")],
        ["`presence` join"] = [new PresenceEvent("lobby", "bob", PresenceEvent.Join, null, 3)],
        ["`presence` leave"] = [new PresenceEvent("lobby", "bob", PresenceEvent.Leave, null, 2)],
        ["`presence` rename"] = [new PresenceEvent("lobby", "bob", PresenceEvent.Rename, "bobby", 2)],
        ["`presence_batch`"] = [new PresenceBatchEvent("lobby", [new PresenceItem(PresenceEvent.Join, "carol", null), new PresenceItem(PresenceEvent.Rename, "carol", "caroline"), new PresenceItem(PresenceEvent.Leave, "dave", null)], 3)],
        ["`message`"] = [new MessageEvent(new ChatMessage("lobby", 1, "ann", "hello", Time, null))],
        ["`dm`"] = [new DmEvent("bob", "ann", "hi", Time)],
        ["`members`"] = [new MembersEvent("lobby", ["ann", "bob"])],
        ["`rooms`"] = [new RoomsEvent([new RoomInfo("dev", 1), new RoomInfo("lobby", 2)]), new RoomsEvent([])],
        ["`history`"] = [new HistoryEvent("lobby", [new ChatMessage("lobby", 1, "ann", "a", Time, null), new ChatMessage("lobby", 2, "bob", "b", Time, null)])],
        ["`nick`"] = [new NickEvent("annie", "ann")],
        ["`pong`"] = [new PongEvent("p-1"), new PongEvent(null)],
        ["`authed`"] = [new AuthedEvent(new DateTimeOffset(2026, 11, 24, 11, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), null)],
        ["`error`"] = [new ErrorEvent(ErrorCodes.NotInRoom, "join lobby first", null)],
    };

    [Fact]
    public void Every_documented_line_is_what_the_text_codec_writes()
    {
        var rows = Rows();
        Assert.Equal(EventsByRow.Keys.Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        foreach (var (row, documentedLines) in rows)
        {
            var written = EventsByRow[row].SelectMany(TextFrameCodec.EncodeLines).Select(Encoding.UTF8.GetString).ToList();
            foreach (string line in documentedLines)
            {
                Assert.True(written.Contains(line), $"row {row}: documented \"{line}\", the codec writes {string.Join(" | ", written)}");
            }
        }
    }

    /// <summary>Rows of the "reply or event | line" table: the first cell, and every backticked line of the second.</summary>
    private static Dictionary<string, List<string>> Rows()
    {
        string document = File.ReadAllText(RepositoryRoot.File("docs", "protocol.md"));
        int start = document.IndexOf("| reply or event | line |", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/protocol.md has no text-format table of replies and events");
        var rows = new Dictionary<string, List<string>>();
        foreach (string line in document[start..].Split('\n').Skip(2).TakeWhile(l => l.StartsWith('|')))
        {
            string[] cells = line.Split(" | ");
            rows[cells[0].TrimStart('|', ' ')] = Backticked().Matches(cells[1]).Select(m => m.Groups[1].Value).ToList();
        }

        return rows;
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();
}
