using System.Diagnostics;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>
/// With the WebSocket's ping timeout off, dead peers are found by TCP keep-alive on every WebSocket's socket. The
/// kernel's own view of the server's sockets (<c>ss -o</c>, iproute2) shows the keep-alive timer armed with the
/// configured idle time.
/// </summary>
public sealed class TcpKeepAliveTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_server_side_socket_of_a_websocket_has_keepalive_armed_on_both_accept_paths(bool onTransport)
    {
        await using var server = await TestServer.StartAsync(
            $"Connections:AcceptOnTransport={onTransport}", "Connections:TcpKeepAliveTime=00:07:00", "Connections:KeepAliveTimeout=00:00:00");
        await using var client = await server.ConnectJsonAsync();
        await client.ExpectAsync("welcome");

        // e.g. "127.0.0.1:41234  127.0.0.1:50406 timer:(keepalive,6min59sec,0)". ss shows one timer per socket, and
        // while the last segment sent (the 101 with the first frames) still waits for the client's delayed ACK that
        // is the retransmission timer ("timer:(on,…)"). The kernel has no event for that, so it is asked again, within
        // the test client's timeout, until it shows the keep-alive timer.
        string sockets = await ServerSocketsAsync(server.BaseAddress.Port);
        for (var waited = Stopwatch.StartNew(); !sockets.Contains("timer:(keepalive,", StringComparison.Ordinal) && waited.Elapsed < WsClient.Timeout;)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20));
            sockets = await ServerSocketsAsync(server.BaseAddress.Port);
        }

        Assert.Contains("timer:(keepalive,6min", sockets);
    }

    [Fact]
    public async Task With_the_websocket_ping_timeout_on_the_socket_has_no_tcp_keepalive()
    {
        await using var server = await TestServer.StartAsync("Connections:TcpKeepAliveTime=00:07:00");
        await using var client = await server.ConnectJsonAsync();
        await client.ExpectAsync("welcome");
        Assert.DoesNotContain("keepalive", await ServerSocketsAsync(server.BaseAddress.Port));
    }

    [Fact]
    public async Task Zero_leaves_the_socket_without_keepalive()
    {
        await using var server = await TestServer.StartAsync("Connections:TcpKeepAliveTime=00:00:00", "Connections:KeepAliveTimeout=00:00:00");
        await using var client = await server.ConnectJsonAsync();
        await client.ExpectAsync("welcome");
        Assert.DoesNotContain("keepalive", await ServerSocketsAsync(server.BaseAddress.Port));
    }

    private static async Task<string> ServerSocketsAsync(int port)
    {
        var info = new ProcessStartInfo("ss", ["-tno", "state", "established", $"( sport = :{port} )"]) { RedirectStandardOutput = true };
        using var ss = Process.Start(info)!;
        string output = await ss.StandardOutput.ReadToEndAsync();
        await ss.WaitForExitAsync();
        Assert.Equal(0, ss.ExitCode);
        Assert.Contains($"127.0.0.1:{port}", output); // the WebSocket is there at all
        return output;
    }
}
