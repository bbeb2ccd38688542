using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace ChatHub.Tests.Infrastructure;

/// <summary>
/// A WebSocket client written by hand over a raw TCP socket, for what <see cref="System.Net.WebSockets.ClientWebSocket"/>
/// will not send: many frames in one write, invalid UTF-8, fragments with control frames between them, reserved
/// opcodes. Frames it writes are masked, as a client's must be; frames it reads are the server's, unmasked.
/// </summary>
public sealed class RawWebSocket : IDisposable
{
    public const int Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start, _end;

    private RawWebSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Connects and upgrades; the handshake must answer 101.</summary>
    public static async Task<RawWebSocket> ConnectAsync(Uri baseAddress, string query)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port);
        var socket = new RawWebSocket(tcp);
        await socket.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /ws?{query} HTTP/1.1\r\nHost: {baseAddress.Authority}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
        string head = await socket.ReadHeadAsync();
        Assert.True(head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal), $"no upgrade: {head}");
        return socket;
    }

    /// <summary>One client frame: FIN as given, masked with a key from <paramref name="random"/>.</summary>
    public static byte[] Frame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, Random? random = null, int rsv = 0)
    {
        int lengthBytes = payload.Length < 126 ? 0 : payload.Length <= ushort.MaxValue ? 2 : 8;
        var frame = new byte[2 + lengthBytes + 4 + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xF));
        switch (lengthBytes)
        {
            case 0: frame[1] = (byte)(0x80 | payload.Length); break;
            case 2: frame[1] = 0x80 | 126; BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length); break;
            default: frame[1] = 0x80 | 127; BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length); break;
        }

        Span<byte> mask = frame.AsSpan(2 + lengthBytes, 4);
        (random ?? Random.Shared).NextBytes(mask);
        var body = frame.AsSpan(6 + lengthBytes);
        for (int i = 0; i < payload.Length; i++)
        {
            body[i] = (byte)(payload[i] ^ mask[i & 3]);
        }

        return frame;
    }

    public static byte[] TextFrame(string text) => Frame(Text, Encoding.UTF8.GetBytes(text));

    public async Task WriteAsync(byte[] bytes)
    {
        using var cts = new CancellationTokenSource(WsClient.Timeout);
        await _stream.WriteAsync(bytes, cts.Token);
    }

    /// <summary>The next server frame; null when the server closed the TCP connection.</summary>
    public async Task<(int Opcode, byte[] Payload)?> ReadFrameAsync()
    {
        if (!await FillAsync(2))
        {
            return null;
        }

        int opcode = _buffer[_start] & 0xF;
        int length = _buffer[_start + 1] & 0x7F;
        int header = 2;
        if (length == 126)
        {
            if (!await FillAsync(4))
            {
                return null;
            }

            length = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_start + 2));
            header = 4;
        }
        else if (length == 127)
        {
            if (!await FillAsync(10))
            {
                return null;
            }

            length = checked((int)BinaryPrimitives.ReadUInt64BigEndian(_buffer.AsSpan(_start + 2)));
            header = 10;
        }

        var payload = new byte[length];
        _start += header;
        for (int copied = 0; copied < length;)
        {
            if (!await FillAsync(1))
            {
                return null;
            }

            int n = Math.Min(length - copied, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(payload.AsSpan(copied));
            _start += n;
            copied += n;
        }

        return (opcode, payload);
    }

    /// <summary>Reads frames until the server's close frame; its code, or null when the TCP connection ended without one.</summary>
    public async Task<int?> ReadUntilCloseAsync(Action<int, byte[]>? onFrame = null)
    {
        while (await ReadFrameAsync() is { } frame)
        {
            if (frame.Opcode == Close)
            {
                return frame.Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(frame.Payload) : 1005;
            }

            onFrame?.Invoke(frame.Opcode, frame.Payload);
        }

        return null;
    }

    private async Task<string> ReadHeadAsync()
    {
        while (true)
        {
            int end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                string head = Encoding.ASCII.GetString(_buffer, _start, end + 4);
                _start += end + 4;
                return head;
            }

            Assert.True(await FillAsync(_end - _start + 1), "the server closed before the end of its response head");
        }
    }

    /// <summary>Makes at least <paramref name="count"/> unread bytes available; false at end of stream.</summary>
    private async Task<bool> FillAsync(int count)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        using var cts = new CancellationTokenSource(WsClient.Timeout);
        while (_end < count)
        {
            int n;
            try
            {
                n = await _stream.ReadAsync(_buffer.AsMemory(_end), cts.Token);
            }
            catch (IOException)
            {
                return false; // reset by the server
            }

            if (n == 0)
            {
                return false;
            }

            _end += n;
        }

        return true;
    }

    public void Dispose() => _tcp.Dispose();
}
