using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>
/// One user on several devices: connections with tokens of the same <c>sub</c> all hold its name, are one member of a
/// room, and all get the user's DMs. With tokens on, every connection has a token and its name is the token's, so a
/// connection that does not share can never ask for a shared name, and a device can never take another name; the
/// membership's side of a device renaming while the user stays is covered by the backplane contract tests.
/// </summary>
public sealed class MultiDeviceTests : IAsyncLifetime
{
    private readonly TestTokens _tokens = new();
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(_tokens.ServerSettings());

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _tokens.Dispose();
    }

    private async Task<WsClient> ConnectAsync(string user, string query = "")
    {
        var client = await _server.ConnectJsonAsync($"token={_tokens.Hs256(user)}{(query.Length == 0 ? "" : "&" + query)}");
        await client.ExpectAsync("welcome");
        return client;
    }

    [Fact]
    public async Task A_shared_name_is_held_by_every_device_until_the_last_device_leaves()
    {
        var phone = await ConnectAsync("ann");
        // Names compare without case: a token for Ann is the same user name, and the device is called as its token says.
        var laptop = await _server.ConnectJsonAsync($"token={_tokens.Hs256("Ann")}&name=Ann");
        Assert.Equal("Ann", await laptop.ReadWelcomeNameAsync());
        await laptop.SendJsonAsync(new { type = "ping" });
        await laptop.ExpectAsync("pong"); // no name_taken in between
        await using var bob = await ConnectAsync("bob");

        await phone.DisposeAsync();
        await bob.SendJsonAsync(new { type = "dm", to = "ann", text = "still there?", @ref = "d1" });
        Assert.Equal("still there?", (string?)(await laptop.ExpectAsync("dm"))["text"]);
        Assert.Equal("d1", (string?)(await bob.WaitForAsync("ack"))["ref"]);

        // The name is free once the server has seen the last device's close, which the client's completed close shows.
        await laptop.DisposeAsync();
        await bob.SendJsonAsync(new { type = "dm", to = "ann", text = "gone?", @ref = "d2" });
        var error = await bob.WaitForAsync("error");
        Assert.Equal(("no_such_user", "d2"), ((string?)error["code"], (string?)error["ref"]));
    }

    [Fact]
    public async Task A_user_on_two_devices_is_one_member_joining_with_the_first_and_leaving_with_the_last()
    {
        await using var bob = await ConnectAsync("bob", "room=two");
        await bob.ExpectAsync("joined");

        await using var phone = await ConnectAsync("cat");
        await phone.SendJsonAsync(new { type = "join", room = "two" });
        await phone.ExpectAsync("joined");
        var join = await bob.ExpectAsync("presence");
        Assert.Equal(("join", "cat"), ((string)join["event"]!, (string)join["name"]!));

        var laptop = await ConnectAsync("cat");
        await laptop.SendJsonAsync(new { type = "join", room = "two" });
        var joined = await laptop.ExpectAsync("joined");
        Assert.Equal(["bob", "cat"], joined["members"]!.AsArray().Select(m => (string)m!));
        await ExpectNothingQueuedAsync(bob); // the user was already there

        await bob.SendJsonAsync(new { type = "who", room = "two" });
        Assert.Equal(["bob", "cat"], (await bob.ExpectAsync("members"))["members"]!.AsArray().Select(m => (string)m!));

        // Both devices get the room's messages.
        await bob.SendJsonAsync(new { type = "say", room = "two", text = "hi cat" });
        Assert.Equal("hi cat", (string?)(await phone.ExpectAsync("message"))["text"]);
        Assert.Equal("hi cat", (string?)(await laptop.ExpectAsync("message"))["text"]);
        await bob.ExpectAsync("message");
        await bob.ExpectAsync("ack");

        await phone.SendJsonAsync(new { type = "leave", room = "two" });
        await phone.ExpectAsync("left");
        await ExpectNothingQueuedAsync(bob); // the laptop is still there

        await laptop.DisposeAsync(); // the last device goes
        var leave = await bob.ExpectAsync("presence");
        Assert.Equal(("leave", "cat"), ((string)leave["event"]!, (string)leave["name"]!));
        await bob.SendJsonAsync(new { type = "who", room = "two" });
        Assert.Equal(["bob"], (await bob.ExpectAsync("members"))["members"]!.AsArray().Select(m => (string)m!));
    }

    [Fact]
    public async Task A_dm_reaches_every_device_of_the_user_and_every_device_of_the_sender()
    {
        await using var bob = await ConnectAsync("bob");
        await using var phone = await ConnectAsync("dan");
        await using var laptop = await ConnectAsync("dan");

        await bob.SendJsonAsync(new { type = "dm", to = "dan", text = "to both", @ref = "b1" });
        Assert.Equal("to both", (string?)(await phone.ExpectAsync("dm"))["text"]);
        Assert.Equal("to both", (string?)(await laptop.ExpectAsync("dm"))["text"]);
        Assert.Equal("to both", (string?)(await bob.ExpectAsync("dm"))["text"]);
        Assert.Equal("b1", (string?)(await bob.ExpectAsync("ack"))["ref"]);

        await phone.SendJsonAsync(new { type = "dm", to = "bob", text = "from the phone", @ref = "p1" });
        var received = await bob.ExpectAsync("dm");
        Assert.Equal(("dan", "bob"), ((string)received["from"]!, (string)received["to"]!));
        Assert.Equal("from the phone", (string?)(await phone.ExpectAsync("dm"))["text"]);
        Assert.Equal("p1", (string?)(await phone.ExpectAsync("ack"))["ref"]);
        Assert.Equal("from the phone", (string?)(await laptop.ExpectAsync("dm"))["text"]); // the sender's other device
        await ExpectNothingQueuedAsync(laptop); // and no ack: that went to the phone alone

        // The user's resend of the same ref from the other device is the same DM: acked, not delivered again.
        await laptop.SendJsonAsync(new { type = "dm", to = "bob", text = "from the phone", @ref = "p1" });
        Assert.Equal("p1", (string?)(await laptop.ExpectAsync("ack"))["ref"]);
        await ExpectNothingQueuedAsync(bob);
    }

    [Fact]
    public async Task A_device_cannot_take_another_name_and_stays_in_its_rooms_as_the_user()
    {
        await using var bob = await ConnectAsync("bob", "room=nick");
        await bob.ExpectAsync("joined");
        await using var phone = await ConnectAsync("dan", "room=nick");
        await phone.ExpectAsync("joined");
        await using var laptop = await ConnectAsync("dan", "room=nick");
        await laptop.ExpectAsync("joined");
        Assert.Equal("join", (string?)(await bob.ExpectAsync("presence"))["event"]);

        await laptop.SendJsonAsync(new { type = "nick", name = "eve", @ref = "n1" });
        var error = await laptop.ExpectAsync("error");
        Assert.Equal(("invalid_name", "n1"), ((string?)error["code"], (string?)error["ref"]));
        await ExpectNothingQueuedAsync(bob);
        await bob.SendJsonAsync(new { type = "who", room = "nick" });
        Assert.Equal(["bob", "dan"], (await bob.ExpectAsync("members"))["members"]!.AsArray().Select(m => (string)m!));
    }

    /// <summary>
    /// Everything a room or another connection queued for <paramref name="client"/> before now is ahead of the pong:
    /// the next frame being the pong shows nothing else was queued.
    /// </summary>
    private static async Task ExpectNothingQueuedAsync(WsClient client)
    {
        await client.SendJsonAsync(new { type = "ping", @ref = "check" });
        var next = await client.NextAsync();
        Assert.True((string?)next["type"] == "pong", $"expected only the pong, got {next.ToJsonString()}");
    }
}
