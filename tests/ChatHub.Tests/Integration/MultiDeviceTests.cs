using ChatHub.Server.Connections;
using ChatHub.Server.Protocol;
using ChatHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatHub.Tests.Integration;

/// <summary>
/// One user on several devices: connections that share their name (as names from verified tokens will) all hold
/// it, are one member of a room, and all get the user's DMs. Until tokens are wired in, the test marks which
/// connections share through the runner's test seam: JSON connections asking for a name starting with <c>u-</c>.
/// </summary>
public sealed class MultiDeviceTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _server.App.Services.GetRequiredService<ConnectionRunner>().ShareNameHook =
            connect => connect.Format == WireFormat.Json && connect.Name?.StartsWith("u-", StringComparison.OrdinalIgnoreCase) == true;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<WsClient> ConnectAsync(string query)
    {
        var client = await _server.ConnectJsonAsync(query);
        await client.ExpectAsync("welcome");
        return client;
    }

    [Fact]
    public async Task A_shared_name_is_held_by_every_device_and_refused_to_others_until_the_last_device_leaves()
    {
        var phone = await ConnectAsync("name=u-ann");
        var laptop = await _server.ConnectJsonAsync("name=U-Ann");
        Assert.Equal("U-Ann", await laptop.ReadWelcomeNameAsync());
        await laptop.SendJsonAsync(new { type = "ping" });
        await laptop.ExpectAsync("pong"); // no name_taken in between

        // A connection that does not share (here: a text one) cannot take the name, not even from the query.
        await using var other = await _server.ConnectTextAsync("name=u-ann");
        Assert.Contains("welcome guest-", await other.ReceiveAsync());
        Assert.StartsWith("! name_taken", await other.ReceiveAsync());

        await phone.DisposeAsync();
        await other.SendTextAsync("/nick u-ann");
        Assert.StartsWith("! name_taken", await other.ReceiveAsync());

        // The name is free once the server has seen the last device's close, which the client's completed close shows.
        await laptop.DisposeAsync();
        await other.SendTextAsync("/nick u-ann");
        Assert.Contains("you are now u-ann", await other.ReceiveAsync());
    }

    [Fact]
    public async Task A_user_on_two_devices_is_one_member_joining_with_the_first_and_leaving_with_the_last()
    {
        await using var bob = await ConnectAsync("name=bob&room=two");
        await bob.ExpectAsync("joined");

        await using var phone = await ConnectAsync("name=u-cat");
        await phone.SendJsonAsync(new { type = "join", room = "two" });
        await phone.ExpectAsync("joined");
        var join = await bob.ExpectAsync("presence");
        Assert.Equal(("join", "u-cat"), ((string)join["event"]!, (string)join["name"]!));

        var laptop = await ConnectAsync("name=u-cat");
        await laptop.SendJsonAsync(new { type = "join", room = "two" });
        var joined = await laptop.ExpectAsync("joined");
        Assert.Equal(["bob", "u-cat"], joined["members"]!.AsArray().Select(m => (string)m!));
        await ExpectNoPresenceAsync(bob); // the user was already there

        await bob.SendJsonAsync(new { type = "who", room = "two" });
        Assert.Equal(["bob", "u-cat"], (await bob.ExpectAsync("members"))["members"]!.AsArray().Select(m => (string)m!));

        // Both devices get the room's messages.
        await bob.SendJsonAsync(new { type = "say", room = "two", text = "hi cat" });
        Assert.Equal("hi cat", (string?)(await phone.ExpectAsync("message"))["text"]);
        Assert.Equal("hi cat", (string?)(await laptop.ExpectAsync("message"))["text"]);
        await bob.ExpectAsync("message");
        await bob.ExpectAsync("ack");

        await phone.SendJsonAsync(new { type = "leave", room = "two" });
        await phone.ExpectAsync("left");
        await ExpectNoPresenceAsync(bob); // the laptop is still there

        await laptop.DisposeAsync(); // the last device goes
        var leave = await bob.ExpectAsync("presence");
        Assert.Equal(("leave", "u-cat"), ((string)leave["event"]!, (string)leave["name"]!));
        await bob.SendJsonAsync(new { type = "who", room = "two" });
        Assert.Equal(["bob"], (await bob.ExpectAsync("members"))["members"]!.AsArray().Select(m => (string)m!));
    }

    [Fact]
    public async Task A_dm_reaches_every_device_of_the_user_and_every_device_of_the_sender()
    {
        await using var bob = await ConnectAsync("name=bob");
        await using var phone = await ConnectAsync("name=u-dan");
        await using var laptop = await ConnectAsync("name=u-dan");

        await bob.SendJsonAsync(new { type = "dm", to = "u-dan", text = "to both", @ref = "b1" });
        Assert.Equal("to both", (string?)(await phone.ExpectAsync("dm"))["text"]);
        Assert.Equal("to both", (string?)(await laptop.ExpectAsync("dm"))["text"]);
        Assert.Equal("to both", (string?)(await bob.ExpectAsync("dm"))["text"]);
        Assert.Equal("b1", (string?)(await bob.ExpectAsync("ack"))["ref"]);

        await phone.SendJsonAsync(new { type = "dm", to = "bob", text = "from the phone", @ref = "p1" });
        var received = await bob.ExpectAsync("dm");
        Assert.Equal(("u-dan", "bob"), ((string)received["from"]!, (string)received["to"]!));
        Assert.Equal("from the phone", (string?)(await phone.ExpectAsync("dm"))["text"]);
        Assert.Equal("p1", (string?)(await phone.ExpectAsync("ack"))["ref"]);
        Assert.Equal("from the phone", (string?)(await laptop.ExpectAsync("dm"))["text"]); // the sender's other device
        await laptop.SendJsonAsync(new { type = "ping" });
        await laptop.ExpectAsync("pong"); // and no ack: that went to the phone alone

        // The user's resend of the same ref from the other device is the same DM: acked, not delivered again.
        await laptop.SendJsonAsync(new { type = "dm", to = "bob", text = "from the phone", @ref = "p1" });
        Assert.Equal("p1", (string?)(await laptop.ExpectAsync("ack"))["ref"]);
        await ExpectNoPresenceAsync(bob, expected: "pong");
    }

    [Fact]
    public async Task A_device_that_takes_another_name_joins_under_it_while_the_user_stays_on_the_other_device()
    {
        await using var bob = await ConnectAsync("name=bob&room=nick");
        await bob.ExpectAsync("joined");
        await using var phone = await ConnectAsync("name=u-dan&room=nick");
        await phone.ExpectAsync("joined");
        await using var laptop = await ConnectAsync("name=u-dan&room=nick");
        await laptop.ExpectAsync("joined");
        Assert.Equal("join", (string?)(await bob.ExpectAsync("presence"))["event"]);

        // The laptop becomes someone else: u-dan is still here on the phone, so others see u-eve join, not a rename.
        await laptop.SendJsonAsync(new { type = "nick", name = "u-eve" });
        await laptop.ExpectAsync("nick");
        var presence = await bob.ExpectAsync("presence");
        Assert.Equal(("join", "u-eve"), ((string)presence["event"]!, (string)presence["name"]!));
        await bob.SendJsonAsync(new { type = "who", room = "nick" });
        Assert.Equal(["bob", "u-dan", "u-eve"], (await bob.ExpectAsync("members"))["members"]!.AsArray().Select(m => (string)m!));

        // The phone leaves: the last of u-dan.
        await phone.SendJsonAsync(new { type = "leave", room = "nick" });
        presence = await bob.ExpectAsync("presence");
        Assert.Equal(("leave", "u-dan"), ((string)presence["event"]!, (string)presence["name"]!));
        await bob.SendJsonAsync(new { type = "who", room = "nick" });
        Assert.Equal(["bob", "u-eve"], (await bob.ExpectAsync("members"))["members"]!.AsArray().Select(m => (string)m!));
    }

    /// <summary>
    /// Everything a room or another connection queued for <paramref name="client"/> before now is ahead of the pong:
    /// the next frame being the pong shows nothing else was queued.
    /// </summary>
    private static async Task ExpectNoPresenceAsync(WsClient client, string expected = "pong")
    {
        await client.SendJsonAsync(new { type = "ping", @ref = "check" });
        var next = await client.NextAsync();
        Assert.True((string?)next["type"] == expected, $"expected only the {expected}, got {next.ToJsonString()}");
    }
}
