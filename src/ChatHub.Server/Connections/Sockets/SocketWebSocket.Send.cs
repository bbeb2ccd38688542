using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace ChatHub.Server.Connections.Sockets;

/// <summary>
/// Sending. Every frame, the write loop's and the WebSocket's own (pong, keep-alive, close), is written whole into
/// one pooled buffer under a lock, so no frame can interleave inside another; whoever finds no send in flight takes
/// the buffer and sends it, and keeps sending while frames that asked to go out were added meanwhile. No mutex per
/// socket: the lock is this object's own monitor (no allocation unless contended), and a waiter's
/// <see cref="TaskCompletionSource"/> exists only while a send races another.
/// </summary>
internal sealed partial class SocketWebSocket
{
    /// <summary>Gathered bytes leave past this even mid-burst (as <see cref="BatchingStream"/>), so a burst never grows a huge buffer.</summary>
    private const int MaxGatheredBytes = 64 * 1024;

    private byte[]? _pending;
    private int _pendingLength;
    private bool _sending;          // a socket send is in flight; its sender sends what is asked for after it
    private bool _flushRequested;   // frames gathered meanwhile must leave when that send ends
    private TaskCompletionSource? _flushed; // for senders that found a send in flight and must wait for theirs
    private Exception? _sendFailure;
    private bool _captured;
    private bool _capturedLast;
    private bool _lastSendWasFragment;
    private bool _closeFrameQueued; // our close frame is gathered or sent: nothing may follow it on the wire
    private bool _upgradeGathered;  // the handshake's response is gathered and has not left yet

    /// <summary>
    /// Gathers the handshake's response (the <c>101</c>) ahead of every frame, so that it leaves in the same socket
    /// send as the connection's first frames (the <c>welcome</c>, and the query's <c>joined</c>) instead of in a
    /// send of its own: a socket send is a large share of the server's CPU per connect (docs/performance.md). Called
    /// once, before the connection runs; whatever is sent first carries it. When the first frame may be late,
    /// <see cref="SendUpgradeResponseNow"/> sends it alone.
    /// </summary>
    internal void GatherUpgradeResponse(ReadOnlySpan<byte> response)
    {
        lock (this)
        {
            if (_pendingLength != 0 || _sending || _disposed)
            {
                throw new InvalidOperationException("The upgrade response goes before every frame.");
            }

            EnsurePending(response.Length);
            response.CopyTo(_pending);
            _pendingLength = response.Length;
            _upgradeGathered = true;
        }
    }

    /// <summary>
    /// Sends the gathered upgrade response now, with whatever is gathered behind it, unless it has left already (or
    /// is leaving): for a connection whose first frame waits on something outside this server (a name claimed in a
    /// cluster's store), so that the client is not kept waiting for its <c>101</c> meanwhile.
    /// </summary>
    internal void SendUpgradeResponseNow()
    {
        byte[] toSend;
        int length;
        lock (this)
        {
            if (!_upgradeGathered || _sending || _disposed || _sendFailure is not null)
            {
                return;
            }

            _sending = true;
            (toSend, length) = TakePending();
        }

        ObserveInBackground(SendLoopAsync(toSend, length, CancellationToken.None));
    }

    public void CaptureNextWrite(bool last)
    {
        _captured = true;
        _capturedLast = last;
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    /// <summary>
    /// Frames a message (or a piece of one). Marked by <see cref="CaptureNextWrite"/>, it is gathered and sent with
    /// the last of its burst; unmarked, it is sent now. Completes once its bytes are in the socket's hands.
    /// </summary>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        if (messageType is not (WebSocketMessageType.Text or WebSocketMessageType.Binary))
        {
            throw new ArgumentException("Only Text and Binary messages are sent with SendAsync; use CloseOutputAsync to close.", nameof(messageType));
        }

        try
        {
            ThrowIfInvalidState(WebSocketState.Open, WebSocketState.CloseReceived);
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }

        var opcode = _lastSendWasFragment ? FrameOpcode.Continuation
            : messageType == WebSocketMessageType.Binary ? FrameOpcode.Binary : FrameOpcode.Text;
        _lastSendWasFragment = !endOfMessage;
        bool flush = !_captured || _capturedLast;
        _captured = false;
        return SendFrameAsync(opcode, buffer.Span, flush, cancellationToken, fin: endOfMessage);
    }

    /// <summary>
    /// Appends one frame to what is gathered; when <paramref name="flush"/> (or past the bound) sends it all, or,
    /// with a send in flight, asks its sender to and waits for that.
    /// </summary>
    private ValueTask SendFrameAsync(FrameOpcode opcode, ReadOnlySpan<byte> payload, bool flush, CancellationToken cancellationToken, bool fin = true)
    {
        byte[] toSend;
        int length;
        Task? wait = null;
        lock (this)
        {
            if (_sendFailure is not null)
            {
                return ValueTask.FromException(TransportFailure(_sendFailure));
            }

            if (_disposed)
            {
                return ValueTask.FromException(new ObjectDisposedException(typeof(WebSocket).FullName));
            }

            // RFC 6455 5.5.1: after a close frame an endpoint sends nothing more, control frames included. The
            // check is here, under the lock that orders the gathered frames, because a pong (read loop) or a
            // keep-alive ping (clock) can be asked for while the close frame is still waiting behind a send: a
            // state check before the call cannot see that. A pong or ping is simply not sent (the peer is told we
            // are closing); data or a second close is the invalid state it will be once the close frame has left.
            if (_closeFrameQueued)
            {
                return opcode is FrameOpcode.Ping or FrameOpcode.Pong
                    ? ValueTask.CompletedTask
                    : ValueTask.FromException(new WebSocketException(WebSocketError.InvalidState, "The WebSocket has sent its close frame: nothing more can be sent."));
            }

            _closeFrameQueued = opcode == FrameOpcode.Close;
            Append(opcode, fin, payload);
            if (!flush && _pendingLength < MaxGatheredBytes)
            {
                return ValueTask.CompletedTask;
            }

            if (_sending)
            {
                _flushRequested = true;
                wait = (_flushed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                toSend = null!;
                length = 0;
            }
            else
            {
                _sending = true;
                (toSend, length) = TakePending();
            }
        }

        if (wait is not null)
        {
            return new ValueTask(cancellationToken.CanBeCanceled ? wait.WaitAsync(cancellationToken) : wait);
        }

        return SendLoopAsync(toSend, length, cancellationToken);
    }

    /// <summary>Fire and forget (keep-alive): a failure is already recorded for the next send and ends the receive.</summary>
    private void SendControlInBackground(FrameOpcode opcode, ReadOnlySpan<byte> payload)
    {
        ObserveInBackground(SendFrameAsync(opcode, payload, flush: true, CancellationToken.None));
    }

    private static void ObserveInBackground(ValueTask sent)
    {
        if (sent.IsCompleted)
        {
            if (!sent.IsCompletedSuccessfully)
            {
                _ = sent.AsTask().Exception; // observed: the failure has recorded itself for the next send
            }

            return;
        }

        _ = ObserveAsync(sent);

        static async Task ObserveAsync(ValueTask sent)
        {
            try
            {
                await sent.ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Recorded: the next send or the pending receive reports it.
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="buffer"/>, then whatever was asked to go out meanwhile. Ownership of the pooled bytes:
    /// a buffer taken from <see cref="_pending"/> (<see cref="TakePending"/>) is this loop's, and it returns each
    /// one exactly once, in the <c>finally</c> after its send; <see cref="_pending"/> itself is the WebSocket's, and
    /// only <see cref="ReleasePending"/> (under the lock, clearing the field) or <see cref="Append"/>'s growth
    /// (replacing it) returns it. While this loop runs (<see cref="_sending"/>) a dispose leaves
    /// <see cref="_pending"/> to it, and it releases it when it stops after a failure or a dispose.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendLoopAsync(byte[] buffer, int length, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                int sent = 0;
                while (sent < length)
                {
                    sent += await SendOnceAsync(buffer.AsMemory(sent, length - sent), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                TaskCompletionSource? waiter;
                lock (this)
                {
                    _sendFailure ??= e;
                    waiter = _flushed;
                    _flushed = null;
                    _flushRequested = false;
                    ReleasePending();

                    // _sending stays set: nothing will be sent on this socket again (SendFrameAsync refuses it).
                }

                var failure = TransportFailure(e);
                waiter?.TrySetException(failure);
                throw failure;
            }
            finally
            {
                _pool.Return(buffer);
            }

            TaskCompletionSource? done;
            lock (this)
            {
                if (_flushRequested && _pendingLength > 0 && !_disposed)
                {
                    _flushRequested = false;
                    (buffer, length) = TakePending();
                    continue;
                }

                _flushRequested = false;
                _sending = false;
                if (_disposed)
                {
                    // Disposed while this send was in flight: DisposeCore left what was gathered to us.
                    ReleasePending();
                }

                done = _flushed;
                _flushed = null;
            }

            done?.TrySetResult();
            return;
        }
    }

    /// <summary>Under the lock: writes a whole frame into the gathered bytes.</summary>
    private void Append(FrameOpcode opcode, bool fin, ReadOnlySpan<byte> payload)
    {
        EnsurePending(FrameHeader.MaxClientLength + payload.Length);
        int header = FrameHeader.WriteServer(_pending.AsSpan(_pendingLength), opcode, fin, payload.Length);
        payload.CopyTo(_pending.AsSpan(_pendingLength + header));
        _pendingLength += header + payload.Length;
    }

    /// <summary>Under the lock: room for <paramref name="count"/> more bytes behind what is gathered.</summary>
    [MemberNotNull(nameof(_pending))]
    private void EnsurePending(int count)
    {
        int needed = _pendingLength + count;
        if (_pending is null || _pending.Length < needed)
        {
            var larger = _pool.Rent(Math.Max(needed, 4096));
            if (_pending is not null)
            {
                _pending.AsSpan(0, _pendingLength).CopyTo(larger);
                _pool.Return(_pending);
            }

            _pending = larger;
        }
    }

    /// <summary>Under the lock: returns what was gathered and never sent to the pool; clearing the field makes a second return impossible.</summary>
    private void ReleasePending()
    {
        if (_pending is not null)
        {
            _pool.Return(_pending);
            _pending = null;
            _pendingLength = 0;
            _upgradeGathered = false;
        }
    }

    /// <summary>Under the lock: hands the gathered bytes to a sender (who returns the buffer to the pool).</summary>
    private (byte[] Buffer, int Length) TakePending()
    {
        var taken = (_pending!, _pendingLength);
        _pending = null;
        _pendingLength = 0;
        _upgradeGathered = false; // it leaves with these bytes
        return taken;
    }
}
