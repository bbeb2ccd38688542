using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using ChatHub.Client.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace ChatHub.Client.Tests;

/// <summary>
/// ChatHub behind Debian's nginx, configured with <c>deploy/nginx/chathub.conf</c>: the browser client loads and
/// chats through it, both formats pass its WebSocket upgrade, and a client whose node goes down reconnects
/// through the same address onto the other node.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class NginxProxyTests(BrowserFixture browser)
{
    [Fact]
    public async Task The_browser_client_loads_and_chats_through_nginx()
    {
        // Both upstream entries name one node, so everybody shares its rooms.
        await using ChatServer node = await ChatServer.StartAsync();
        await using NginxProxy nginx = await NginxProxy.StartAsync(node.BaseUri, node.BaseUri);

        using (var http = new HttpClient { BaseAddress = nginx.BaseUri })
        {
            using HttpResponseMessage index = await http.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, index.StatusCode);
            Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
            Assert.Contains("app.js", await index.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, nginx.BaseUri, name: "ann");
        await ann.ExpectConnectedAsAsync("ann");
        await using ProtocolClient bob = await ProtocolClient.ConnectAsync(nginx.WebSocketUri(""), "bob");
        await bob.JoinAsync("lobby");
        await Expect(ann.Member("bob")).ToHaveCountAsync(1);

        await ann.SendAsync("hello through the proxy");
        await bob.WaitForMessageAsync("lobby", "hello through the proxy");
        await bob.SayAsync("lobby", "and back");
        await Expect(ann.MessageWithText("and back")).ToHaveCountAsync(1);
        await Expect(ann.Pending).ToHaveCountAsync(0);

        Assert.Equal(2, await ConnectionsAsync(node));
        Assert.Empty(ann.ScriptErrors);
    }

    [Fact]
    public async Task The_text_format_chats_through_nginx()
    {
        await using ChatServer node = await ChatServer.StartAsync();
        await using NginxProxy nginx = await NginxProxy.StartAsync(node.BaseUri, node.BaseUri);

        using var ann = new ClientWebSocket();
        await ann.ConnectAsync(nginx.WebSocketUri("name=ann&room=lobby"), CancellationToken.None);
        Assert.Equal("* welcome ann — /help lists the commands", await ReceiveLineAsync(ann));
        Assert.Equal("* you joined lobby (1 member: ann)", await ReceiveLineAsync(ann));

        using var bob = new ClientWebSocket();
        bob.Options.AddSubProtocol("chathub.text");
        await bob.ConnectAsync(nginx.WebSocketUri("name=bob&room=lobby"), CancellationToken.None);
        Assert.Equal("chathub.text", bob.SubProtocol); // the subprotocol header made it through and back
        Assert.Equal("* welcome bob — /help lists the commands", await ReceiveLineAsync(bob));
        Assert.Equal("* you joined lobby (2 members: ann, bob)", await ReceiveLineAsync(bob));
        Assert.Equal("* bob joined lobby (2 members)", await ReceiveLineAsync(ann));

        await SendLineAsync(ann, "hi bob");
        Assert.Equal("[lobby] ann: hi bob", await ReceiveLineAsync(ann));
        Assert.Equal("[lobby] ann: hi bob", await ReceiveLineAsync(bob));

        await SendLineAsync(bob, "/quit");
        Assert.Equal("* bob left lobby", await ReceiveLineAsync(ann));
        using var closed = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var close = await bob.ReceiveAsync(new byte[256], closed.Token);
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, bob.CloseStatus); // the close code passes the proxy unchanged
    }

    [Fact]
    public async Task A_page_whose_node_stops_reconnects_through_nginx_to_the_other_node()
    {
        ChatServer first = await ChatServer.StartAsync();
        await using ChatServer second = await ChatServer.StartAsync();
        await using NginxProxy nginx = await NginxProxy.StartAsync(first.BaseUri, second.BaseUri);
        try
        {
            await using ChatPage ann = await ChatPage.OpenAsync(browser.Browser, nginx.BaseUri, name: "ann");
            await ann.ExpectConnectedAsAsync("ann");

            // Whichever node nginx picked is the one that goes down.
            var (down, up) = await ConnectionsAsync(first) == 1 ? (first, second) : (second, first);
            Assert.Equal(1, await ConnectionsAsync(down));
            Assert.Equal(0, await ConnectionsAsync(up));
            await down.DisposeAsync(); // a graceful stop: the page gets 1001 and reconnects by itself

            // The page reconnects to the same address and nginx skips the stopped node: a line typed now is
            // stored (acked, nothing left pending) by the node that is up.
            await ann.SendAsync("on the other node");
            await Expect(ann.MessageWithText("on the other node")).ToHaveCountAsync(1);
            await Expect(ann.Pending).ToHaveCountAsync(0);
            await ann.ExpectConnectedAsAsync("ann");
            Assert.Equal(1, await ConnectionsAsync(up));

            // Programs connecting now all land on the node that is up; none is refused.
            var programs = new List<ProtocolClient>();
            try
            {
                for (int i = 1; i <= 4; i++)
                {
                    programs.Add(await ProtocolClient.ConnectAsync(nginx.WebSocketUri(""), $"program{i}"));
                    Assert.Equal(1 + i, await ConnectionsAsync(up));
                }
            }
            finally
            {
                foreach (var program in programs) await program.DisposeAsync();
            }

            // The stopped node was tried and skipped (least_conn prefers it: it holds no connections).
            Assert.Contains("Connection refused", nginx.Log, StringComparison.Ordinal);
        }
        finally
        {
            await first.DisposeAsync();
        }
    }

    /// <summary>Open WebSocket connections of one node, asked directly, not through nginx.</summary>
    private static async Task<long> ConnectionsAsync(ChatServer node)
    {
        using var http = new HttpClient { BaseAddress = node.BaseUri };
        JsonObject stats = (await http.GetFromJsonAsync<JsonObject>("/api/stats"))!;
        return (long)stats["connections"]!;
    }

    private static Task SendLineAsync(ClientWebSocket socket, string line) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(line), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    private static async Task<string> ReceiveLineAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        int length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            length += result.Count;
            if (result.EndOfMessage) return Encoding.UTF8.GetString(buffer, 0, length);
        }
    }
}
