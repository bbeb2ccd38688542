using System.Net.Sockets;
using System.Text;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>
/// The two ways an upgrade is accepted: on the transport (Kestrel connection middleware, the default) and through
/// ASP.NET Core's HTTP pipeline. Raw TCP shows which one answered: Kestrel's HTTP layer adds a Date header, the
/// transport handshake does not.
/// </summary>
public sealed class UpgradePathTests
{
    private const string Upgrade =
        "GET /ws?format=json&name=raw HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

    [Fact]
    public async Task The_transport_path_answers_101_with_the_rfc_accept_key()
    {
        await using var server = await TestServer.StartAsync();
        using var tcp = await ConnectAsync(server);
        await SendAsync(tcp, Upgrade);
        string head = await RawUpgrade.ReadHeadAsync(tcp);
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", head);
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", head); // RFC 6455's own example
        Assert.DoesNotContain("Date:", head);
    }

    [Fact]
    public async Task A_request_head_that_arrives_byte_by_byte_is_still_understood_on_both_paths()
    {
        await using var server = await TestServer.StartAsync();
        using (var tcp = await ConnectAsync(server))
        {
            foreach (char c in Upgrade)
            {
                await SendAsync(tcp, c.ToString());
            }

            Assert.StartsWith("HTTP/1.1 101", await RawUpgrade.ReadHeadAsync(tcp));
        }

        using (var tcp = await ConnectAsync(server))
        {
            foreach (char c in "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            {
                await SendAsync(tcp, c.ToString());
            }

            Assert.StartsWith("HTTP/1.1 200 OK", await RawUpgrade.ReadHeadAsync(tcp));
        }
    }

    [Fact]
    public async Task An_upgrade_after_other_requests_on_a_keep_alive_connection_takes_the_http_path()
    {
        await using var server = await TestServer.StartAsync();
        using var tcp = await ConnectAsync(server);
        await SendAsync(tcp, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        string first = await RawUpgrade.ReadHeadAsync(tcp);
        Assert.StartsWith("HTTP/1.1 200 OK", first);
        await ReadBodyAsync(tcp, first);

        await SendAsync(tcp, Upgrade);
        string second = await RawUpgrade.ReadHeadAsync(tcp);
        Assert.StartsWith("HTTP/1.1 101", second);
        Assert.Contains("Date:", second);
    }

    [Theory]
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", "426")]
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", "400")]
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n", "400")]
    [InlineData("GET /ws?format=yaml HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", "400")]
    [InlineData("GET /ws HTTP/1.1\r\nthis line has no colon\r\n\r\n", "400")]
    public async Task Bad_upgrades_get_an_http_error_on_the_transport_path(string request, string status)
    {
        await using var server = await TestServer.StartAsync();
        using var tcp = await ConnectAsync(server);
        await SendAsync(tcp, request);
        Assert.StartsWith($"HTTP/1.1 {status} ", await RawUpgrade.ReadHeadAsync(tcp));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Both_paths_serve_the_whole_protocol(bool onTransport)
    {
        await using var server = await TestServer.StartAsync($"Connections:AcceptOnTransport={onTransport}");
        await using var ann = await server.ConnectJsonAsync("name=ann&room=both");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await using var bob = await server.ConnectTextAsync("name=bob&room=both");
        await bob.WaitForLineAsync("you joined both");
        await ann.SendJsonAsync(new { type = "say", room = "both", text = "hi", @ref = "1" });
        Assert.Equal("hi", (string?)(await ann.WaitForAsync("message"))["text"]);
        Assert.Equal(1, (long)(await ann.WaitForAsync("ack"))["seq"]!);
        Assert.Equal("[both] ann: hi", await bob.WaitForLineAsync("ann: hi"));
        await bob.SendTextAsync("/quit");
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, await bob.ReceiveCloseAsync());
    }

    private static async Task<TcpClient> ConnectAsync(TestServer server)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        return tcp;
    }

    private static Task SendAsync(TcpClient tcp, string text) => tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

    /// <summary>Reads the body that follows <paramref name="head"/>: by Content-Length, or chunked to its last chunk.</summary>
    private static async Task ReadBodyAsync(TcpClient tcp, string head)
    {
        using var cts = new CancellationTokenSource(WsClient.Timeout);
        var stream = tcp.GetStream();
        string? length = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        if (length is not null)
        {
            await stream.ReadExactlyAsync(new byte[int.Parse(length.Split(':')[1])], cts.Token);
            return;
        }

        var body = new StringBuilder();
        var one = new byte[1];
        while (!body.ToString().EndsWith("0\r\n\r\n", StringComparison.Ordinal))
        {
            await stream.ReadExactlyAsync(one, cts.Token);
            body.Append((char)one[0]);
        }
    }
}
