using System.Diagnostics;
using System.Net;
using ChatHub.Tests.Deployment;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Cluster;

/// <summary>Nodes dying and Redis going away: bounded, self-healing, and nothing acked is lost.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterFailureTests
{
    [Fact]
    public async Task A_killed_node_disappears_its_members_leave_and_its_names_free_in_bounded_time()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var survivor = await TestServer.StartAsync($"Redis={redis.Configuration}", "Cluster:NodeTimeout=00:00:03");
        using var doomed = await ServerProcess.StartAsync([ServerProcess.ServerDll, "--urls", "http://127.0.0.1:0",
            $"--ChatHub:Redis={redis.Configuration}", "--ChatHub:Cluster:NodeTimeout=00:00:03", "--Serilog:MinimumLevel:Default=Warning"]);

        await using var ann = await survivor.ConnectJsonAsync("name=ann&room=wake");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        var bob = await WsClient.ConnectAsync(doomed.WebSocketUri("format=json&name=bob&room=wake"));
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");
        Assert.Equal("bob", (string)(await ann.ExpectAsync("presence"))["name"]!);

        var clock = Stopwatch.StartNew();
        await doomed.KillAsync();
        var leave = await ann.ExpectAsync("presence");
        clock.Stop();
        Assert.Equal(("bob", "leave"), ((string)leave["name"]!, (string)leave["event"]!));
        // Timeout 3 s, heartbeats every second: gone within the timeout plus one sweep (and slack for a busy box).
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(3 + 1 + 3));

        await using var newBob = await survivor.ConnectJsonAsync("name=bob");
        Assert.Equal("bob", (string)(await newBob.ExpectAsync("welcome"))["name"]!);
        await ann.SendJsonAsync(new { type = "who", room = "wake" });
        Assert.Equal(["ann"], (await ann.ExpectAsync("members"))["members"]!.AsArray().Select(n => (string)n!));
        bob.Socket.Abort();
    }

    [Fact]
    public async Task A_node_removed_as_dead_while_alive_claims_its_names_and_members_back()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await ClusterNodes.StartAsync(2, redis.Configuration,
            "Cluster:NodeTimeout=00:00:03", "Cluster:OperationTimeout=00:00:02");
        await using var ann = await cluster[0].ConnectJsonAsync("name=ann&room=slow");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await using var bob = await cluster[1].ConnectJsonAsync("name=bob&room=slow");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");
        Assert.Equal(("bob", "join"), Presence(await ann.ExpectAsync("presence")));

        // Node 1 keeps running, but the others find its heartbeat run out (as when its CPU was starved for longer
        // than NodeTimeout): its expiry is set in the past and a survivor's sweep runs, as the heartbeat script does.
        string slowNode = ((ChatHub.Server.Backplane.NodeIdentity)cluster[1].App.Services.GetService(typeof(ChatHub.Server.Backplane.NodeIdentity))!).Id;
        Assert.Equal("0", await redis.CliAsync("ZADD", "chathub:nodes", "XX", "0", slowNode));
        string swept = await redis.CliAsync("EVAL", ChatHub.Server.Backplane.Redis.RedisScripts.Heartbeat, "1", "chathub:nodes", "test-sweeper", "-1", "chathub:");
        Assert.Contains(slowNode, swept, StringComparison.Ordinal);
        Assert.Equal(("bob", "leave"), Presence(await ann.ExpectAsync("presence")));
        Assert.Equal("", await redis.CliAsync("HKEYS", "chathub:name:bob"));

        // Node 1's next beat finds itself gone from the node list and re-asserts bob's name and membership.
        Assert.Equal(("bob", "join"), Presence(await ann.ExpectAsync("presence")));
        Assert.Equal(slowNode, await redis.CliAsync("HKEYS", "chathub:name:bob"));
        await ann.SendJsonAsync(new { type = "dm", to = "bob", text = "still there?", @ref = "d1" });
        Assert.Equal("still there?", (string)(await bob.WaitForAsync("dm"))["text"]!);
        await bob.SendJsonAsync(new { type = "say", room = "slow", text = "yes" });
        Assert.Equal("yes", (string)(await ann.WaitForAsync("message"))["text"]!);
    }

    private static (string, string) Presence(System.Text.Json.Nodes.JsonObject frame) => ((string)frame["name"]!, (string)frame["event"]!);

    [Fact]
    public async Task Redis_restarted_mid_chat_loses_nothing_acked_answers_unavailable_meanwhile_and_recovers_alone()
    {
        await using var redis = await RedisServer.StartAsync(appendOnly: true);
        await using var cluster = await ClusterNodes.StartAsync(2, redis.Configuration, "Cluster:OperationTimeout=00:00:01");
        await using var ann = await cluster[0].ConnectJsonAsync("name=ann&room=storm");
        await using var bob = await cluster[1].ConnectJsonAsync("name=bob&room=storm");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");

        var acked = new List<long>();
        for (int i = 0; i < 5; i++)
        {
            await ann.SendJsonAsync(new { type = "say", room = "storm", text = $"before {i}", @ref = $"b{i}" });
            acked.Add((long)(await ann.WaitForAsync("ack"))["seq"]!);
        }

        await redis.KillAsync();
        using var http = new HttpClient { BaseAddress = cluster[0].BaseAddress };
        await WaitForStatusAsync(http, HttpStatusCode.ServiceUnavailable);

        var clock = Stopwatch.StartNew();
        await ann.SendJsonAsync(new { type = "say", room = "storm", text = "while down", @ref = "down" });
        var error = await ann.WaitForAsync("error");
        Assert.Equal(("unavailable", "down"), ((string)error["code"]!, (string)error["ref"]!));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        await ann.SendJsonAsync(new { type = "join", room = "elsewhere" });
        Assert.Equal("unavailable", (string)(await ann.WaitForAsync("error"))["code"]!);

        await redis.StartAgainAsync();
        await WaitForStatusAsync(http, HttpStatusCode.OK);

        // Resend (same ref) until it is taken: the node reconnects by itself.
        for (int i = 0; i < 5; i++)
        {
            while (true)
            {
                await ann.SendJsonAsync(new { type = "say", room = "storm", text = $"after {i}", @ref = $"a{i}" });
                var answer = await ann.NextAsync();
                while ((string)answer["type"]! is "message" or "presence")
                {
                    answer = await ann.NextAsync();
                }

                if ((string)answer["type"]! == "ack")
                {
                    acked.Add((long)answer["seq"]!);
                    break;
                }

                Assert.Equal("unavailable", (string)answer["code"]!);
            }
        }

        // Bob, on the other node, saw every acked message once, in order, with no gap.
        var seen = new List<long>();
        while (seen.Count < acked.Count)
        {
            var frame = await bob.NextAsync();
            if ((string)frame["type"]! == "message")
            {
                seen.Add((long)frame["seq"]!);
            }
        }

        Assert.Equal(acked, seen);
        Assert.Equal(Enumerable.Range(1, acked.Count).Select(i => (long)i), seen);

        // And the stream kept them all across the restart.
        await using var late = await cluster[1].ConnectJsonAsync("name=late");
        await late.ExpectAsync("welcome");
        await late.SendJsonAsync(new { type = "join", room = "storm", since = 0 });
        var history = (await late.WaitForAsync("joined"))["history"]!.AsArray();
        Assert.Equal(acked, history.Select(m => (long)m!["seq"]!));
    }

    [Fact]
    public async Task A_cut_subscription_is_caught_up_from_the_stream()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await ClusterNodes.StartAsync(2, redis.Configuration);
        await using var ann = await cluster[0].ConnectJsonAsync("name=ann&room=cut");
        await using var bob = await cluster[1].ConnectJsonAsync("name=bob&room=cut");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await bob.ExpectAsync("welcome");
        await bob.ExpectAsync("joined");

        // Every node's pub/sub link is cut; what is said before they re-subscribe is published to nobody.
        await redis.CliAsync("CLIENT", "KILL", "TYPE", "pubsub");
        await ann.SendJsonAsync(new { type = "say", room = "cut", text = "into the void" });
        Assert.Equal(1L, (long)(await ann.WaitForAsync("ack"))["seq"]!);

        var message = await bob.WaitForAsync("message");
        Assert.Equal((1L, "into the void"), ((long)message["seq"]!, (string)message["text"]!));
    }

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
}
