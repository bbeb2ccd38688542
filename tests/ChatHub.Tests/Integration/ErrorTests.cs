using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>Every error code of the protocol, produced where it says, without closing the connection.</summary>
public sealed class ErrorTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync("Limits:MaxRoomsPerConnection=3");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("this is not json")]
    [InlineData("[1,2,3]")]
    [InlineData("\"just a string\"")]
    [InlineData("null")]
    [InlineData("{\"room\":\"lobby\"}")]
    [InlineData("{\"type\":42}")]
    [InlineData("{\"type\":\"join\",\"room\":7}")]
    [InlineData("{\"type\":\"join\",\"room\":\"lobby\",\"since\":\"yesterday\"}")]
    [InlineData("{\"type\":\"say\",\"room\":\"lobby\"}")]
    [InlineData("{\"type\":\"join\"}")]
    [InlineData("{\"type\":\"history\",\"room\":\"lobby\",\"limit\":0}")]
    [InlineData("{\"type\":\"history\",\"room\":\"lobby\",\"limit\":101}")]
    [InlineData("{\"type\":\"dm\",\"text\":\"hi\"}")]
    [InlineData("{\"type\":\"ping\",\"ref\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}")]
    [InlineData("{\"type\":\"ping\"")]
    public async Task Malformed_requests_get_bad_request_and_the_connection_lives_on(string frame)
    {
        await using var ann = await _server.ConnectJsonAsync();
        await ann.ExpectAsync("welcome");
        await ann.SendTextAsync(frame);
        var error = await ann.ExpectAsync("error");
        Assert.Equal("bad_request", (string?)error["code"]);
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
        await AssertStillServedAsync(ann);
    }

    [Fact]
    public async Task Unknown_type_is_unknown_type_with_the_ref()
    {
        await using var ann = await _server.ConnectJsonAsync();
        await ann.ExpectAsync("welcome");
        await ann.SendJsonAsync(new { type = "dance", @ref = "r9" });
        var error = await ann.ExpectAsync("error");
        Assert.Equal("unknown_type", (string?)error["code"]);
        Assert.Equal("r9", (string?)error["ref"]);
        await AssertStillServedAsync(ann);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("ümlaut")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")] // 33 characters
    public async Task Invalid_names_are_refused(string name)
    {
        await using var ann = await _server.ConnectJsonAsync();
        await ann.ExpectAsync("welcome");
        await ann.SendJsonAsync(new { type = "nick", name });
        Assert.Equal("invalid_name", (string?)(await ann.ExpectAsync("error"))["code"]);
    }

    [Fact]
    public async Task An_invalid_name_in_the_query_leaves_a_guest_and_says_why()
    {
        await using var ann = await _server.ConnectJsonAsync("name=no%20spaces");
        Assert.StartsWith("guest-", await ann.ReadWelcomeNameAsync());
        Assert.Equal("invalid_name", (string?)(await ann.ExpectAsync("error"))["code"]);
    }

    [Fact]
    public async Task Names_are_unique_without_case()
    {
        await using var ann = await _server.ConnectJsonAsync("name=Ann");
        Assert.Equal("Ann", await ann.ReadWelcomeNameAsync());

        await using var other = await _server.ConnectJsonAsync("name=aNN");
        Assert.StartsWith("guest-", await other.ReadWelcomeNameAsync());
        Assert.Equal("name_taken", (string?)(await other.ExpectAsync("error"))["code"]);

        await other.SendJsonAsync(new { type = "nick", name = "ANN", @ref = "n1" });
        var error = await other.ExpectAsync("error");
        Assert.Equal("name_taken", (string?)error["code"]);
        Assert.Equal("n1", (string?)error["ref"]);
    }

    [Fact]
    public async Task A_name_is_free_again_when_its_connection_ends()
    {
        var ann = await _server.ConnectJsonAsync("name=ann&room=lobby");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await using var watcher = await _server.ConnectJsonAsync("room=lobby");
        await watcher.ExpectAsync("welcome");
        await watcher.ExpectAsync("joined");
        await ann.DisposeAsync();
        await watcher.WaitForAsync("presence", p => (string?)p["event"] == "leave");

        await using var again = await _server.ConnectJsonAsync("name=ann");
        Assert.Equal("ann", await again.ReadWelcomeNameAsync());
    }

    [Theory]
    [InlineData("bad room")]
    [InlineData("slash/room")]
    [InlineData("a-room-name-that-is-far-too-long-for-the-protocol-to-accept-it-65")]
    public async Task Invalid_rooms_are_refused(string room)
    {
        await using var ann = await _server.ConnectJsonAsync();
        await ann.ExpectAsync("welcome");
        await ann.SendJsonAsync(new { type = "join", room });
        Assert.Equal("invalid_room", (string?)(await ann.ExpectAsync("error"))["code"]);
        await ann.SendJsonAsync(new { type = "say", room, text = "x" });
        Assert.Equal("invalid_room", (string?)(await ann.ExpectAsync("error"))["code"]);
    }

    [Fact]
    public async Task Saying_or_leaving_outside_a_room_is_not_in_room()
    {
        await using var ann = await _server.ConnectJsonAsync();
        await ann.ExpectAsync("welcome");
        await ann.SendJsonAsync(new { type = "say", room = "lobby", text = "hi", @ref = "s1" });
        var error = await ann.ExpectAsync("error");
        Assert.Equal("not_in_room", (string?)error["code"]);
        Assert.Equal("s1", (string?)error["ref"]);
        await ann.SendJsonAsync(new { type = "leave", room = "lobby" });
        Assert.Equal("not_in_room", (string?)(await ann.ExpectAsync("error"))["code"]);
    }

    [Fact]
    public async Task Joining_past_the_room_limit_is_too_many_rooms()
    {
        await using var ann = await _server.ConnectJsonAsync("room=r1&room=r2&room=r3");
        await ann.ExpectAsync("welcome");
        for (int i = 0; i < 3; i++)
        {
            await ann.ExpectAsync("joined");
        }

        await ann.SendJsonAsync(new { type = "join", room = "r4" });
        Assert.Equal("too_many_rooms", (string?)(await ann.ExpectAsync("error"))["code"]);

        // Re-joining a room already joined is no new room.
        await ann.SendJsonAsync(new { type = "join", room = "r2" });
        Assert.Equal("r2", (string?)(await ann.ExpectAsync("joined"))["room"]);
    }

    [Fact]
    public async Task Text_over_the_limit_is_too_large_and_not_delivered()
    {
        await using var ann = await _server.ConnectJsonAsync("room=lobby");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        string exactly = new('x', 4096);
        string over = new string('é', 2049); // 4098 UTF-8 bytes in 2049 characters
        await ann.SendJsonAsync(new { type = "say", room = "lobby", text = over, @ref = "big" });
        var error = await ann.ExpectAsync("error");
        Assert.Equal("too_large", (string?)error["code"]);
        Assert.Equal("big", (string?)error["ref"]);

        await ann.SendJsonAsync(new { type = "say", room = "lobby", text = exactly });
        var message = await ann.ExpectAsync("message");
        Assert.Equal(1, (long)message["seq"]!); // the refused one took no seq
        Assert.Equal(4096, ((string)message["text"]!).Length);
    }

    [Fact]
    public async Task Dm_to_nobody_is_no_such_user()
    {
        await using var ann = await _server.ConnectJsonAsync();
        await ann.ExpectAsync("welcome");
        await ann.SendJsonAsync(new { type = "dm", to = "ghost", text = "boo", @ref = "d" });
        var error = await ann.ExpectAsync("error");
        Assert.Equal("no_such_user", (string?)error["code"]);
        Assert.Equal("d", (string?)error["ref"]);
    }

    [Fact]
    public async Task Bad_input_on_one_connection_does_not_disturb_another()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=calm");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await using var rogue = await _server.ConnectJsonAsync("room=calm");
        await rogue.ExpectAsync("welcome");
        await rogue.ExpectAsync("joined");
        await ann.ExpectAsync("presence");

        foreach (string junk in new[] { "{", "[]", "{\"type\":\"say\",\"room\":\"calm\",\"text\":5}", "\u0000\u0001", "{\"type\":\"nope\"}" })
        {
            await rogue.SendTextAsync(junk);
            await rogue.ExpectAsync("error");
        }

        await ann.SendJsonAsync(new { type = "say", room = "calm", text = "still here" });
        Assert.Equal("still here", (string?)(await ann.ExpectAsync("message"))["text"]);
        Assert.Equal("still here", (string?)(await rogue.ExpectAsync("message"))["text"]);
    }

    private static async Task AssertStillServedAsync(WsClient client)
    {
        await client.SendJsonAsync(new { type = "ping", @ref = "alive" });
        Assert.Equal("alive", (string?)(await client.ExpectAsync("pong"))["ref"]);
    }
}
