using ChatHub.Server.Backplane.Redis;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Cluster;

/// <summary>Two independent Redis instances as shards: rooms and names spread over both, chat unchanged.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ShardingTests
{
    [Fact]
    public async Task Rooms_and_names_spread_over_two_redis_shards_and_chat_across_nodes_still_works()
    {
        await using var first = await RedisServer.StartAsync();
        await using var second = await RedisServer.StartAsync();
        string shards = $"{first.Configuration};{second.Configuration}";
        await using var cluster = await ClusterNodes.StartAsync(2, shards);

        var rooms = Enumerable.Range(0, 12).Select(i => $"room{i}").ToArray();
        await using var ann = await cluster[0].ConnectJsonAsync("name=ann");
        await using var bob = await cluster[1].ConnectJsonAsync("name=bob");
        await ann.ExpectAsync("welcome");
        await bob.ExpectAsync("welcome");
        foreach (string room in rooms)
        {
            await ann.SendJsonAsync(new { type = "join", room });
            await ann.WaitForAsync("joined");
            await bob.SendJsonAsync(new { type = "join", room });
            await bob.WaitForAsync("joined");
            await ann.SendJsonAsync(new { type = "say", room, text = $"in {room}" });
            await ann.WaitForAsync("ack");
            var message = await bob.WaitForAsync("message");
            Assert.Equal((room, 1L), ((string)message["room"]!, (long)message["seq"]!));
        }

        // Each room's keys are on the shard the consistent hash names, and both shards hold some.
        var placement = rooms.GroupBy(room => ShardOf(room, 2)).ToDictionary(g => g.Key, g => g.ToArray());
        Assert.Equal(2, placement.Count);
        var servers = new[] { first, second };
        foreach (var (shard, held) in placement)
        {
            foreach (string room in held)
            {
                Assert.Equal("1", await servers[shard].CliAsync("GET", $"chathub:{{{room}}}:seq"));
                Assert.Equal("", await servers[1 - shard].CliAsync("GET", $"chathub:{{{room}}}:seq"));
            }
        }

        await ann.SendJsonAsync(new { type = "rooms" });
        Assert.Equal(rooms.Order(StringComparer.Ordinal), (await ann.WaitForAsync("rooms"))["rooms"]!.AsArray().Select(r => (string)r!["room"]!));
        await ann.SendJsonAsync(new { type = "dm", to = "bob", text = "across shards" });
        Assert.Equal("across shards", (string)(await bob.WaitForAsync("dm"))["text"]!);
    }

    private static int ShardOf(string room, int shards) =>
        RedisShards.JumpHash(System.IO.Hashing.XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes("r:" + room)), shards);
}
