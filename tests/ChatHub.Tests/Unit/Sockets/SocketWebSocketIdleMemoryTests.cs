using System.Net.Sockets;
using System.Net.WebSockets;
using ChatHub.Server.Connections.Sockets;
using ChatHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ChatHub.Tests.Unit.Sockets;

/// <summary>
/// What one idle <see cref="SocketWebSocket"/> holds while it waits in a zero-byte receive, as an idle chat
/// connection does: the managed heap's growth over <see cref="Count"/> of them on loopback, set against the same
/// connected sockets each waiting in a bare zero-byte socket receive (the socket's own asynchronous machinery,
/// which any reader of a socket pays), and against .NET's own WebSocket over a <see cref="NetworkStream"/>, all in
/// one run. Reported (docs/performance.md); bounded only loosely, since it is a measurement, not a contract.
/// Runs alone: the managed heap is the process's.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class SocketWebSocketIdleMemoryTests(ITestOutputHelper output)
{
    private const int Count = 2000;

    [Fact]
    public async Task An_idle_socket_websocket_holds_a_few_hundred_bytes_over_its_socket()
    {
        using var clock = new KeepAliveClock(TimeSpan.FromSeconds(1));
        double bare = await MeasureAsync(socket => (socket, socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).AsTask()));
        double ours = await MeasureAsync(socket =>
        {
            var webSocket = new SocketWebSocket(socket, null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(20), clock);
            return (webSocket, ReceiveAsync(webSocket));
        });
        double dotnet = await MeasureAsync(socket =>
        {
            var webSocket = WebSocket.CreateFromStream(new NetworkStream(socket, ownsSocket: false), new WebSocketCreationOptions
            {
                IsServer = true,
                KeepAliveInterval = TimeSpan.FromSeconds(30),
                KeepAliveTimeout = TimeSpan.FromSeconds(20),
            });
            return (webSocket, ReceiveAsync(webSocket));
        });

        output.WriteLine($"per connection waiting in a zero-byte receive: bare socket receive {bare:0} B; " +
            $"SocketWebSocket {ours:0} B ({ours - bare:0} B over the bare receive); " +
            $".NET's WebSocket over a NetworkStream {dotnet:0} B ({dotnet - bare:0} B over it)");
        Assert.True(ours - bare < 1024, $"{ours - bare:0} B");
        Assert.True(ours < dotnet, $"ours {ours:0} B, .NET's {dotnet:0} B");
    }

    /// <summary>Awaited as ChatConnection's read loop awaits it: the receive's own state is all that is held.</summary>
    private static async Task ReceiveAsync(WebSocket socket) => await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);

    private static async Task<double> MeasureAsync(Func<Socket, (object Owner, Task Receive)> startIdle)
    {
        var pairs = new List<(Socket Server, Socket Client)>(Count);
        var idle = new List<(object Owner, Task Receive)>(Count);
        try
        {
            for (int i = 0; i < Count; i++)
            {
                pairs.Add(await Loopback.ConnectAsync());
            }

            long before = GC.GetTotalMemory(forceFullCollection: true);
            foreach (var (server, _) in pairs)
            {
                idle.Add(startIdle(server));
            }

            long after = GC.GetTotalMemory(forceFullCollection: true);
            Assert.All(idle, i => Assert.False(i.Receive.IsCompleted));
            return (after - before) / (double)Count;
        }
        finally
        {
            foreach (var (owner, _) in idle)
            {
                (owner as WebSocket)?.Abort();
            }

            // .NET's stream does not own the socket here: closing the sockets is what ends its pending receives.
            foreach (var (server, client) in pairs)
            {
                server.Dispose();
                client.Dispose();
            }

            await Task.WhenAll(idle.Select(i => i.Receive.ContinueWith(_ => { }, TaskScheduler.Default)));
        }
    }
}
