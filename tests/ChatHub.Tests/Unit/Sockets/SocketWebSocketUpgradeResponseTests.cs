using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using ChatHub.Server.Connections.Sockets;

namespace ChatHub.Tests.Unit.Sockets;

/// <summary>
/// The handshake's response gathered ahead of the first frame: it leaves with that frame in one send, or alone when
/// sent at once, and never twice.
/// </summary>
public sealed class SocketWebSocketUpgradeResponseTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly byte[] Response = Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\n\r\n");

    [Fact]
    public async Task The_response_leaves_in_the_first_frames_send_ahead_of_it()
    {
        using var clock = new KeepAliveClock(TimeSpan.FromSeconds(1));
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        using (var webSocket = new SocketWebSocket(server, null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan, clock))
        {
            webSocket.GatherUpgradeResponse(Response);
            Assert.Equal(0, client.Available); // nothing left yet

            await webSocket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

            var bytes = new byte[Response.Length + 7];
            Assert.True(await Loopback.ReadExactlyAsync(client, bytes).WaitAsync(Timeout));
            Assert.Equal(Response, bytes[..Response.Length]);
            Assert.Equal(new byte[] { 0x81, 5, (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o' }, bytes[Response.Length..]);
        }
    }

    [Fact]
    public async Task Sent_at_once_the_response_leaves_alone_and_only_once()
    {
        using var clock = new KeepAliveClock(TimeSpan.FromSeconds(1));
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        using (var webSocket = new SocketWebSocket(server, null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan, clock))
        {
            webSocket.GatherUpgradeResponse(Response);
            webSocket.SendUpgradeResponseNow();

            var head = new byte[Response.Length];
            Assert.True(await Loopback.ReadExactlyAsync(client, head).WaitAsync(Timeout));
            Assert.Equal(Response, head);

            webSocket.SendUpgradeResponseNow(); // already gone: nothing is sent again
            await webSocket.SendAsync("hi"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            var frame = await Loopback.ReadServerFrameAsync(client).WaitAsync(Timeout);
            Assert.NotNull(frame);
            Assert.Equal("hi", Encoding.UTF8.GetString(frame.Value.Payload));
        }
    }

    [Fact]
    public async Task The_response_cannot_be_gathered_behind_a_frame()
    {
        using var clock = new KeepAliveClock(TimeSpan.FromSeconds(1));
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        using (var webSocket = new SocketWebSocket(server, null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan, clock))
        {
            webSocket.CaptureNextWrite(last: false);
            await webSocket.SendAsync("x"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Throws<InvalidOperationException>(() => webSocket.GatherUpgradeResponse(Response));
        }
    }
}
