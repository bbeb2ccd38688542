using System.Net;
using ChatHub.Server.Backplane;
using ChatHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatHub.Tests.Cluster;

/// <summary>
/// One user on several devices in a cluster: the devices share the name on the node that claimed it first, are one
/// member of a room, and all get the user's DMs from any node. The nodes use tokens, and devices of a user are
/// connections with tokens of the same <c>sub</c>. With tokens on a device can never take another name; the
/// membership's side of a device renaming while the user stays is covered by the backplane contract tests.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterMultiDeviceTests : IAsyncLifetime
{
    private readonly TestTokens _tokens = new();
    private RedisServer _redis = null!;
    private ClusterNodes _cluster = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _cluster = await ClusterNodes.StartAsync(2, _redis.Configuration, _tokens.ServerSettings());
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _redis.DisposeAsync();
        _tokens.Dispose();
    }

    private Task<WsClient> ConnectAsync(int node, string user, string query = "") =>
        _cluster[node].ConnectJsonAsync($"token={_tokens.Hs256(user)}{(query.Length == 0 ? "" : "&" + query)}");

    [Fact]
    public async Task Devices_on_one_node_share_the_name_get_every_dm_and_are_one_member()
    {
        await using var phone = await ConnectAsync(0, "ann");
        Assert.Equal("ann", await phone.ReadWelcomeNameAsync());
        await using var laptop = await ConnectAsync(0, "ann");
        Assert.Equal("ann", await laptop.ReadWelcomeNameAsync());
        await laptop.SendJsonAsync(new { type = "ping" });
        await laptop.ExpectAsync("pong"); // no name_taken in between

        // A DM from another node reaches both devices.
        await using var bob = await ConnectAsync(1, "bob");
        await bob.ExpectAsync("welcome");
        await bob.SendJsonAsync(new { type = "dm", to = "ann", text = "to every device", @ref = "d1" });
        Assert.Equal("to every device", (string?)(await phone.ExpectAsync("dm"))["text"]);
        Assert.Equal("to every device", (string?)(await laptop.ExpectAsync("dm"))["text"]);
        await bob.WaitForAsync("ack");

        // A DM the phone sends shows on the laptop too.
        await phone.SendJsonAsync(new { type = "dm", to = "bob", text = "from the phone", @ref = "p1" });
        Assert.Equal("from the phone", (string?)(await bob.ExpectAsync("dm"))["text"]);
        Assert.Equal("from the phone", (string?)(await laptop.ExpectAsync("dm"))["text"]);

        // Two devices in a room are one member, cluster-wide.
        await phone.SendJsonAsync(new { type = "join", room = "both" });
        await phone.WaitForAsync("joined");
        await laptop.SendJsonAsync(new { type = "join", room = "both" });
        var joined = await laptop.WaitForAsync("joined");
        Assert.Equal(["ann"], joined["members"]!.AsArray().Select(m => (string)m!));
        await bob.SendJsonAsync(new { type = "who", room = "both" });
        Assert.Equal(["ann"], (await bob.WaitForAsync("members"))["members"]!.AsArray().Select(m => (string)m!));

        // With the phone gone the laptop still holds the name and gets DMs.
        await phone.DisposeAsync();
        await bob.SendJsonAsync(new { type = "dm", to = "ann", text = "still there?", @ref = "d2" });
        Assert.Equal("still there?", (string?)(await laptop.WaitForAsync("dm"))["text"]);
        Assert.Equal("d2", (string?)(await bob.WaitForAsync("ack"))["ref"]);
    }

    [Fact]
    public async Task Devices_on_two_nodes_share_the_name_each_get_every_dm_and_are_one_member_until_the_last_goes()
    {
        await using var bob = await ConnectAsync(0, "bob", "room=both");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");
        var phone = await ConnectAsync(0, "ann", "room=both");
        Assert.Equal("ann", await phone.ReadWelcomeNameAsync());
        await phone.ExpectAsync("joined");
        Assert.Equal(("join", "ann"), Presence(await bob.ExpectAsync("presence")));
        var laptop = await ConnectAsync(1, "ann", "room=both");
        Assert.Equal("ann", await laptop.ReadWelcomeNameAsync());
        Assert.Equal(["ann", "bob"], (await laptop.ExpectAsync("joined"))["members"]!.AsArray().Select(m => (string)m!).Order(StringComparer.Ordinal));

        // A DM from node 0, where a device of ann is too, still reaches her device on node 1.
        await bob.SendJsonAsync(new { type = "dm", to = "ann", text = "to every device", @ref = "d1" });
        Assert.Equal("to every device", (string?)(await phone.ExpectAsync("dm"))["text"]);
        Assert.Equal("to every device", (string?)(await laptop.ExpectAsync("dm"))["text"]);
        // The laptop's join made no second presence: bob's next frames are his own DM and its ack.
        Assert.Equal("to every device", (string?)(await bob.ExpectAsync("dm"))["text"]);
        Assert.Equal("d1", (string?)(await bob.ExpectAsync("ack"))["ref"]);

        // The phone goes: node 1 still holds the name, and ann is still in the room.
        await phone.DisposeAsync();
        await bob.SendJsonAsync(new { type = "dm", to = "ann", text = "still there?", @ref = "d2" });
        Assert.Equal("still there?", (string?)(await laptop.ExpectAsync("dm"))["text"]);
        Assert.Equal("still there?", (string?)(await bob.ExpectAsync("dm"))["text"]);
        Assert.Equal("d2", (string?)(await bob.ExpectAsync("ack"))["ref"]);

        // The last device goes: ann leaves the room and the name is free on every node.
        await laptop.DisposeAsync();
        Assert.Equal(("leave", "ann"), Presence(await bob.ExpectAsync("presence")));
        await bob.SendJsonAsync(new { type = "dm", to = "ann", text = "gone?", @ref = "d3" });
        var error = await bob.ExpectAsync("error");
        Assert.Equal(("no_such_user", "d3"), ((string?)error["code"], (string?)error["ref"]));
    }

    [Fact]
    public async Task A_token_users_device_finding_the_name_held_without_a_token_on_another_node_is_told_and_closed()
    {
        // A node without tokens in the same cluster (a misconfiguration): its connections hold names alone.
        await using var open = await TestServer.StartAsync($"Redis={_redis.Configuration}");
        await using var impostor = await open.ConnectJsonAsync("name=ann");
        Assert.Equal("ann", await impostor.ReadWelcomeNameAsync());

        await using var device = await ConnectAsync(0, "ann");
        Assert.Equal("ann", await device.ReadWelcomeNameAsync());
        Assert.Equal("name_taken", (string?)(await device.ExpectAsync("error"))["code"]);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, await device.ReceiveCloseAsync());

        // The holder keeps its name.
        await using var bob = await ConnectAsync(1, "bob");
        await bob.ExpectAsync("welcome");
        await bob.SendJsonAsync(new { type = "dm", to = "ann", text = "who are you?", @ref = "d1" });
        Assert.Equal("who are you?", (string?)(await impostor.ExpectAsync("dm"))["text"]);
        Assert.Equal("d1", (string?)(await bob.WaitForAsync("ack"))["ref"]);
    }

    [Fact]
    public async Task A_token_user_connecting_while_redis_is_away_keeps_the_name_and_it_is_claimed_when_redis_is_back()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await ClusterNodes.StartAsync(2, redis.Configuration, _tokens.ServerSettings("Cluster:OperationTimeout=00:00:01"));
        await redis.KillAsync();
        using var http = new HttpClient { BaseAddress = cluster[0].BaseAddress };
        await WaitForStatusAsync(http, HttpStatusCode.ServiceUnavailable);

        // The token says who this is: no guest name and no error, although the name could not be claimed in Redis.
        await using var phone = await cluster[0].ConnectJsonAsync($"token={_tokens.Hs256("ann")}");
        Assert.Equal("ann", await phone.ReadWelcomeNameAsync());
        await phone.SendJsonAsync(new { type = "ping" });
        await phone.ExpectAsync("pong");

        await redis.StartAgainAsync();
        // The resync after the link comes back has no event a client sees: poll Redis's record of the name, within a bound.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(await redis.CliAsync("HGET", "chathub:name:ann", NodeOf(cluster[0]))).StartsWith('1'))
        {
            Assert.True(DateTime.UtcNow < deadline, "the name was never claimed in Redis after it came back");
            await Task.Delay(50);
        }

        // Nor has the node's re-subscription to its DM channel (a DM published before it is lost, as pub/sub is).
        while ((await redis.CliAsync("PUBSUB", "NUMSUB", "chathub:node:" + NodeOf(cluster[0]))).Split('\n')[^1].Trim() == "0")
        {
            Assert.True(DateTime.UtcNow < deadline, "the node never subscribed to its DM channel again");
            await Task.Delay(50);
        }

        // So a DM from another node finds the device, once that node's own link is back too (until then its DM is
        // answered `unavailable`, and the device rightly gets nothing).
        using var http1 = new HttpClient { BaseAddress = cluster[1].BaseAddress };
        await WaitForStatusAsync(http1, HttpStatusCode.OK);
        await using var bob = await cluster[1].ConnectJsonAsync($"token={_tokens.Hs256("bob")}");
        await bob.ExpectAsync("welcome");
        await bob.SendJsonAsync(new { type = "dm", to = "ann", text = "back?", @ref = "d1" });
        Assert.Equal("back?", (string?)(await phone.ExpectAsync("dm"))["text"]);
        Assert.Equal("d1", (string?)(await bob.WaitForAsync("ack"))["ref"]);
    }

    [Fact]
    public async Task A_device_cannot_take_another_name_and_the_user_stays_one_member_cluster_wide()
    {
        await using var bob = await ConnectAsync(1, "bob", "room=nick");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");
        await using var phone = await ConnectAsync(0, "dan", "room=nick");
        await phone.ExpectAsync("welcome");
        await phone.ExpectAsync("joined");
        await using var laptop = await ConnectAsync(0, "dan", "room=nick");
        await laptop.ExpectAsync("welcome");
        await laptop.ExpectAsync("joined");
        Assert.Equal(("join", "dan"), Presence(await bob.ExpectAsync("presence")));

        await laptop.SendJsonAsync(new { type = "nick", name = "eve", @ref = "n1" });
        var error = await laptop.ExpectAsync("error");
        Assert.Equal(("invalid_name", "n1"), ((string?)error["code"], (string?)error["ref"]));
        await bob.SendJsonAsync(new { type = "who", room = "nick" });
        Assert.Equal(["bob", "dan"], (await bob.ExpectAsync("members"))["members"]!.AsArray().Select(m => (string)m!));

        // The phone leaves: the laptop is still there, so no presence comes before the laptop's message.
        await phone.SendJsonAsync(new { type = "leave", room = "nick" });
        await phone.ExpectAsync("left");
        await laptop.SendJsonAsync(new { type = "say", room = "nick", text = "still here" });
        Assert.Equal("still here", (string?)(await bob.ExpectAsync("message"))["text"]);

        // The laptop leaves: the last of dan.
        await laptop.SendJsonAsync(new { type = "leave", room = "nick" });
        await laptop.WaitForAsync("left"); // after its own message and ack
        Assert.Equal(("leave", "dan"), Presence(await bob.ExpectAsync("presence")));
    }

    private static string NodeOf(TestServer server) => server.App.Services.GetRequiredService<NodeIdentity>().Id;

    private static async Task WaitForStatusAsync(HttpClient http, HttpStatusCode status)
    {
        // Readiness has no event to await: poll it, briefly, within a bound.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await http.GetAsync("/readyz")).StatusCode != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"/readyz never answered {(int)status}");
            await Task.Delay(50);
        }
    }

    private static (string Event, string Name) Presence(System.Text.Json.Nodes.JsonObject frame) =>
        ((string)frame["event"]!, (string)frame["name"]!);
}
