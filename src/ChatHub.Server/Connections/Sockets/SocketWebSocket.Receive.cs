using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace ChatHub.Server.Connections.Sockets;

/// <summary>
/// Receiving. Headers and control payloads go through a small pooled buffer rented only while bytes wait in it
/// (an idle socket waiting in a zero-byte receive holds none); data payloads are read straight into the caller's
/// buffer and unmasked there. A huge announced length is streamed piece by piece, never allocated.
/// </summary>
internal sealed partial class SocketWebSocket
{
    /// <summary>Room for a header and a control frame's payload, and some read-ahead.</summary>
    private const int ReceiveBufferSize = 256;

    private byte[]? _receiveBuffer;
    private int _receiveOffset;
    private int _receiveCount;
    private int _receiving;
    private int _maskIndex;
    private FrameHeader _lastHeader = new() { Opcode = FrameOpcode.Text, Fin = true, Processed = true };
    private Utf8Progress _utf8;

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
        return new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage, _closeStatus, _closeStatusDescription);
    }

    /// <summary>
    /// As .NET's: an empty <paramref name="buffer"/> waits for the next message and tells its type without taking
    /// any of it; a buffer gets the payload, at most the rest of the current frame. Pings are answered and pongs
    /// taken in passing. Besides refusing unmasked frames (1002), it differs in one way: a peer that ends the TCP
    /// connection between frames without a close frame, cleanly or by a reset (a dropped client with unread bytes), yields a <see cref="WebSocketMessageType.Close"/> result with no <see cref="CloseStatus"/> and
    /// the state <see cref="WebSocketState.Aborted"/>, where .NET's throws
    /// <see cref="WebSocketError.ConnectionClosedPrematurely"/>: the same ending, without an exception.
    /// </summary>
    public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            ThrowIfInvalidState(WebSocketState.Open, WebSocketState.CloseSent);
        }
        catch (Exception e)
        {
            return ValueTask.FromException<ValueWebSocketReceiveResult>(e);
        }

        // One receive at a time, as .NET's: a second one fails on its own, before it touches anything, and leaves
        // the pending receive and the connection as they were. The receive that takes this gate releases it when it
        // ends (ReceiveCoreAsync, or WaitThenReceiveAsync if its wait fails).
        if (Interlocked.Exchange(ref _receiving, 1) != 0)
        {
            return ValueTask.FromException<ValueWebSocketReceiveResult>(
                new InvalidOperationException("There is already one outstanding 'ReceiveAsync' call for this WebSocket instance. ReceiveAsync and SendAsync can be called simultaneously, but at most one outstanding operation for each of them is allowed at the same time."));
        }

        // Idle between messages: wait in a small state machine of its own, so what an idle connection holds is that,
        // not the whole receive's (which is pooled and taken only once bytes are there).
        if (buffer.IsEmpty && _receiveCount == 0 && _lastHeader.Processed && !cancellationToken.CanBeCanceled)
        {
            return WaitThenReceiveAsync();
        }

        return ReceiveCoreAsync(buffer, cancellationToken, waited: false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ValueWebSocketReceiveResult> WaitThenReceiveAsync()
    {
        try
        {
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset && _state is WebSocketState.Open or WebSocketState.CloseSent)
        {
            // Reset between frames (a dropped client that had unread bytes): the same ending as a clean one.
            Volatile.Write(ref _receiving, 0);
            return PeerEnded();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Volatile.Write(ref _receiving, 0);
            throw ReceiveFailure(e);
        }

        // Still holding the receive gate: ReceiveCoreAsync releases it.
        return await ReceiveCoreAsync(Memory<byte>.Empty, CancellationToken.None, waited: true).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ValueWebSocketReceiveResult> ReceiveCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken, bool waited)
    {
        // Called holding the receive gate (see ReceiveAsync); released in the inner finally.
        CancellationTokenRegistration registration = default;
        try
        {
            try
            {
                if (cancellationToken.CanBeCanceled)
                {
                    registration = cancellationToken.UnsafeRegister(static s => ((SocketWebSocket)s!).Abort(), this);
                }

                ObjectDisposedException.ThrowIf(_disposed, typeof(WebSocket));
                while (true)
                {
                    var header = _lastHeader;
                    if (header.Processed)
                    {
                        if (_receiveCount < 2)
                        {
                            if (buffer.IsEmpty && _receiveCount == 0 && !waited)
                            {
                                // Waits for data without a buffer: an idle socket holds none.
                                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                            }

                            if (!await FillAsync(2, cancellationToken).ConfigureAwait(false))
                            {
                                if (_receiveCount == 0 && _state is WebSocketState.Open or WebSocketState.CloseSent)
                                {
                                    return PeerEnded();
                                }

                                throw EndedPrematurely();
                            }
                        }

                        int headerLength = FrameHeader.ClientLength(_receiveBuffer![_receiveOffset + 1]);
                        if (!await FillAsync(headerLength, cancellationToken).ConfigureAwait(false))
                        {
                            throw EndedPrematurely();
                        }

                        string? error = FrameHeader.TryParse(_receiveBuffer.AsSpan(_receiveOffset, headerLength), _lastHeader, out header, out int consumed);
                        if (error is not null)
                        {
                            await FailAsync(WebSocketCloseStatus.ProtocolError, error).ConfigureAwait(false);
                        }

                        Consume(consumed);
                        _maskIndex = 0;
                    }

                    if (header.Opcode is FrameOpcode.Ping or FrameOpcode.Pong)
                    {
                        await HandlePingPongAsync(header, cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    if (header.Opcode == FrameOpcode.Close)
                    {
                        await HandleCloseAsync(header, cancellationToken).ConfigureAwait(false);
                        return new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true);
                    }

                    if (header.Opcode == FrameOpcode.Continuation)
                    {
                        header.Opcode = _lastHeader.Opcode;
                    }

                    var type = header.Opcode == FrameOpcode.Text ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
                    if (header.Processed || buffer.IsEmpty)
                    {
                        _lastHeader = header;
                        ReleaseReceiveBufferIfEmpty();
                        return new ValueWebSocketReceiveResult(0, type, header.EndOfMessage);
                    }

                    int received = 0;
                    if (header.Remaining > 0)
                    {
                        int limit = (int)Math.Min(buffer.Length, header.Remaining);
                        if (_receiveCount > 0)
                        {
                            received = Math.Min(limit, _receiveCount);
                            _receiveBuffer.AsSpan(_receiveOffset, received).CopyTo(buffer.Span);
                            Consume(received);
                        }

                        while (received < limit)
                        {
                            int read = await ReceiveOnceAsync(buffer[received..limit], cancellationToken).ConfigureAwait(false);
                            if (read == 0)
                            {
                                throw EndedPrematurely();
                            }

                            OnDataReceived();
                            received += read;
                        }

                        _maskIndex = FrameMask.Apply(buffer.Span[..received], header.Mask, _maskIndex);
                        header.Remaining -= received;
                    }

                    header.Processed = header.Remaining == 0;
                    if (header.Opcode == FrameOpcode.Text && !_utf8.TryAdvance(buffer.Span[..received], header.EndOfMessage))
                    {
                        await FailAsync(WebSocketCloseStatus.InvalidPayloadData, null).ConfigureAwait(false);
                    }

                    _lastHeader = header;
                    ReleaseReceiveBufferIfEmpty();
                    return new ValueWebSocketReceiveResult(received, type, header.EndOfMessage);
                }
            }
            finally
            {
                // The normal endings have released it already; an ending by exception with nothing buffered (the
                // stream ended, a dispose) must not leave it to the GC. Still inside the receive: nobody else fills it.
                ReleaseReceiveBufferIfEmpty();
                Volatile.Write(ref _receiving, 0);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var failure = ReceiveFailure(e);
            if (failure == e)
            {
                throw;
            }

            throw failure;
        }
        finally
        {
            registration.Dispose();
        }
    }

    /// <summary>As .NET's: cancelled if this socket was aborted, else Aborted now and a <see cref="WebSocketException"/>.</summary>
    private Exception ReceiveFailure(Exception e)
    {
        if (_state == WebSocketState.Aborted)
        {
            return new OperationCanceledException(nameof(WebSocketState.Aborted), e);
        }

        OnAborted();
        return e is WebSocketException ? e : new WebSocketException(WebSocketError.ConnectionClosedPrematurely, e);
    }

    /// <summary>The peer ended TCP between frames: reported as a close without a status, not as an exception.</summary>
    private ValueWebSocketReceiveResult PeerEnded()
    {
        OnAborted();
        ReleaseReceiveBufferIfEmpty();
        return new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true);
    }

    private Exception EndedPrematurely()
    {
        ObjectDisposedException.ThrowIf(_disposed, typeof(WebSocket));
        return new WebSocketException(WebSocketError.ConnectionClosedPrematurely);
    }

    private async ValueTask HandlePingPongAsync(FrameHeader header, CancellationToken cancellationToken)
    {
        int length = (int)header.Remaining;
        if (length > 0 && !await FillAsync(length, cancellationToken).ConfigureAwait(false))
        {
            throw EndedPrematurely();
        }

        if (length > 0)
        {
            FrameMask.Apply(_receiveBuffer.AsSpan(_receiveOffset, length), header.Mask, 0);
        }

        if (header.Opcode == FrameOpcode.Ping)
        {
            var pong = SendFrameAsync(FrameOpcode.Pong, length > 0 ? _receiveBuffer.AsSpan(_receiveOffset, length) : default, flush: true, cancellationToken);
            if (length > 0)
            {
                Consume(length);
            }

            await pong.ConfigureAwait(false);
        }
        else
        {
            OnPongReceived(length > 0 ? _receiveBuffer.AsSpan(_receiveOffset, length) : default);
            if (length > 0)
            {
                Consume(length);
            }
        }

        ReleaseReceiveBufferIfEmpty();
    }

    private async ValueTask HandleCloseAsync(FrameHeader header, CancellationToken cancellationToken)
    {
        lock (this)
        {
            _receivedCloseFrame = true;
            if (_sentCloseFrame && _state < WebSocketState.Closed)
            {
                _state = WebSocketState.Closed;
                _keepAlive.Unregister(this);
            }
            else if (_state < WebSocketState.CloseReceived)
            {
                _state = WebSocketState.CloseReceived;
            }
        }

        var status = WebSocketCloseStatus.NormalClosure;
        string description = string.Empty;
        int length = (int)header.Remaining;
        if (length == 1)
        {
            await FailAsync(WebSocketCloseStatus.ProtocolError, null).ConfigureAwait(false);
        }
        else if (length >= 2)
        {
            if (!await FillAsync(length, cancellationToken).ConfigureAwait(false))
            {
                throw EndedPrematurely();
            }

            var payload = _receiveBuffer.AsSpan(_receiveOffset, length);
            FrameMask.Apply(payload, header.Mask, 0);
            int code = (payload[0] << 8) | payload[1];
            if (!CloseFrame.IsValidReceived(code))
            {
                await FailAsync(WebSocketCloseStatus.ProtocolError, null).ConfigureAwait(false);
            }

            status = (WebSocketCloseStatus)code;
            if (length > 2)
            {
                if (!System.Text.Unicode.Utf8.IsValid(_receiveBuffer.AsSpan(_receiveOffset + 2, length - 2)))
                {
                    await FailAsync(WebSocketCloseStatus.ProtocolError, null).ConfigureAwait(false);
                }

                description = Encoding.UTF8.GetString(_receiveBuffer.AsSpan(_receiveOffset + 2, length - 2));
            }

            Consume(length);
        }

        _closeStatus = status;
        _closeStatusDescription = description;
        ReleaseReceiveBufferIfEmpty();
    }

    /// <summary>
    /// Bad input, as .NET answers it: the close frame with <paramref name="status"/> (unless one was sent already),
    /// then a <see cref="WebSocketException"/>; nothing more is read, so the framing cannot go out of step.
    /// </summary>
    private async ValueTask FailAsync(WebSocketCloseStatus status, string? message)
    {
        if (!Volatile.Read(ref _closeFrameQueued))
        {
            await CloseOutputCoreAsync(status, string.Empty, CancellationToken.None).ConfigureAwait(false);
        }

        _receiveCount = 0;
        ReleaseReceiveBufferIfEmpty();
        throw message is null
            ? new WebSocketException(WebSocketError.Faulted)
            : new WebSocketException(WebSocketError.Faulted, message);
    }

    /// <summary>Reads until at least <paramref name="count"/> bytes wait in the receive buffer; false at the end of the stream.</summary>
    private async ValueTask<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_receiveCount >= count)
        {
            return true;
        }

        if (_receiveBuffer is null)
        {
            _receiveBuffer = _pool.Rent(ReceiveBufferSize);
            _receiveOffset = 0;
        }
        else if (_receiveOffset > 0)
        {
            _receiveBuffer.AsSpan(_receiveOffset, _receiveCount).CopyTo(_receiveBuffer);
            _receiveOffset = 0;
        }

        while (_receiveCount < count)
        {
            int read = await ReceiveOnceAsync(_receiveBuffer.AsMemory(_receiveCount), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }

            OnDataReceived();
            _receiveCount += read;
        }

        return true;
    }

    private void Consume(int count)
    {
        _receiveOffset += count;
        _receiveCount -= count;
    }

    /// <summary>Only the receive path rents and returns this buffer, so it is never returned while a read fills it.</summary>
    private void ReleaseReceiveBufferIfEmpty()
    {
        if (_receiveCount == 0 && _receiveBuffer is not null)
        {
            _pool.Return(_receiveBuffer);
            _receiveBuffer = null;
            _receiveOffset = 0;
        }
    }
}
