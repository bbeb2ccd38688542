using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ChatHub.Client.Tests.Infrastructure;
using ChatHub.Tests.Cluster;
using ChatHub.Tests.Deployment;
using static Microsoft.Playwright.Assertions;

namespace ChatHub.Client.Tests;

/// <summary>
/// Two pages in Chromium on two nodes of a cluster over a real <c>redis-server</c>; the node of one page is
/// killed with SIGKILL. The page reconnects through nginx (the repository's configuration, both nodes as
/// upstreams) onto the node that is left, resumes with <c>since</c>, resends what was not acked with its ref,
/// and shows every message exactly once, including those said while it was away.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserClusterFailoverTests(BrowserFixture browser)
{
    [Fact]
    public async Task A_page_whose_node_is_killed_reconnects_to_the_other_node_and_misses_nothing()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        // A short NodeTimeout so the survivor frees the dead node's names within seconds, not 15.
        string[] cluster = [$"--ChatHub:Redis={redis.Configuration}", "--ChatHub:Cluster:NodeTimeout=00:00:03", "--ChatHub:Cluster:OperationTimeout=00:00:02"];
        using ServerProcess first = await ServerProcess.StartAsync([ServerProcess.ServerDll, "--urls", "http://127.0.0.1:0", .. cluster]);
        using ServerProcess second = await ServerProcess.StartAsync([ServerProcess.ServerDll, "--urls", "http://127.0.0.1:0", .. cluster]);
        await using NginxProxy nginx = await NginxProxy.StartAsync(first.BaseAddress, second.BaseAddress);
        // Between the browser and nginx, so the test decides when ann's page may come back: until the survivor
        // has cleaned up after the dead node, so that what bob says is certainly said while ann is away.
        await using var network = new TcpDropProxy(nginx.BaseUri);

        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, network.BaseUri, name: "ann");
        await ann.ExpectConnectedAsAsync("ann");
        var (annNode, bobNode) = await ConnectionsAsync(first) == 1 ? (first, second) : (second, first);
        Assert.Equal(1, await ConnectionsAsync(annNode));
        Assert.Equal(0, await ConnectionsAsync(bobNode));

        // Bob's page talks to the other node directly.
        await using ChatPage bob = await ChatPage.OpenAsync(browser.Browser, bobNode.BaseAddress, name: "bob");
        await bob.ExpectConnectedAsAsync("bob");
        await Expect(ann.Member("bob")).ToHaveCountAsync(1);
        await Expect(bob.Member("ann")).ToHaveCountAsync(1);
        Assert.Equal(1, await ConnectionsAsync(bobNode));

        await ann.SendAsync("hello from ann");
        await Expect(bob.MessageWithText("hello from ann")).ToHaveCountAsync(1);
        await bob.SendAsync("hello from bob");
        await Expect(ann.MessageWithText("hello from bob")).ToHaveCountAsync(1);

        // kill -9 of ann's node: no close frame, no goodbye to Redis.
        network.Refusing = true;
        await annNode.KillAsync();
        await Expect(ann.Connection).ToHaveAttributeAsync("data-state", "reconnecting");

        // The conversation goes on without ann, and ann writes while she is away.
        await bob.SendAsync("while you were away 1");
        await bob.SendAsync("while you were away 2");
        await Expect(bob.Pending).ToHaveCountAsync(0);
        await ann.SendAsync("written offline");
        await Expect(ann.Pending.Filter(new() { HasText = "written offline" })).ToHaveAttributeAsync("data-state", "sending");

        // The survivor notices the dead node (NodeTimeout plus one heartbeat) and ann leaves the room.
        await Expect(bob.Member("ann")).ToHaveCountAsync(0, new() { Timeout = 30_000 });

        // Ann's page may reach nginx again; nginx finds the dead node refusing and passes her to the other one.
        network.Refusing = false;
        await Expect(ann.Connection).ToHaveTextAsync("Connected as ann", new() { Timeout = 30_000 });
        await Expect(ann.Pending).ToHaveCountAsync(0);
        await Expect(bob.MessageWithText("written offline")).ToHaveCountAsync(1);
        Assert.Equal(2, await ConnectionsAsync(bobNode));

        // A last exchange; once it is seen, everything before it has arrived.
        await bob.SendAsync("welcome back");
        await Expect(ann.MessageWithText("welcome back")).ToHaveCountAsync(1);
        await ann.SendAsync("thanks");
        await Expect(bob.MessageWithText("thanks")).ToHaveCountAsync(1);

        string[] expected = ["hello from ann", "hello from bob", "while you were away 1", "while you were away 2", "written offline", "welcome back", "thanks"];
        long[] seqs = [.. Enumerable.Range(1, expected.Length).Select(i => (long)i)];
        foreach (var (page, members) in new[] { (ann, new[] { "ann (you)", "bob" }), (bob, ["ann", "bob (you)"]) })
        {
            await Expect(page.Messages.Locator(".text")).ToHaveTextAsync(expected);
            Assert.Equal(seqs, await page.ShownSeqsAsync());
            // By name, so a member left over under another name (a guest name ann had on the way) shows in a failure.
            await Expect(page.Members).ToHaveTextAsync(members);
            Assert.Empty(page.ScriptErrors);
        }
    }

    /// <summary>Open WebSocket connections of one node, asked directly, not through nginx.</summary>
    private static async Task<long> ConnectionsAsync(ServerProcess node)
    {
        using var http = new HttpClient { BaseAddress = node.BaseAddress };
        JsonObject stats = (await http.GetFromJsonAsync<JsonObject>("/api/stats"))!;
        return (long)stats["connections"]!;
    }
}
