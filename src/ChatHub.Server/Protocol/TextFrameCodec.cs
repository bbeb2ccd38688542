using System.Text;

namespace ChatHub.Server.Protocol;

/// <summary>
/// The text format, for people at a terminal: slash commands in, one human-readable line per frame out.
/// Requests that need the current room leave <see cref="ClientRequest.Room"/> null; the connection fills it.
/// Every line sent is escaped for terminals by <see cref="TerminalText"/>.
/// </summary>
public static class TextFrameCodec
{
    /// <summary>More names than this in one line helps nobody at a terminal.</summary>
    private const int MaxNamesPerLine = 30;

    private static readonly string[] HelpLines =
    [
        "* commands:",
        "*   /nick NAME           change your name",
        "*   /join ROOM           join (or create) a room; it becomes the current room",
        "*   /leave [ROOM]        leave a room (the current one by default)",
        "*   /msg NAME TEXT       send a direct message",
        "*   /who [ROOM]          list the members of a room",
        "*   /rooms [AFTER]       list the rooms, a page at a time (AFTER: the page after that room)",
        "*   /history [ROOM] [N]  show the last N messages of a room",
        "*   /quit                close the connection",
        "*   /auth TOKEN          renew your token before it expires (servers with tokens)",
        "*   any other line is said to the current room; start it with // to say a line that begins with /",
    ];

    public static DecodeResult Decode(ReadOnlySpan<byte> payload)
    {
        string line = Encoding.UTF8.GetString(payload).TrimEnd('\r', '\n');
        if (line.Length == 0)
        {
            return DecodeResult.Nothing;
        }

        if (line[0] != '/')
        {
            return DecodeResult.Ok(new ClientRequest { Kind = RequestKind.Say, Type = "say", Text = line });
        }

        if (line.StartsWith("//", StringComparison.Ordinal))
        {
            return DecodeResult.Ok(new ClientRequest { Kind = RequestKind.Say, Type = "say", Text = line[1..] });
        }

        int space = line.IndexOf(' ');
        string command = space < 0 ? line : line[..space];
        string rest = space < 0 ? "" : line[(space + 1)..].Trim();
        string? firstArgument = FirstWord(rest, out string afterFirst);

        var request = new ClientRequest { TextCommand = command };
        switch (command.ToLowerInvariant())
        {
            case "/nick": request.Kind = RequestKind.Nick; request.Name = rest.Length == 0 ? null : rest; break;
            case "/join": request.Kind = RequestKind.Join; request.Room = rest.Length == 0 ? null : rest; break;
            case "/leave": request.Kind = RequestKind.Leave; request.Room = firstArgument; break;
            case "/msg":
                request.Kind = RequestKind.Dm;
                request.To = firstArgument;
                request.Text = afterFirst;
                if (firstArgument is null || afterFirst.Length == 0)
                {
                    return DecodeResult.Fail(ErrorCodes.BadRequest, "usage: /msg NAME TEXT");
                }

                break;
            case "/who": request.Kind = RequestKind.Who; request.Room = firstArgument; break;
            case "/rooms": request.Kind = RequestKind.Rooms; request.After = firstArgument; break; // the next page after a room
            case "/history": return DecodeHistory(request, firstArgument, afterFirst);
            case "/ping": request.Kind = RequestKind.Ping; request.Ref = firstArgument; break;
            case "/help": request.Kind = RequestKind.Help; break;
            case "/quit": request.Kind = RequestKind.Quit; break;
            case "/auth": request.Kind = RequestKind.Auth; request.Token = firstArgument; break;
            default:
                return DecodeResult.Fail(ErrorCodes.UnknownType, $"{EchoedText.Shorten(command, 32)} is not a command; /help lists them");
        }

        request.Type = request.Kind.ToString().ToLowerInvariant();
        return DecodeResult.Ok(request);
    }

    private static DecodeResult DecodeHistory(ClientRequest request, string? first, string afterFirst)
    {
        request.Kind = RequestKind.History;
        request.Type = "history";
        string? count = null;
        if (first is not null && first.All(char.IsAsciiDigit))
        {
            count = first; // "/history 20": the current room
        }
        else
        {
            request.Room = first;
            count = FirstWord(afterFirst, out _);
        }

        if (count is not null)
        {
            if (!int.TryParse(count, out int limit))
            {
                return DecodeResult.Fail(ErrorCodes.BadRequest, "usage: /history [ROOM] [N]");
            }

            request.Limit = limit;
        }

        return DecodeResult.Ok(request);
    }

    /// <summary>Single-line events, the ones a room broadcasts; encoded once per room message.</summary>
    public static byte[] EncodeLine(ServerEvent serverEvent) => Utf8(Render(serverEvent));

    /// <summary>Every line an event shows a person; some events are several lines, an ack is none.</summary>
    public static IEnumerable<byte[]> EncodeLines(ServerEvent serverEvent)
    {
        switch (serverEvent)
        {
            case AckEvent:
                yield break; // a person sees their own message come back; an ack line would only be noise
            case JoinedEvent joined:
                if (joined.Truncated)
                {
                    yield return Utf8($"* older messages of {joined.Room} are no longer kept");
                }

                foreach (var message in joined.History)
                {
                    yield return Utf8(RenderMessage(message));
                }

                yield return Utf8($"* you joined {joined.Room} ({Count(joined.Members.Count, "member")}: {NameList(joined.Members)})");
                break;
            case HistoryEvent history:
                yield return Utf8($"* history of {history.Room}: {Count(history.Messages.Count, "message")}");
                foreach (var message in history.Messages)
                {
                    yield return Utf8(RenderMessage(message));
                }

                break;
            case HelpEvent:
                foreach (string line in HelpLines)
                {
                    yield return Utf8(line);
                }

                break;
            default:
                yield return EncodeLine(serverEvent);
                break;
        }
    }

    private static string Render(ServerEvent serverEvent) => serverEvent switch
    {
        MessageEvent m => RenderMessage(m.Message),
        PresenceEvent { Event: PresenceEvent.Join } p => $"* {p.Name} joined {p.Room} ({Count(p.MemberCount, "member")})",
        PresenceEvent { Event: PresenceEvent.Leave } p => $"* {p.Name} left {p.Room}",
        PresenceEvent p => $"* {p.Name} is now {p.To} (in {p.Room})",
        PresenceBatchEvent b => $"* {b.Room}: {string.Join(", ", b.Changes.Select(RenderChange))} ({Count(b.MemberCount, "member")})",
        DmEvent d => $"[dm] {d.From} -> {d.To}: {d.Text}",
        WelcomeEvent w => $"* welcome {w.Name} — /help lists the commands",
        LeftEvent l => $"* you left {l.Room}",
        MembersEvent m => $"* members of {m.Room} ({m.Members.Count}): {NameList(m.Members)}",
        RoomsEvent r => r.Rooms.Count == 0
            ? "* no rooms yet — /join ROOM creates one"
            : "* rooms: " + string.Join(", ", r.Rooms.Select(x => $"{x.Room} ({x.Members})")),
        NickEvent n => $"* you are now {n.Name}",
        PongEvent p => p.Ref is null ? "* pong" : $"* pong {p.Ref}",
        AuthedEvent a => $"* token renewed; it expires at {DateTimeOffset.FromUnixTimeSeconds(a.Expires):yyyy-MM-dd HH:mm:ss} UTC",
        ErrorEvent e => $"! {e.Code}: {e.Message}",
        _ => throw new ArgumentOutOfRangeException(nameof(serverEvent), serverEvent.Type, "no single-line text form"),
    };

    /// <summary>One change of a presence batch, worded as the single <c>presence</c> lines are, without the room.</summary>
    private static string RenderChange(PresenceItem change) => change.Event switch
    {
        PresenceEvent.Join => $"{change.Name} joined",
        PresenceEvent.Leave => $"{change.Name} left",
        _ => $"{change.Name} is now {change.To}",
    };

    private static string RenderMessage(ChatMessage message) => $"[{message.Room}] {message.From}: {message.Text}";

    private static string NameList(IReadOnlyList<string> names) =>
        names.Count <= MaxNamesPerLine
            ? string.Join(", ", names)
            : string.Join(", ", names.Take(MaxNamesPerLine)) + $", … and {names.Count - MaxNamesPerLine} more";

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    private static string? FirstWord(string text, out string rest)
    {
        if (text.Length == 0)
        {
            rest = "";
            return null;
        }

        int space = text.IndexOf(' ');
        rest = space < 0 ? "" : text[(space + 1)..].TrimStart();
        return space < 0 ? text : text[..space];
    }

    /// <summary>Every line leaves through here, so nothing a client sent can act on a terminal (see <see cref="TerminalText"/>).</summary>
    private static byte[] Utf8(string line) => Encoding.UTF8.GetBytes(TerminalText.Escape(line));
}
