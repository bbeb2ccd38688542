using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using ChatHub.Server.Connections;

namespace ChatHub.Tests.Unit.Sockets;

/// <summary>Real loopback TCP connections for the WebSocket-over-a-socket tests: one shared listener, a pair per call.</summary>
internal static class Loopback
{
    private static readonly SemaphoreSlim Accepting = new(1, 1);
    private static readonly Lazy<Socket> Listener = new(() =>
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(512);
        return listener;
    });

    public static IPEndPoint EndPoint => (IPEndPoint)Listener.Value.LocalEndPoint!;

    /// <summary>A connected (server, client) pair of sockets.</summary>
    public static async Task<(Socket Server, Socket Client)> ConnectAsync()
    {
        await Accepting.WaitAsync();
        try
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var accept = Listener.Value.AcceptAsync();
            await client.ConnectAsync(EndPoint);
            var server = await accept;
            server.NoDelay = true;
            return (server, client);
        }
        finally
        {
            Accepting.Release();
        }
    }

    /// <summary>
    /// A <see cref="ClientWebSocket"/> connected through a real upgrade answered by hand, and the server's socket
    /// after it (what the listener hands a <c>SocketWebSocket</c>).
    /// </summary>
    public static async Task<(Socket Server, ClientWebSocket Client)> ConnectClientWebSocketAsync()
    {
        await Accepting.WaitAsync();
        try
        {
            var client = new ClientWebSocket();
            var accept = Listener.Value.AcceptAsync();
            var connect = client.ConnectAsync(new Uri($"ws://127.0.0.1:{EndPoint.Port}/ws"), CancellationToken.None);
            var server = await accept;
            server.NoDelay = true;

            // The client sends nothing after its request until it has the 101, so this read takes exactly the head.
            var head = new StringBuilder();
            var buffer = new byte[4096];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                int read = await server.ReceiveAsync(buffer, SocketFlags.None);
                Assert.True(read > 0, "the client left during its handshake");
                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            string key = head.ToString().Split("\r\n")
                .First(line => line.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))["Sec-WebSocket-Key:".Length..].Trim();
            await server.SendAsync(Encoding.ASCII.GetBytes(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Accept: {WebSocketHandshake.ComputeAccept(key)}\r\n\r\n"), SocketFlags.None);
            await connect;
            return (server, client);
        }
        finally
        {
            Accepting.Release();
        }
    }

    /// <summary>Reads one server frame (unmasked) from a raw client socket; null at the end of the stream.</summary>
    public static async Task<(bool Fin, int Opcode, byte[] Payload)?> ReadServerFrameAsync(Socket client)
    {
        var head = new byte[10];
        if (!await ReadExactlyAsync(client, head.AsMemory(0, 2)))
        {
            return null;
        }

        Assert.Equal(0, head[1] & 0x80); // a server never masks
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            Assert.True(await ReadExactlyAsync(client, head.AsMemory(2, 2)));
            length = BinaryPrimitives.ReadUInt16BigEndian(head.AsSpan(2));
        }
        else if (length == 127)
        {
            Assert.True(await ReadExactlyAsync(client, head.AsMemory(2, 8)));
            length = BinaryPrimitives.ReadInt64BigEndian(head.AsSpan(2));
        }

        var payload = new byte[length];
        Assert.True(await ReadExactlyAsync(client, payload), "the stream ended inside a frame");
        return ((head[0] & 0x80) != 0, head[0] & 0x0F, payload);
    }

    public static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = await socket.ReceiveAsync(buffer[total..], SocketFlags.None);
            if (read == 0)
            {
                return false;
            }

            total += read;
        }

        return true;
    }

    /// <summary>Everything a socket receives until its peer ends the stream (or resets it).</summary>
    public static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        var all = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                all.Write(buffer, 0, read);
            }
        }
        catch (SocketException)
        {
            // A reset after the last bytes: what arrived before it is the answer.
        }

        return all.ToArray();
    }
}
