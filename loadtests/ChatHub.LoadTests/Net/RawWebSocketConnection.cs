using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using ChatHub.LoadTests.Protocol;

namespace ChatHub.LoadTests.Net;

/// <summary>
/// A client WebSocket read straight off its socket: frames are parsed in place from one receive buffer, so a
/// read that brings several presence lines costs one receive, not one per frame. Answers pings and the close
/// handshake; what the server sends goes to the sink like <see cref="LoadConnection"/>'s.
/// </summary>
internal sealed class RawWebSocketConnection : IChatConnection
{
    // A server frame larger than this is treated as a broken stream rather than grown into.
    private const int MaxFrameBytes = 16 * 1024 * 1024;

    private readonly Socket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private Task _receiveLoop = Task.CompletedTask;
    private volatile bool _disposing;

    public RawWebSocketConnection(Socket socket)
    {
        _socket = socket;
    }

    /// <summary>Starts reading into <paramref name="sink"/>; <paramref name="first"/> are bytes already read with the upgrade head.</summary>
    public void StartReceiving(IFrameSink sink, byte[] first, int initialBufferBytes) =>
        _receiveLoop = ReceiveLoopAsync(sink, first, initialBufferBytes);

    public ValueTask SayAsync(string room, string text, CancellationToken ct) =>
        SendFrameAsync(0x1, FrameCodec.Say(room, text), ct);

    private async Task ReceiveLoopAsync(IFrameSink sink, byte[] first, int initialBufferBytes)
    {
        await Task.Yield();
        byte[] buffer = new byte[Math.Max(initialBufferBytes, first.Length)];
        first.CopyTo(buffer, 0);
        int start = 0, end = first.Length;
        ArrayBufferWriter<byte>? fragments = null;
        try
        {
            while (true)
            {
                // Every whole frame in the buffer first, then one receive for more.
                while (TryReadHeader(buffer.AsSpan(start, end - start), out int headerLength, out long payloadLength, out byte first0))
                {
                    if (payloadLength > MaxFrameBytes)
                    {
                        throw new WebSocketException(WebSocketError.HeaderError, $"a {payloadLength}-byte frame");
                    }
                    int frameLength = headerLength + (int)payloadLength;
                    if (end - start < frameLength)
                    {
                        if (frameLength > buffer.Length)
                        {
                            Array.Resize(ref buffer, Math.Max(frameLength, buffer.Length * 2));
                        }
                        break;
                    }
                    ReadOnlySpan<byte> payload = buffer.AsSpan(start + headerLength, (int)payloadLength);
                    start += frameLength;
                    bool fin = (first0 & 0x80) != 0;
                    switch (first0 & 0x0F)
                    {
                        case 0x1 or 0x2 when fin && fragments is null:
                            sink.OnFrame(payload, Stopwatch.GetTimestamp());
                            break;
                        case 0x1 or 0x2:
                        case 0x0:
                            fragments ??= new ArrayBufferWriter<byte>();
                            fragments.Write(payload);
                            if (fin)
                            {
                                sink.OnFrame(fragments.WrittenSpan, Stopwatch.GetTimestamp());
                                fragments = null;
                            }
                            break;
                        case 0x8:
                            await CloseReceivedAsync(sink, payload.ToArray()).ConfigureAwait(false);
                            return;
                        case 0x9:
                            await SendFrameAsync(0xA, payload.ToArray(), CancellationToken.None).ConfigureAwait(false);
                            break;
                    }
                }

                if (start == end)
                {
                    start = end = 0;
                }
                else if (end == buffer.Length)
                {
                    // Keep the partial frame and make room behind it.
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                int read = await _socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
                if (read == 0)
                {
                    if (!_disposing)
                    {
                        sink.OnClosed(null, "the server ended the connection without a close frame");
                    }
                    return;
                }
                end += read;
            }
        }
        catch (Exception ex) when (ex is SocketException or WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            if (!_disposing)
            {
                sink.OnClosed(null, ex.GetType().Name + ": " + ex.Message);
            }
        }
    }

    /// <summary>A server frame's header: FIN/opcode byte, then 7, 16 or 64-bit length (servers do not mask, RFC 6455 5.1).</summary>
    private static bool TryReadHeader(ReadOnlySpan<byte> data, out int headerLength, out long payloadLength, out byte first)
    {
        headerLength = 0;
        payloadLength = 0;
        first = 0;
        if (data.Length < 2)
        {
            return false;
        }
        if ((data[1] & 0x80) != 0)
        {
            throw new WebSocketException(WebSocketError.HeaderError, "the server sent a masked frame");
        }
        first = data[0];
        int length7 = data[1] & 0x7F;
        (headerLength, payloadLength) = length7 switch
        {
            126 when data.Length >= 4 => (4, BinaryPrimitives.ReadUInt16BigEndian(data[2..])),
            127 when data.Length >= 10 => (10, (long)BinaryPrimitives.ReadUInt64BigEndian(data[2..])),
            126 or 127 => (0, 0L),
            _ => (2, length7),
        };
        return headerLength > 0;
    }

    private async ValueTask CloseReceivedAsync(IFrameSink sink, byte[] payload)
    {
        WebSocketCloseStatus? status = payload.Length >= 2 ? (WebSocketCloseStatus)BinaryPrimitives.ReadUInt16BigEndian(payload) : null;
        string? reason = payload.Length > 2 ? Encoding.UTF8.GetString(payload, 2, payload.Length - 2) : null;
        try
        {
            // Echo the status, completing the close handshake as the RFC asks of the receiving endpoint.
            await SendFrameAsync(0x8, payload.AsMemory(0, Math.Min(2, payload.Length)), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The server may already have gone; the close it sent is what we report.
        }
        if (!_disposing)
        {
            sink.OnClosed(status, reason);
        }
    }

    /// <summary>One final frame, masked as every client frame must be (RFC 6455 5.3).</summary>
    private async ValueTask SendFrameAsync(byte opcode, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        int headerLength = payload.Length < 126 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        byte[] frame = ArrayPool<byte>.Shared.Rent(headerLength + 4 + payload.Length);
        try
        {
            frame[0] = (byte)(0x80 | opcode);
            switch (headerLength)
            {
                case 2:
                    frame[1] = (byte)(0x80 | payload.Length);
                    break;
                case 4:
                    frame[1] = 0x80 | 126;
                    BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
                    break;
                default:
                    frame[1] = 0x80 | 127;
                    BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
                    break;
            }
            Span<byte> mask = frame.AsSpan(headerLength, 4);
            RandomNumberGenerator.Fill(mask);
            Span<byte> body = frame.AsSpan(headerLength + 4, payload.Length);
            payload.Span.CopyTo(body);
            for (int i = 0; i < body.Length; i++)
            {
                body[i] ^= mask[i & 3];
            }

            await _sendLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                int total = headerLength + 4 + payload.Length, sent = 0;
                while (sent < total)
                {
                    sent += await _socket.SendAsync(frame.AsMemory(sent, total - sent), SocketFlags.None, ct).ConfigureAwait(false);
                }
            }
            finally
            {
                _sendLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposing = true;
        _socket.Dispose();
        try
        {
            await _receiveLoop.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The loop only ends with socket errors here, which are expected on dispose.
        }
        _sendLock.Dispose();
    }
}
