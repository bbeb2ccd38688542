using System.Text.Json.Nodes;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Cluster;

/// <summary>Three real nodes over one real Redis: one room spans them, with every promise of one node.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterChatTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private ClusterNodes _cluster = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _cluster = await ClusterNodes.StartAsync(3, _redis.Configuration, "Limits:MessagesPerSecond=100000", "Limits:MessageBurst=100000");
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Concurrent_senders_on_three_nodes_give_every_member_one_identical_gapless_order()
    {
        const int perSender = 60;
        var members = new List<WsClient>();
        for (int i = 0; i < 6; i++)
        {
            var client = await _cluster[i % 3].ConnectJsonAsync($"name=m{i}&room=span");
            await client.ExpectAsync("welcome");
            await client.ExpectAsync("joined");
            members.Add(client);
        }

        // Three senders, one per node, all at once.
        await Task.WhenAll(Enumerable.Range(0, 3).Select(s => Task.Run(async () =>
        {
            for (int i = 0; i < perSender; i++)
            {
                await members[s].SendJsonAsync(new { type = "say", room = "span", text = $"s{s}-{i}", @ref = $"r{i}" });
            }
        })));

        var orders = await Task.WhenAll(members.Select(async member =>
        {
            var seen = new List<(long Seq, string Text)>();
            while (seen.Count < 3 * perSender)
            {
                var frame = await member.NextAsync();
                if ((string)frame["type"]! == "message")
                {
                    seen.Add(((long)frame["seq"]!, (string)frame["text"]!));
                }
            }

            return seen;
        }));

        Assert.Equal(Enumerable.Range(1, 3 * perSender).Select(i => (long)i), orders[0].Select(m => m.Seq));
        foreach (var order in orders)
        {
            Assert.Equal(orders[0], order);
        }

        // Each sender's own messages keep the order it sent them in.
        for (int s = 0; s < 3; s++)
        {
            Assert.Equal(Enumerable.Range(0, perSender).Select(i => $"s{s}-{i}"),
                orders[0].Where(m => m.Text.StartsWith($"s{s}-", StringComparison.Ordinal)).Select(m => m.Text));
        }

        foreach (var member in members)
        {
            await member.DisposeAsync();
        }
    }

    [Fact]
    public async Task Say_is_acked_after_its_message_and_a_resent_ref_on_another_node_gets_the_first_seq()
    {
        await using var ann = await _cluster[0].ConnectJsonAsync("name=ann&room=acks");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await ann.SendJsonAsync(new { type = "say", room = "acks", text = "hello", @ref = "c-1" });
        var message = await ann.ExpectAsync("message");
        var ack = await ann.ExpectAsync("ack");
        Assert.Equal((long)message["seq"]!, (long)ack["seq"]!);

        // The same name reconnects to another node and resends what it was not sure of.
        await ann.DisposeAsync();
        await using var again = await ConnectWhenFreeAsync(_cluster[1], "name=ann&room=acks");
        await again.SendJsonAsync(new { type = "say", room = "acks", text = "hello", @ref = "c-1" });
        Assert.Equal((long)ack["seq"]!, (long)(await again.WaitForAsync("ack"))["seq"]!);
        await again.SendJsonAsync(new { type = "history", room = "acks" });
        Assert.Single((await again.WaitForAsync("history"))["messages"]!.AsArray());
    }

    [Fact]
    public async Task Names_are_unique_across_nodes_under_concurrent_claims()
    {
        var clients = await Task.WhenAll(Enumerable.Range(0, 9).Select(i => _cluster[i % 3].ConnectJsonAsync("name=Zed")));
        var welcomes = await Task.WhenAll(clients.Select(c => c.ExpectAsync("welcome")));
        Assert.Single(welcomes, w => (string)w["name"]! == "Zed");
        Assert.Equal(8, welcomes.Count(w => ((string)w["name"]!).StartsWith("guest-", StringComparison.Ordinal)));

        // Case does not make a different name, on any node.
        await using var other = await _cluster[2].ConnectJsonAsync();
        await other.ExpectAsync("welcome");
        await other.SendJsonAsync(new { type = "nick", name = "zED" });
        Assert.Equal("name_taken", (string)(await other.ExpectAsync("error"))["code"]!);

        // Freed on disconnect, cluster-wide.
        var holder = clients[Array.FindIndex(welcomes, w => (string)w["name"]! == "Zed")];
        await holder.DisposeAsync();
        await other.SendJsonAsync(new { type = "nick", name = "zED" });
        Assert.Equal("zED", (string)(await WaitForNickAsync(other, "zED"))["name"]!);
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_dm_reaches_its_recipient_on_another_node()
    {
        await using var ann = await _cluster[0].ConnectJsonAsync("name=ann");
        await using var bob = await _cluster[2].ConnectJsonAsync("name=Bob");
        await ann.ExpectAsync("welcome");
        await bob.ExpectAsync("welcome");

        await ann.SendJsonAsync(new { type = "dm", to = "bob", text = "psst", @ref = "d1" });
        var received = await bob.ExpectAsync("dm");
        Assert.Equal(("ann", "Bob", "psst"), ((string)received["from"]!, (string)received["to"]!, (string)received["text"]!));
        var echo = await ann.ExpectAsync("dm");
        Assert.Equal("Bob", (string)echo["to"]!);
        Assert.Equal("d1", (string)(await ann.ExpectAsync("ack"))["ref"]!);

        await ann.SendJsonAsync(new { type = "dm", to = "nobody", text = "hello?" });
        Assert.Equal("no_such_user", (string)(await ann.ExpectAsync("error"))["code"]!);
    }

    [Fact]
    public async Task Who_rooms_and_presence_are_cluster_wide()
    {
        await using var ann = await _cluster[0].ConnectJsonAsync("name=ann&room=wide");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await using var bob = await _cluster[1].ConnectJsonAsync("name=bob&room=wide");
        await bob.ExpectAsync("welcome");
        var joined = await bob.ExpectAsync("joined");
        Assert.Equal(["ann", "bob"], joined["members"]!.AsArray().Select(n => (string)n!));

        var presence = await ann.ExpectAsync("presence");
        Assert.Equal(("bob", "join"), ((string)presence["name"]!, (string)presence["event"]!));

        await using var cid = await _cluster[2].ConnectJsonAsync("name=cid");
        await cid.ExpectAsync("welcome");
        await cid.SendJsonAsync(new { type = "who", room = "wide" });
        Assert.Equal(["ann", "bob"], (await cid.ExpectAsync("members"))["members"]!.AsArray().Select(n => (string)n!));
        await cid.SendJsonAsync(new { type = "rooms" });
        var rooms = (await cid.ExpectAsync("rooms"))["rooms"]!.AsArray();
        Assert.Contains(rooms, r => (string)r!["room"]! == "wide" && (int)r["members"]! == 2);

        using var http = new HttpClient { BaseAddress = _cluster[2].BaseAddress };
        Assert.Contains("\"room\":\"wide\",\"members\":2", await http.GetStringAsync("/api/rooms"));

        await bob.SendJsonAsync(new { type = "nick", name = "robert" });
        var rename = await ann.ExpectAsync("presence");
        Assert.Equal(("bob", "rename", "robert"), ((string)rename["name"]!, (string)rename["event"]!, (string)rename["to"]!));

        await bob.DisposeAsync();
        var leave = await ann.ExpectAsync("presence");
        Assert.Equal(("robert", "leave"), ((string)leave["name"]!, (string)leave["event"]!));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_nick_and_a_join_sent_together_put_the_new_name_in_the_room(bool nickFirst)
    {
        // A cluster's name claim and room join are each a Redis round trip. Nick first: the join must not go out
        // under the old name while the claim is away. Join first: the rename reaches the room while its membership
        // still works on the join, and must still be made.
        string room = nickFirst ? "swap1" : "swap2";
        await using var ann = await _cluster[0].ConnectJsonAsync($"name=ann&room={room}");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        for (int i = 0; i < 5; i++)
        {
            await using var guest = await _cluster[1].ConnectJsonAsync();
            await guest.ExpectAsync("welcome");
            string wanted = $"late{i}";
            object nick = new { type = "nick", name = wanted };
            object join = new { type = "join", room };
            await guest.SendJsonAsync(nickFirst ? nick : join);
            await guest.SendJsonAsync(nickFirst ? join : nick);
            JsonObject? joined = null;
            for (bool nicked = false; !nicked || joined is null;)
            {
                var frame = await guest.NextAsync();
                nicked |= (string)frame["type"]! == "nick";
                joined ??= (string)frame["type"]! == "joined" ? frame : null;
            }

            // Everyone sees the member under the name it now has: its own joined list, who on either node, and the
            // leave that follows.
            Assert.Equal(["ann", wanted], joined["members"]!.AsArray().Select(n => (string)n!));
            await guest.SendJsonAsync(new { type = "who", room });
            Assert.Equal(["ann", wanted], (await guest.ExpectAsync("members"))["members"]!.AsArray().Select(n => (string)n!));
            await ann.SendJsonAsync(new { type = "who", room });
            Assert.Equal(["ann", wanted], (await ann.WaitForAsync("members"))["members"]!.AsArray().Select(n => (string)n!));

            await guest.DisposeAsync();
            var leave = await ann.WaitForAsync("presence", p => (string)p["event"]! == "leave");
            Assert.Equal(wanted, (string)leave["name"]!);
        }
    }

    [Fact]
    public async Task Join_with_since_on_another_node_resumes_without_loss()
    {
        await using var ann = await _cluster[0].ConnectJsonAsync("name=ann&room=resume");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        for (int i = 1; i <= 5; i++)
        {
            await ann.SendJsonAsync(new { type = "say", room = "resume", text = $"t{i}" });
            await ann.WaitForAsync("ack");
        }

        await using var bob = await _cluster[1].ConnectJsonAsync("name=bob");
        await bob.ExpectAsync("welcome");
        await bob.SendJsonAsync(new { type = "join", room = "resume", since = 2 });
        var joined = await bob.ExpectAsync("joined");
        Assert.Equal([3L, 4L, 5L], joined["history"]!.AsArray().Select(m => (long)m!["seq"]!));
        Assert.False((bool)joined["truncated"]!);
    }

    [Fact]
    public async Task A_lost_publish_is_filled_from_the_stream_before_later_messages()
    {
        await using var ann = await _cluster[0].ConnectJsonAsync("name=ann&room=lossy");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await using var bob = await _cluster[1].ConnectJsonAsync("name=bob&room=lossy");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");

        // Node 1 loses the next publish it receives, as pub/sub may.
        var bus = (ChatHub.Server.Backplane.Redis.RedisRoomBus)_cluster[1].App.Services.GetService(typeof(ChatHub.Server.Backplane.IRoomBus))!;
        Interlocked.Exchange(ref bus.DropNextMessages, 1);
        await ann.SendJsonAsync(new { type = "say", room = "lossy", text = "lost on the wire" });
        await ann.WaitForAsync("ack");
        await ann.SendJsonAsync(new { type = "say", room = "lossy", text = "after it" });
        await ann.WaitForAsync("ack");

        var first = await bob.WaitForAsync("message");
        var second = await bob.WaitForAsync("message");
        Assert.Equal((1L, "lost on the wire"), ((long)first["seq"]!, (string)first["text"]!));
        Assert.Equal((2L, "after it"), ((long)second["seq"]!, (string)second["text"]!));
        Assert.Equal(0, Volatile.Read(ref bus.DropNextMessages));
    }

    [Fact]
    public async Task A_lost_last_publish_reaches_the_member_without_a_later_message()
    {
        // A short NodeTimeout: the heartbeat, and with it the check for rooms behind Redis, runs every second.
        await using var cluster = await ClusterNodes.StartAsync(2, _redis.Configuration,
            "Cluster:NodeTimeout=00:00:03", "Cluster:OperationTimeout=00:00:02");
        await using var ann = await cluster[0].ConnectJsonAsync("name=ann&room=quiet");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await using var bob = await cluster[1].ConnectJsonAsync("name=bob&room=quiet");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");

        // Node 1 loses the publish of the room's last message; nothing is said after it.
        var bus = (ChatHub.Server.Backplane.Redis.RedisRoomBus)cluster[1].App.Services.GetService(typeof(ChatHub.Server.Backplane.IRoomBus))!;
        Interlocked.Exchange(ref bus.DropNextMessages, 1);
        await ann.SendJsonAsync(new { type = "say", room = "quiet", text = "the last word" });
        await ann.WaitForAsync("ack");

        var message = await bob.WaitForAsync("message");
        Assert.Equal((1L, "the last word"), ((long)message["seq"]!, (string)message["text"]!));
        Assert.Equal(0, Volatile.Read(ref bus.DropNextMessages));
    }

    private static async Task<WsClient> ConnectWhenFreeAsync(TestServer node, string query)
    {
        // The old connection's name is released when the node has seen it go; until then a join gives a guest name.
        for (int attempt = 0; ; attempt++)
        {
            var client = await node.ConnectJsonAsync(query);
            var welcome = await client.ExpectAsync("welcome");
            if (!((string)welcome["name"]!).StartsWith("guest-", StringComparison.Ordinal))
            {
                await client.ExpectAsync("joined");
                return client;
            }

            await client.DisposeAsync();
            if (attempt > 50)
            {
                throw new InvalidOperationException("the name never became free");
            }
        }
    }

    private static async Task<JsonObject> WaitForNickAsync(WsClient client, string name)
    {
        // The first nick may still meet the old holder if its disconnect is in flight: retry on name_taken.
        while (true)
        {
            var frame = await client.NextAsync();
            if ((string)frame["type"]! == "nick")
            {
                return frame;
            }

            if ((string)frame["type"]! == "error" && (string)frame["code"]! == "name_taken")
            {
                await client.SendJsonAsync(new { type = "nick", name });
            }
        }
    }
}
