using System.Text;
using ChatHub.Server.Protocol;

namespace ChatHub.Tests.Unit;

public sealed class TextFrameCodecTests
{
    private static DecodeResult Decode(string line) => TextFrameCodec.Decode(Encoding.UTF8.GetBytes(line));

    [Theory]
    [InlineData("hello there", RequestKind.Say, null, "hello there")]
    [InlineData("//not a command", RequestKind.Say, null, "/not a command")]
    [InlineData("/join lobby", RequestKind.Join, "lobby", null)]
    [InlineData("/leave", RequestKind.Leave, null, null)]
    [InlineData("/leave lobby", RequestKind.Leave, "lobby", null)]
    [InlineData("/who", RequestKind.Who, null, null)]
    [InlineData("/who lobby", RequestKind.Who, "lobby", null)]
    [InlineData("/rooms", RequestKind.Rooms, null, null)]
    [InlineData("/help", RequestKind.Help, null, null)]
    [InlineData("/quit", RequestKind.Quit, null, null)]
    [InlineData("/QUIT", RequestKind.Quit, null, null)]
    public void Parses_lines(string line, RequestKind kind, string? room, string? text)
    {
        var request = Decode(line).Request!;
        Assert.Equal(kind, request.Kind);
        Assert.Equal(room, request.Room);
        Assert.Equal(text, request.Text);
    }

    [Fact]
    public void Rooms_takes_the_room_to_list_after()
    {
        var request = Decode("/rooms r09").Request!;
        Assert.Equal(RequestKind.Rooms, request.Kind);
        Assert.Equal("r09", request.After);
        Assert.Null(Decode("/rooms").Request!.After);
    }

    [Fact]
    public void Parses_msg_and_nick_and_history()
    {
        var dm = Decode("/msg bob  see you at 3  ").Request!;
        Assert.Equal(("bob", "see you at 3"), (dm.To, dm.Text));
        Assert.Equal("anna", Decode("/nick anna").Request!.Name);

        var history = Decode("/history lobby 20").Request!;
        Assert.Equal(("lobby", 20), (history.Room, history.Limit));
        var current = Decode("/history 5").Request!;
        Assert.Equal((null, 5), (current.Room, current.Limit));
        Assert.Equal((null, (int?)null), (Decode("/history").Request!.Room, Decode("/history").Request!.Limit));
    }

    [Fact]
    public void Trailing_newlines_are_dropped_and_empty_lines_ignored()
    {
        Assert.Equal("hi", Decode("hi\r\n").Request!.Text);
        var empty = Decode("\n");
        Assert.Null(empty.Request);
        Assert.Null(empty.Error);
    }

    [Theory]
    [InlineData("/dance", ErrorCodes.UnknownType)]
    [InlineData("/msg bob", ErrorCodes.BadRequest)]
    [InlineData("/msg", ErrorCodes.BadRequest)]
    [InlineData("/history lobby many", ErrorCodes.BadRequest)]
    public void Bad_commands_are_errors(string line, string code) => Assert.Equal(code, Decode(line).Error!.Code);

    [Fact]
    public void Renders_the_lines_of_the_protocol_examples()
    {
        var ts = DateTimeOffset.UnixEpoch;
        Assert.Equal("[lobby] ann: hello", Line(new MessageEvent(new ChatMessage("lobby", 1, "ann", "hello", ts, null))));
        Assert.Equal("* ann joined lobby (3 members)", Line(new PresenceEvent("lobby", "ann", PresenceEvent.Join, null, 3)));
        Assert.Equal("* bob left lobby", Line(new PresenceEvent("lobby", "bob", PresenceEvent.Leave, null, 2)));
        Assert.Equal("[dm] bob -> ann: hi", Line(new DmEvent("bob", "ann", "hi", ts)));
        Assert.Equal("! not_in_room: join lobby first", Line(new ErrorEvent("not_in_room", "join lobby first", null)));
        Assert.Equal("* welcome ann — /help lists the commands", Line(new WelcomeEvent("ann", "s", "ChatHub/1", new WelcomeLimits(1, 1, 1))));
    }

    [Fact]
    public void Acks_show_nothing_and_joined_shows_history_then_a_summary()
    {
        Assert.Empty(TextFrameCodec.EncodeLines(new AckEvent("r", "lobby", 1)));
        var history = new[] { new ChatMessage("lobby", 1, "bob", "earlier", DateTimeOffset.UnixEpoch, null) };
        var lines = TextFrameCodec.EncodeLines(new JoinedEvent("lobby", ["ann", "bob"], history, truncated: true))
            .Select(Encoding.UTF8.GetString).ToList();
        Assert.Equal(
            ["* older messages of lobby are no longer kept", "[lobby] bob: earlier", "* you joined lobby (2 members: ann, bob)"],
            lines);
    }

    [Fact]
    public void Long_member_lists_are_shortened()
    {
        var names = Enumerable.Range(0, 40).Select(i => $"u{i:00}").ToArray();
        string line = Line(new MembersEvent("big", names));
        Assert.StartsWith("* members of big (40): u00, u01", line);
        Assert.EndsWith("u29, … and 10 more", line);
    }

    private static string Line(ServerEvent e) => Encoding.UTF8.GetString(TextFrameCodec.EncodeLine(e));
}
