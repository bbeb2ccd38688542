using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>The text format as a person at wscat uses it: slash commands in, readable lines out.</summary>
public sealed class TextFormatTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Text_is_the_default_format_and_two_people_chat()
    {
        await using var ann = await _server.ConnectTextAsync("name=ann&room=lobby");
        Assert.Equal("* welcome ann — /help lists the commands", await ann.ReceiveAsync());
        Assert.Equal("* you joined lobby (1 member: ann)", await ann.ReceiveAsync());

        await using var bob = await _server.ConnectTextAsync("name=bob&room=lobby");
        await bob.WaitForLineAsync("you joined lobby");
        Assert.Equal("* bob joined lobby (2 members)", await ann.ReceiveAsync());

        await ann.SendTextAsync("hello");
        Assert.Equal("[lobby] ann: hello", await ann.ReceiveAsync());
        Assert.Equal("[lobby] ann: hello", await bob.ReceiveAsync());

        await bob.SendTextAsync("/quit");
        Assert.Equal("* bob left lobby", await ann.ReceiveAsync());
    }

    [Fact]
    public async Task Slash_commands_cover_the_protocol()
    {
        await using var ann = await _server.ConnectTextAsync("name=ann");
        await ann.WaitForLineAsync("welcome ann");
        await using var bob = await _server.ConnectTextAsync("name=bob&room=lobby");
        await bob.WaitForLineAsync("you joined lobby");

        await ann.SendTextAsync("/join lobby");
        Assert.Equal("* you joined lobby (2 members: ann, bob)", await ann.ReceiveAsync());
        await bob.WaitForLineAsync("* ann joined lobby (2 members)");

        await ann.SendTextAsync("//slash at the start");
        Assert.Equal("[lobby] ann: /slash at the start", await ann.ReceiveAsync());
        await bob.WaitForLineAsync("[lobby] ann: /slash at the start");

        await ann.SendTextAsync("/msg bob psst");
        Assert.Equal("[dm] ann -> bob: psst", await ann.ReceiveAsync());
        Assert.Equal("[dm] ann -> bob: psst", await bob.ReceiveAsync());

        await ann.SendTextAsync("/who");
        Assert.Equal("* members of lobby (2): ann, bob", await ann.ReceiveAsync());

        await ann.SendTextAsync("/rooms");
        Assert.Equal("* rooms: lobby (2)", await ann.ReceiveAsync());

        await ann.SendTextAsync("/history lobby 5");
        Assert.Equal("* history of lobby: 1 message", await ann.ReceiveAsync());
        Assert.Equal("[lobby] ann: /slash at the start", await ann.ReceiveAsync());

        await ann.SendTextAsync("/nick anna");
        Assert.Equal("* you are now anna", await ann.ReceiveAsync());
        Assert.Equal("* ann is now anna (in lobby)", await bob.ReceiveAsync());

        await ann.SendTextAsync("/leave");
        Assert.Equal("* you left lobby", await ann.ReceiveAsync());
        Assert.Equal("* anna left lobby", await bob.ReceiveAsync());

        await ann.SendTextAsync("talking to nobody");
        Assert.Equal("! not_in_room: join a room first: /join ROOM", await ann.ReceiveAsync());

        await ann.SendTextAsync("/dance");
        Assert.StartsWith("! unknown_type: /dance", await ann.ReceiveAsync());

        await ann.SendTextAsync("/msg ghost boo");
        Assert.StartsWith("! no_such_user:", await ann.ReceiveAsync());

        await ann.SendTextAsync("/help");
        Assert.Equal("* commands:", await ann.ReceiveAsync());
        Assert.Contains("/nick NAME", await ann.ReceiveAsync());
    }

    [Fact]
    public async Task A_joined_room_shows_its_recent_history_as_message_lines()
    {
        await using var ann = await _server.ConnectTextAsync("name=ann&room=news");
        await ann.WaitForLineAsync("you joined news");
        await ann.SendTextAsync("first");
        await ann.WaitForLineAsync("[news] ann: first");
        await ann.SendTextAsync("second");
        await ann.WaitForLineAsync("[news] ann: second");

        await using var bob = await _server.ConnectTextAsync("name=bob&room=news");
        Assert.Contains("welcome bob", await bob.ReceiveAsync());
        Assert.Equal("[news] ann: first", await bob.ReceiveAsync());
        Assert.Equal("[news] ann: second", await bob.ReceiveAsync());
        Assert.Equal("* you joined news (2 members: ann, bob)", await bob.ReceiveAsync());
    }

    [Fact]
    public async Task Text_and_json_members_share_a_room()
    {
        await using var text = await _server.ConnectTextAsync("name=tess&room=mixed");
        await text.WaitForLineAsync("you joined mixed");
        await using var json = await _server.ConnectJsonAsync("name=jay&room=mixed");
        await json.ExpectAsync("welcome");
        await json.ExpectAsync("joined");
        await text.WaitForLineAsync("jay joined mixed");

        await json.SendJsonAsync(new { type = "say", room = "mixed", text = "from json" });
        Assert.Equal("[mixed] jay: from json", await text.ReceiveAsync());
        await text.SendTextAsync("from text");
        var message = await json.WaitForAsync("message", m => (string?)m["from"] == "tess");
        Assert.Equal("from text", (string?)message["text"]);
        Assert.Equal(2, (long)message["seq"]!);
    }
}
