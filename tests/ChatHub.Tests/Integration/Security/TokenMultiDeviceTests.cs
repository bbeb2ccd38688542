using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration.Security;

/// <summary>
/// With tokens a user is who the token says: one sub may hold several connections (devices) at once. (Without tokens
/// names stay first-come, one connection each: ErrorTests.Names_are_unique_without_case.)
/// </summary>
public sealed class TokenMultiDeviceTests : IDisposable
{
    private readonly TestTokens _tokens = new();

    public void Dispose() => _tokens.Dispose();

    [Fact]
    public async Task Two_devices_of_one_user_are_both_in_the_room_and_presence_shows_the_user_once()
    {
        await using var server = await TestServer.StartAsync(_tokens.ServerSettings());
        await using var bob = await server.ConnectJsonAsync($"token={_tokens.Hs256("bob")}&room=lobby");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");

        await using var phone = await server.ConnectJsonAsync($"token={_tokens.Hs256("ann")}&room=lobby");
        Assert.Equal("ann", await phone.ReadWelcomeNameAsync());
        await phone.ExpectAsync("joined");
        Assert.Equal("ann", (string?)(await bob.WaitForAsync("presence", f => (string?)f["event"] == "join"))["name"]);

        await using var laptop = await server.ConnectJsonAsync($"token={_tokens.Hs256("ann")}&room=lobby");
        Assert.Equal("ann", await laptop.ReadWelcomeNameAsync()); // not name_taken, not a guest
        var joined = await laptop.ExpectAsync("joined");
        Assert.Equal(["ann", "bob"], joined["members"]!.AsArray().Select(n => (string?)n).Order());

        // The second device caused no second join: the next thing bob sees is the message.
        await laptop.SendJsonAsync(new { type = "say", room = "lobby", text = "from the laptop" });
        var next = await bob.NextAsync();
        Assert.Equal("message", (string?)next["type"]);
        Assert.Equal("ann", (string?)next["from"]);
        Assert.Equal("from the laptop", (string?)(await phone.WaitForAsync("message"))["text"]);

        await bob.SendJsonAsync(new { type = "who", room = "lobby" });
        Assert.Equal(["ann", "bob"], (await bob.WaitForAsync("members"))["members"]!.AsArray().Select(n => (string?)n).Order());

        // The phone leaves: ann is still in the room (laptop), so no leave yet.
        await phone.DisposeAsync();
        await laptop.SendJsonAsync(new { type = "say", room = "lobby", text = "still here" });
        next = await bob.NextAsync();
        Assert.Equal("message", (string?)next["type"]);
        Assert.Equal("still here", (string?)next["text"]);

        // The last device leaves: now bob sees ann leave.
        await laptop.DisposeAsync();
        var leave = await bob.WaitForAsync("presence");
        Assert.Equal(("leave", "ann"), ((string?)leave["event"], (string?)leave["name"]));
    }

    [Fact]
    public async Task A_dm_reaches_every_device_of_the_user()
    {
        await using var server = await TestServer.StartAsync(_tokens.ServerSettings());
        await using var phone = await server.ConnectJsonAsync($"token={_tokens.Hs256("ann")}");
        await using var laptop = await server.ConnectJsonAsync($"token={_tokens.Hs256("ann")}");
        await using var bob = await server.ConnectJsonAsync($"token={_tokens.Hs256("bob")}");
        await phone.ExpectAsync("welcome");
        await laptop.ExpectAsync("welcome");
        await bob.ExpectAsync("welcome");

        await bob.SendJsonAsync(new { type = "dm", to = "ann", text = "to all your devices", @ref = "d1" });
        Assert.Equal("to all your devices", (string?)(await phone.ExpectAsync("dm"))["text"]);
        Assert.Equal("to all your devices", (string?)(await laptop.ExpectAsync("dm"))["text"]);
        Assert.Equal("d1", (string?)(await bob.WaitForAsync("ack"))["ref"]);
    }
}
