using System.Buffers.Binary;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using ChatHub.Server.Connections.Sockets;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Unit.Sockets;

/// <summary>
/// <see cref="SocketWebSocket"/> against .NET's <see cref="ClientWebSocket"/> (and, for what that client will not
/// do, a raw socket): real loopback connections, the server side read as <c>ChatConnection</c> reads it.
/// </summary>
public sealed class SocketWebSocketTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly KeepAliveClock _clock = new(TimeSpan.FromMilliseconds(10));

    public void Dispose() => _clock.Dispose();

    /// <summary>A zero-byte receive for the type, then payload reads into a growing buffer, as <c>ChatConnection</c> reads.</summary>
    internal static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveMessageAsync(WebSocket socket)
    {
        var peek = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
        var payload = new MemoryStream();
        if (peek.MessageType == WebSocketMessageType.Close)
        {
            return (peek.MessageType, []);
        }

        var buffer = new byte[1024];
        bool complete = peek.EndOfMessage;
        while (!complete)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (result.MessageType, []);
            }

            Assert.Equal(peek.MessageType, result.MessageType);
            payload.Write(buffer, 0, result.Count);
            complete = result.EndOfMessage;
        }

        return (peek.MessageType, payload.ToArray());
    }

    private static async Task<string> ClientReceiveTextAsync(ClientWebSocket client)
    {
        var buffer = new byte[64 * 1024];
        var all = new MemoryStream();
        while (true)
        {
            var result = await client.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            all.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(all.ToArray());
            }
        }
    }

    private async Task<(Socket ServerSocket, SocketWebSocket Server, ClientWebSocket Client)> ConnectAsync()
    {
        var (socket, client) = await Loopback.ConnectClientWebSocketAsync();
        return (socket, new SocketWebSocket(socket, null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan, _clock), client);
    }

    [Fact]
    public async Task Text_goes_both_ways()
    {
        var (socket, server, client) = await ConnectAsync();
        using (socket)
        using (server)
        using (client)
        {
            await client.SendAsync(Encoding.UTF8.GetBytes("hello, wörld"), WebSocketMessageType.Text, true, CancellationToken.None);
            var (type, payload) = await ReceiveMessageAsync(server).WaitAsync(Timeout);
            Assert.Equal(WebSocketMessageType.Text, type);
            Assert.Equal("hello, wörld", Encoding.UTF8.GetString(payload));

            server.CaptureNextWrite(last: true);
            await server.SendAsync(Encoding.UTF8.GetBytes("hi back"), WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Equal("hi back", await ClientReceiveTextAsync(client).WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task Large_and_fragmented_messages_arrive_whole()
    {
        var (socket, server, client) = await ConnectAsync();
        using (socket)
        using (server)
        using (client)
        {
            var large = new string('x', 300_000) + "é";
            await client.SendAsync(Encoding.UTF8.GetBytes(large), WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Equal(large, Encoding.UTF8.GetString((await ReceiveMessageAsync(server).WaitAsync(Timeout)).Payload));

            // Fragments, one of them splitting a two-byte character.
            byte[] text = Encoding.UTF8.GetBytes("fragmented: ñandú");
            for (int i = 0; i < text.Length; i += 5)
            {
                int n = Math.Min(5, text.Length - i);
                await client.SendAsync(text.AsMemory(i, n), WebSocketMessageType.Text, i + n == text.Length, CancellationToken.None);
            }

            Assert.Equal("fragmented: ñandú", Encoding.UTF8.GetString((await ReceiveMessageAsync(server).WaitAsync(Timeout)).Payload));

            var big = new string('y', 200_000);
            server.CaptureNextWrite(last: true);
            await server.SendAsync(Encoding.UTF8.GetBytes(big), WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Equal(big, await ClientReceiveTextAsync(client).WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task Many_small_frames_of_one_burst_arrive_in_order()
    {
        var (socket, server, client) = await ConnectAsync();
        using (socket)
        using (server)
        using (client)
        {
            const int Count = 5000; // past the 64 KiB bound, so the burst also leaves in pieces
            for (int i = 0; i < Count; i++)
            {
                server.CaptureNextWrite(last: i == Count - 1);
                await server.SendAsync(Encoding.UTF8.GetBytes($"message {i}"), WebSocketMessageType.Text, true, CancellationToken.None);
            }

            for (int i = 0; i < Count; i++)
            {
                Assert.Equal($"message {i}", await ClientReceiveTextAsync(client).WaitAsync(Timeout));
            }
        }
    }

    [Fact]
    public async Task Close_started_by_the_client_completes_the_handshake()
    {
        var (socket, server, client) = await ConnectAsync();
        using (socket)
        using (server)
        using (client)
        {
            var clientClose = client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            var (type, _) = await ReceiveMessageAsync(server).WaitAsync(Timeout);
            Assert.Equal(WebSocketMessageType.Close, type);
            Assert.Equal(WebSocketState.CloseReceived, server.State);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, server.CloseStatus);
            Assert.Equal("bye", server.CloseStatusDescription);

            await server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            Assert.Equal(WebSocketState.Closed, server.State);
            socket.Dispose(); // the caller closes the socket once the connection has ended
            await clientClose.WaitAsync(Timeout);
            Assert.Equal(WebSocketState.Closed, client.State);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        }
    }

    [Fact]
    public async Task Close_started_by_the_server_completes_the_handshake()
    {
        var (socket, server, client) = await ConnectAsync();
        using (socket)
        using (server)
        using (client)
        {
            var serverReceive = ReceiveMessageAsync(server);
            await server.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "going away", CancellationToken.None);
            Assert.Equal(WebSocketState.CloseSent, server.State);

            var result = await client.ReceiveAsync(new byte[16], CancellationToken.None).WaitAsync(Timeout);
            Assert.Equal(WebSocketMessageType.Close, result.MessageType);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, result.CloseStatus);
            Assert.Equal("going away", result.CloseStatusDescription);
            var clientClose = client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);

            Assert.Equal(WebSocketMessageType.Close, (await serverReceive.WaitAsync(Timeout)).Type);
            Assert.Equal(WebSocketState.Closed, server.State);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, server.CloseStatus);
            socket.Dispose();
            await clientClose.WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task CloseAsync_sends_the_close_and_waits_for_the_answer()
    {
        var (socket, server, client) = await ConnectAsync();
        using (socket)
        using (server)
        using (client)
        {
            var serverClose = server.CloseAsync(WebSocketCloseStatus.PolicyViolation, "policy", CancellationToken.None);
            var result = await client.ReceiveAsync(new byte[16], CancellationToken.None).WaitAsync(Timeout);
            Assert.Equal(WebSocketMessageType.Close, result.MessageType);
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, result.CloseStatus);
            Assert.False(serverClose.IsCompleted); // it waits for the client's close frame

            await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ok", CancellationToken.None);
            await serverClose.WaitAsync(Timeout);
            Assert.Equal(WebSocketState.Closed, server.State);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, server.CloseStatus);
            Assert.Equal("ok", server.CloseStatusDescription);
            await Assert.ThrowsAsync<WebSocketException>(() => server.SendAsync("late"u8.ToArray().AsMemory(), WebSocketMessageType.Text, true, CancellationToken.None).AsTask());
        }
    }

    [Fact]
    public async Task Abort_ends_a_pending_receive_and_a_send_stuck_on_a_client_that_does_not_read()
    {
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        using (var socket = new SocketWebSocket(server, null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan, _clock))
        {
            var receive = socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();

            // The client reads nothing, and a frame far larger than both sockets' buffers cannot all be sent.
            server.SendBufferSize = 64 * 1024;
            client.ReceiveBufferSize = 64 * 1024;
            var frame = new byte[16 * 1024 * 1024];
            var send = socket.SendAsync(frame.AsMemory(), WebSocketMessageType.Binary, true, CancellationToken.None).AsTask();
            Assert.False(send.IsCompleted);
            socket.Abort();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send.WaitAsync(Timeout));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive.WaitAsync(Timeout));
            Assert.Equal(WebSocketState.Aborted, socket.State);
            await Assert.ThrowsAsync<WebSocketException>(() => socket.SendAsync(frame.AsMemory(), WebSocketMessageType.Binary, true, CancellationToken.None).AsTask());
        }
    }

    [Fact]
    public async Task A_clean_tcp_close_between_frames_is_a_close_without_status_and_no_exception()
    {
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        using (var socket = new SocketWebSocket(server, null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan, _clock))
        {
            await client.SendAsync(RawWebSocket.Frame(RawWebSocket.Text, "one"u8), SocketFlags.None);
            Assert.Equal("one", Encoding.UTF8.GetString((await ReceiveMessageAsync(socket).WaitAsync(Timeout)).Payload));
            client.Shutdown(SocketShutdown.Send);

            var result = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask().WaitAsync(Timeout);
            Assert.Equal(WebSocketMessageType.Close, result.MessageType);
            Assert.Null(socket.CloseStatus);
            Assert.Equal(WebSocketState.Aborted, socket.State);
        }
    }

    [Fact]
    public async Task A_reset_between_frames_is_a_close_without_status_and_inside_a_frame_an_exception()
    {
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (var socket = new SocketWebSocket(server, null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan, _clock))
        {
            await client.SendAsync(RawWebSocket.Frame(RawWebSocket.Text, "one"u8), SocketFlags.None);
            Assert.Equal("one", Encoding.UTF8.GetString((await ReceiveMessageAsync(socket).WaitAsync(Timeout)).Payload));
            // A dropped client with bytes it never read: its kernel ends the connection with a reset, not a FIN.
            await socket.SendAsync(new ReadOnlyMemory<byte>("unread"u8.ToArray()), WebSocketMessageType.Text, true, CancellationToken.None).AsTask().WaitAsync(Timeout);
            client.LingerState = new LingerOption(true, 0);
            client.Close();

            var result = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask().WaitAsync(Timeout);
            Assert.Equal(WebSocketMessageType.Close, result.MessageType);
            Assert.Null(socket.CloseStatus);
            Assert.Equal(WebSocketState.Aborted, socket.State);
        }

        (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (var socket = new SocketWebSocket(server, null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan, _clock))
        {
            byte[] frame = RawWebSocket.Frame(RawWebSocket.Text, "a frame cut short"u8);
            await client.SendAsync(frame.AsMemory(0, frame.Length - 4), SocketFlags.None);
            var peek = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask().WaitAsync(Timeout);
            Assert.Equal(WebSocketMessageType.Text, peek.MessageType);
            client.LingerState = new LingerOption(true, 0);
            client.Close();

            var cut = await Assert.ThrowsAsync<WebSocketException>(() => socket.ReceiveAsync(new byte[64].AsMemory(), CancellationToken.None).AsTask().WaitAsync(Timeout));
            Assert.Equal(WebSocketError.ConnectionClosedPrematurely, cut.WebSocketErrorCode);
            Assert.Equal(WebSocketState.Aborted, socket.State);
        }
    }

    [Fact]
    public async Task A_pong_racing_a_burst_never_breaks_the_framing()
    {
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        using (var socket = new SocketWebSocket(server, null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan, _clock))
        {
            const int Frames = 3000, Pings = 300;
            var receiving = Task.Run(async () =>
            {
                var result = await socket.ReceiveAsync(new byte[64], CancellationToken.None);
                return result.MessageType;
            });

            // The client's pings and the server's burst run at once: each pong must land between two whole frames.
            var pinging = Task.Run(async () =>
            {
                for (int i = 0; i < Pings; i++)
                {
                    await client.SendAsync(RawWebSocket.Frame(RawWebSocket.Ping, Encoding.ASCII.GetBytes($"p{i}")), SocketFlags.None);
                }
            });
            var sending = Task.Run(async () =>
            {
                for (int i = 0; i < Frames; i++)
                {
                    socket.CaptureNextWrite(last: i % 50 == 49 || i == Frames - 1);
                    await socket.SendAsync(Encoding.ASCII.GetBytes($"frame {i} " + new string('z', i % 300)), WebSocketMessageType.Text, true, CancellationToken.None);
                }
            });

            int texts = 0, pongs = 0;
            while (texts < Frames || pongs < Pings)
            {
                var frame = await Loopback.ReadServerFrameAsync(client).WaitAsync(Timeout);
                Assert.NotNull(frame);
                var (fin, opcode, payload) = frame.Value;
                Assert.True(fin);
                if (opcode == RawWebSocket.Text)
                {
                    Assert.Equal($"frame {texts} " + new string('z', texts % 300), Encoding.ASCII.GetString(payload));
                    texts++;
                }
                else
                {
                    Assert.Equal(RawWebSocket.Pong, opcode);
                    Assert.Equal($"p{pongs}", Encoding.ASCII.GetString(payload));
                    pongs++;
                }
            }

            await Task.WhenAll(pinging, sending).WaitAsync(Timeout);
            Assert.False(receiving.IsCompleted); // pings are answered inside the receive, which is still waiting for a message
        }
    }

    [Fact]
    public async Task Keep_alive_with_a_timeout_pings_and_aborts_a_peer_that_never_answers()
    {
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        using (var socket = new SocketWebSocket(server, null, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100), _clock))
        {
            var receive = socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
            var ping = await Loopback.ReadServerFrameAsync(client).WaitAsync(Timeout);
            Assert.Equal(RawWebSocket.Ping, ping!.Value.Opcode);
            Assert.Equal(8, ping.Value.Payload.Length);

            // Never answered: the receive ends and the socket is aborted.
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive.WaitAsync(Timeout));
            Assert.Equal(WebSocketState.Aborted, socket.State);
            Assert.Equal(0, _clock.Count);
        }
    }

    [Fact]
    public async Task Keep_alive_with_a_timeout_keeps_a_peer_that_answers()
    {
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        using (var socket = new SocketWebSocket(server, null, TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(200), _clock))
        {
            var receive = socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
            long last = 0;
            for (int i = 0; i < 5; i++)
            {
                var ping = await Loopback.ReadServerFrameAsync(client).WaitAsync(Timeout);
                Assert.Equal(RawWebSocket.Ping, ping!.Value.Opcode);
                long counter = BinaryPrimitives.ReadInt64BigEndian(ping.Value.Payload);
                Assert.True(counter > last);
                last = counter;
                await client.SendAsync(RawWebSocket.Frame(RawWebSocket.Pong, ping.Value.Payload), SocketFlags.None);
            }

            Assert.False(receive.IsCompleted);
            Assert.Equal(WebSocketState.Open, socket.State);
            Assert.Equal(1, _clock.Count);
        }

        Assert.Equal(0, _clock.Count); // disposing the WebSocket takes it off the clock
    }

    [Fact]
    public async Task Keep_alive_without_a_timeout_sends_unsolicited_pongs()
    {
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        using (var socket = new SocketWebSocket(server, null, TimeSpan.FromMilliseconds(20), System.Threading.Timeout.InfiniteTimeSpan, _clock))
        {
            var receive = socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
            for (int i = 0; i < 3; i++)
            {
                var pong = await Loopback.ReadServerFrameAsync(client).WaitAsync(Timeout);
                Assert.Equal(RawWebSocket.Pong, pong!.Value.Opcode);
                Assert.Empty(pong.Value.Payload);
            }

            Assert.False(receive.IsCompleted);
            Assert.Equal(WebSocketState.Open, socket.State);
        }
    }

    /// <summary>Every frame the server sends, read by a raw client until the server ends its side.</summary>
    private static async Task<List<(int Opcode, int Length)>> ReadAllFramesAsync(Socket client)
    {
        var frames = new List<(int Opcode, int Length)>();
        while (await Loopback.ReadServerFrameAsync(client) is { } frame)
        {
            frames.Add((frame.Opcode, frame.Payload.Length));
        }

        return frames;
    }

    [Fact]
    public async Task Nothing_follows_the_close_frame_not_even_the_pong_of_a_ping_that_comes_after_it()
    {
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        using (var socket = new SocketWebSocket(server, null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan, _clock))
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            Assert.Equal(WebSocketState.CloseSent, socket.State);

            // The peer pings before it has read our close: RFC 6455 5.5.1 says no pong may follow the close frame.
            await client.SendAsync((byte[])[.. RawWebSocket.Frame(RawWebSocket.Ping, "late"u8), .. RawWebSocket.Frame(RawWebSocket.Close, [0x03, 0xE8])], SocketFlags.None);
            var result = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask().WaitAsync(Timeout);
            Assert.Equal(WebSocketMessageType.Close, result.MessageType);
            Assert.Equal(WebSocketState.Closed, socket.State);

            server.Shutdown(SocketShutdown.Send);
            Assert.Equal([(RawWebSocket.Close, 2)], await ReadAllFramesAsync(client).WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task Nothing_follows_a_close_frame_still_waiting_behind_a_send_neither_keep_alive_nor_pong()
    {
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        using (var socket = new SocketWebSocket(server, null, TimeSpan.FromHours(1), TimeSpan.FromHours(1), _clock))
        {
            var receive = socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();

            // The client reads nothing yet: the large frame is stuck in the socket, and the close waits behind it.
            server.SendBufferSize = 64 * 1024;
            client.ReceiveBufferSize = 64 * 1024;
            const int Large = 16 * 1024 * 1024;
            var send = socket.SendAsync(new byte[Large].AsMemory(), WebSocketMessageType.Binary, true, CancellationToken.None).AsTask();
            var close = socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            Assert.False(close.IsCompleted);
            Assert.Equal(WebSocketState.Open, socket.State); // the close frame has not left yet

            // While it waits, a keep-alive ping falls due and the peer pings: neither answer may follow the close.
            socket.OnKeepAliveTick(Environment.TickCount64 + (long)TimeSpan.FromHours(2).TotalMilliseconds);
            await client.SendAsync((byte[])[.. RawWebSocket.Frame(RawWebSocket.Ping, "ping"u8), .. RawWebSocket.Frame(RawWebSocket.Close, [0x03, 0xE8])], SocketFlags.None);

            var frames = ReadAllFramesAsync(client);
            await Task.WhenAll(send, close).WaitAsync(Timeout);
            Assert.Equal(WebSocketMessageType.Close, (await receive.WaitAsync(Timeout)).MessageType);
            Assert.Equal(WebSocketState.Closed, socket.State);
            server.Shutdown(SocketShutdown.Send);
            Assert.Equal([(RawWebSocket.Binary, Large), (RawWebSocket.Close, 2)], await frames.WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task An_unmasked_client_frame_is_a_protocol_error()
    {
        var (server, client) = await Loopback.ConnectAsync();
        using (server)
        using (client)
        using (var socket = new SocketWebSocket(server, null, TimeSpan.Zero, System.Threading.Timeout.InfiniteTimeSpan, _clock))
        {
            // .NET's own WebSocket accepts this frame; RFC 6455 5.1 says a server must close the connection.
            await client.SendAsync(new byte[] { 0x81, 0x02, (byte)'h', (byte)'i', 0, 0, 0, 0 }, SocketFlags.None);
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask().WaitAsync(Timeout));
            var close = await Loopback.ReadServerFrameAsync(client).WaitAsync(Timeout);
            Assert.Equal(RawWebSocket.Close, close!.Value.Opcode);
            Assert.Equal(1002, BinaryPrimitives.ReadUInt16BigEndian(close.Value.Payload));
            Assert.Equal(WebSocketState.Aborted, socket.State);
        }
    }
}
