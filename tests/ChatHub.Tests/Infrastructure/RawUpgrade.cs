using System.Net.Sockets;
using System.Text;

namespace ChatHub.Tests.Infrastructure;

/// <summary>A WebSocket upgrade written by hand over a real TCP socket, to see the server's exact HTTP answer.</summary>
public static class RawUpgrade
{
    /// <summary>Sends <c>GET /ws?query</c> with the upgrade headers and <paramref name="headers"/>; returns the status code and the open socket.</summary>
    public static async Task<(int Status, TcpClient Tcp)> SendAsync(TestServer server, string query = "", params string[] headers)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        var request = new StringBuilder($"GET /ws{(query.Length == 0 ? "" : "?" + query)} HTTP/1.1\r\n");
        if (!headers.Any(h => h.StartsWith("Host:", StringComparison.OrdinalIgnoreCase)))
        {
            request.Append($"Host: {server.BaseAddress.Authority}\r\n");
        }

        request.Append("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
        foreach (string header in headers)
        {
            request.Append(header).Append("\r\n");
        }

        await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(request.Append("\r\n").ToString()));
        string head = await ReadHeadAsync(tcp);
        Assert.StartsWith("HTTP/1.1 ", head);
        return (int.Parse(head.AsSpan(9, 3)), tcp);
    }

    /// <summary>Just the status; the socket is closed.</summary>
    public static async Task<int> StatusAsync(TestServer server, string query = "", params string[] headers)
    {
        var (status, tcp) = await SendAsync(server, query, headers);
        tcp.Dispose();
        return status;
    }

    /// <summary>Reads up to and including the blank line that ends a response head.</summary>
    public static async Task<string> ReadHeadAsync(TcpClient tcp)
    {
        using var cts = new CancellationTokenSource(WsClient.Timeout);
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await tcp.GetStream().ReadAsync(one, cts.Token) == 0)
            {
                break;
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }
}
