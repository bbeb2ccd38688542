using System.Net.Sockets;
using System.Net.WebSockets;
using ChatHub.Server.Configuration;
using ChatHub.Server.Connections.Sockets;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Unit.Sockets;

/// <summary>The one keep-alive timer shared by every <see cref="SocketWebSocket"/> of a server.</summary>
public sealed class KeepAliveClockTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task One_clock_keeps_many_sockets_alive()
    {
        using var clock = new KeepAliveClock(TimeSpan.FromMilliseconds(10));
        var pairs = new List<(Socket Server, Socket Client, SocketWebSocket WebSocket)>();
        try
        {
            for (int i = 0; i < 100; i++)
            {
                var (server, client) = await Loopback.ConnectAsync();
                var webSocket = new SocketWebSocket(server, null, TimeSpan.FromMilliseconds(20), System.Threading.Timeout.InfiniteTimeSpan, clock);
                pairs.Add((server, client, webSocket));
            }

            Assert.Equal(100, clock.Count);

            // Every socket gets its unsolicited pong from the same timer.
            var pongs = await Task.WhenAll(pairs.Select(p => Loopback.ReadServerFrameAsync(p.Client))).WaitAsync(Timeout);
            Assert.All(pongs, pong => Assert.Equal(RawWebSocket.Pong, pong!.Value.Opcode));
        }
        finally
        {
            foreach (var (server, client, webSocket) in pairs)
            {
                webSocket.Dispose();
                server.Dispose();
                client.Dispose();
            }
        }

        Assert.Equal(0, clock.Count);
    }

    [Fact]
    public async Task A_socket_leaves_the_clock_however_it_ends()
    {
        using var clock = new KeepAliveClock(TimeSpan.FromSeconds(1));
        var (server1, client1) = await Loopback.ConnectAsync();
        var (server2, client2) = await Loopback.ConnectAsync();
        var (server3, client3) = await Loopback.ConnectAsync();
        using (server1)
        using (client1)
        using (server2)
        using (client2)
        using (server3)
        using (client3)
        {
            var disposed = new SocketWebSocket(server1, null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(20), clock);
            var aborted = new SocketWebSocket(server2, null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(20), clock);
            var closed = new SocketWebSocket(server3, null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(20), clock);
            var never = new SocketWebSocket(server3, null, TimeSpan.Zero, TimeSpan.FromSeconds(20), clock);
            Assert.Equal(3, clock.Count); // no interval, no keep-alive: never registered

            disposed.Dispose();
            Assert.Equal(2, clock.Count);
            aborted.Abort();
            Assert.Equal(1, clock.Count);

            // The close handshake, server first: Closed once the client's close frame arrives.
            await closed.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            Assert.Equal(1, clock.Count);
            await client3.SendAsync(RawWebSocket.Frame(RawWebSocket.Close, [0x03, 0xE8]), SocketFlags.None);
            var result = await closed.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask().WaitAsync(Timeout);
            Assert.Equal(WebSocketMessageType.Close, result.MessageType);
            Assert.Equal(WebSocketState.Closed, closed.State);
            Assert.Equal(0, clock.Count);
            never.Dispose();
            closed.Dispose();
        }
    }

    [Theory]
    [InlineData(30_000, 20_000, 1000)]   // a quarter of 20 s, at most a second
    [InlineData(2_000, 0, 500)]           // no timeout: a quarter of the interval
    [InlineData(400, 200, 50)]
    [InlineData(20, 20, 10)]              // at least 10 ms
    public void The_server_clock_ticks_at_a_quarter_of_the_shortest_period(int intervalMs, int timeoutMs, int expectedMs)
    {
        var period = KeepAliveClock.PeriodFor(new ConnectionOptions
        {
            KeepAliveInterval = TimeSpan.FromMilliseconds(intervalMs),
            KeepAliveTimeout = TimeSpan.FromMilliseconds(timeoutMs),
        });
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), period);
    }
}
