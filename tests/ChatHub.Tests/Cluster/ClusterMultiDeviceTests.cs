using ChatHub.Server.Connections;
using ChatHub.Server.Protocol;
using ChatHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatHub.Tests.Cluster;

/// <summary>
/// One user on several devices in a cluster: the devices share the name on the node that claimed it first, are one
/// member of a room, and all get the user's DMs from any node. JSON connections asking for a <c>u-</c> name share
/// (the runner's test seam, as in the one-node tests).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterMultiDeviceTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private ClusterNodes _cluster = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _cluster = await ClusterNodes.StartAsync(2, _redis.Configuration);
        foreach (var node in _cluster.Nodes)
        {
            node.App.Services.GetRequiredService<ConnectionRunner>().ShareNameHook =
                connect => connect.Format == WireFormat.Json && connect.Name?.StartsWith("u-", StringComparison.OrdinalIgnoreCase) == true;
        }
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Devices_on_one_node_share_the_name_get_every_dm_and_are_one_member()
    {
        await using var phone = await _cluster[0].ConnectJsonAsync("name=u-ann");
        Assert.Equal("u-ann", await phone.ReadWelcomeNameAsync());
        await using var laptop = await _cluster[0].ConnectJsonAsync("name=u-ann");
        Assert.Equal("u-ann", await laptop.ReadWelcomeNameAsync());
        await laptop.SendJsonAsync(new { type = "ping" });
        await laptop.ExpectAsync("pong"); // no name_taken in between

        // The name is held in Redis by node 0: a device on node 1 is a guest.
        await using var elsewhere = await _cluster[1].ConnectJsonAsync("name=u-ann");
        Assert.StartsWith("guest-", await elsewhere.ReadWelcomeNameAsync());
        Assert.Equal("name_taken", (string?)(await elsewhere.ExpectAsync("error"))["code"]);

        // A DM from another node reaches both devices.
        await using var bob = await _cluster[1].ConnectJsonAsync("name=bob");
        await bob.ExpectAsync("welcome");
        await bob.SendJsonAsync(new { type = "dm", to = "u-ann", text = "to every device", @ref = "d1" });
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
        Assert.Equal(["u-ann"], joined["members"]!.AsArray().Select(m => (string)m!));
        await bob.SendJsonAsync(new { type = "who", room = "both" });
        Assert.Equal(["u-ann"], (await bob.WaitForAsync("members"))["members"]!.AsArray().Select(m => (string)m!));

        // With the phone gone the laptop still holds the name and gets DMs.
        await phone.DisposeAsync();
        await bob.SendJsonAsync(new { type = "dm", to = "u-ann", text = "still there?", @ref = "d2" });
        Assert.Equal("still there?", (string?)(await laptop.WaitForAsync("dm"))["text"]);
        Assert.Equal("d2", (string?)(await bob.WaitForAsync("ack"))["ref"]);
    }

    [Fact]
    public async Task A_device_that_takes_another_name_joins_under_it_while_the_user_stays_on_the_other_device()
    {
        await using var bob = await _cluster[1].ConnectJsonAsync("name=bob&room=nick");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");
        await using var phone = await _cluster[0].ConnectJsonAsync("name=u-dan&room=nick");
        await phone.ExpectAsync("welcome");
        await phone.ExpectAsync("joined");
        await using var laptop = await _cluster[0].ConnectJsonAsync("name=u-dan&room=nick");
        await laptop.ExpectAsync("welcome");
        await laptop.ExpectAsync("joined");
        Assert.Equal(("join", "u-dan"), Presence(await bob.ExpectAsync("presence")));

        await laptop.SendJsonAsync(new { type = "nick", name = "u-eve" });
        await laptop.ExpectAsync("nick");
        Assert.Equal(("join", "u-eve"), Presence(await bob.ExpectAsync("presence")));
        await bob.SendJsonAsync(new { type = "who", room = "nick" });
        Assert.Equal(["bob", "u-dan", "u-eve"], (await bob.ExpectAsync("members"))["members"]!.AsArray().Select(m => (string)m!));

        await phone.SendJsonAsync(new { type = "leave", room = "nick" });
        Assert.Equal(("leave", "u-dan"), Presence(await bob.ExpectAsync("presence")));
    }

    private static (string Event, string Name) Presence(System.Text.Json.Nodes.JsonObject frame) =>
        ((string)frame["event"]!, (string)frame["name"]!);
}
