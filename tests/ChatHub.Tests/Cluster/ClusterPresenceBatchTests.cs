using ChatHub.Tests.Infrastructure;
using ChatHub.Tests.Integration;

namespace ChatHub.Tests.Cluster;

/// <summary>
/// Presence batches across nodes: changes made on other nodes come to a room's actor through the bus
/// (<c>IRoomSink.OnPresence</c>) and are batched like local ones, still ahead of the message that follows them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterPresenceBatchTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private ClusterNodes _cluster = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _cluster = await ClusterNodes.StartAsync(2, _redis.Configuration, "Presence:BatchInterval=00:00:05");
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Changes_on_both_nodes_arrive_in_one_batch_before_the_message_that_follows_them()
    {
        await using var ann = await _cluster[0].ConnectJsonAsync("name=ann&room=span&presence=batch");
        await ann.ExpectAsync("welcome");
        var joined = await ann.ExpectAsync("joined");
        await using var bob = await _cluster[1].ConnectJsonAsync("name=bob&room=span"); // single events
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");

        await using var carol = await _cluster[1].ConnectJsonAsync("name=carol&room=span");
        await carol.ExpectAsync("welcome");
        await carol.ExpectAsync("joined");
        await carol.SendJsonAsync(new { type = "nick", name = "caroline" });
        await carol.WaitForAsync("nick");
        await using (var dave = await _cluster[0].ConnectJsonAsync("name=dave&room=span"))
        {
            await dave.ExpectAsync("welcome");
            await dave.ExpectAsync("joined");
        }

        // bob hears every change of the room before carol's message: the last of them (dave's leave) has reached
        // node 1's actor, so the message carol sends next follows it on the room's channel.
        await bob.WaitForAsync("presence", f => (string?)f["event"] == "leave" && (string?)f["name"] == "dave");
        await carol.SendJsonAsync(new { type = "say", room = "span", text = "hi from node 1" });

        var batch = await ann.ExpectAsync("presence_batch");
        // ann's own join comes back through the bus: it is in this batch when it reached the room after ann was a
        // member, or in none when it came first (docs/protocol.md: a client's own join may be in its batch). Either
        // way every other change is there, in order.
        var changes = PresenceBatchTests.Changes(batch).SkipWhile(c => c == "join ann").ToList();
        Assert.Equal(["join bob", "join carol", "rename carol caroline", "join dave", "leave dave"], changes);
        Assert.Equal(3, (int)batch["memberCount"]!);
        Assert.Equal(["ann", "bob", "caroline"], PresenceBatchTests.Apply(joined, batch));
        var message = await ann.ExpectAsync("message");
        Assert.Equal("caroline", (string?)message["from"]);
    }
}
