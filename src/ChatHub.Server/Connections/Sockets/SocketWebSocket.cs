using System.Buffers;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace ChatHub.Server.Connections.Sockets;

/// <summary>
/// A server-side RFC 6455 WebSocket (no extensions) straight over a connected <see cref="Socket"/>: no stream, no
/// pipe, no buffer of its own while idle. It keeps .NET's <c>ManagedWebSocket</c> contract where
/// <see cref="ChatConnection"/> can see it (results of a zero-byte receive then payload reads, states, close codes,
/// what is sent back for bad input: 1002, 1007), is stricter in one place (an unmasked client frame is a protocol
/// error, as RFC 6455 5.1 requires), and spends no exception on the common endings (see <see cref="ReceiveAsync(Memory{byte}, CancellationToken)"/>).
/// The frames of one burst of the write loop (<see cref="IBatchingTransport"/>) leave in one socket send.
/// </summary>
/// <remarks>
/// Threading, as .NET's: one receive and one send at a time, a receive alongside a send or a close. A second
/// receive while one is pending fails with <see cref="InvalidOperationException"/> and leaves the first, and the
/// connection, alone (.NET 10's queues it behind the first instead; neither aborts).
/// Nothing is sent after our close frame (RFC 6455 5.5.1), not even a pong or a keep-alive ping.
/// The socket stays the caller's: <see cref="Abort"/> shuts it down both ways (which ends a pending receive or
/// send; the peer sees the connection end) and <see cref="Dispose"/> does the same only when a receive or send is
/// pending, otherwise it leaves the socket alone. Neither closes it: the caller disposes the socket once the
/// connection has ended.
/// </remarks>
internal sealed partial class SocketWebSocket : WebSocket, IBatchingTransport
{
    private readonly Socket _socket;
    private readonly string? _subProtocol;
    private readonly KeepAliveClock _keepAlive;
    private readonly ArrayPool<byte> _pool;

    // Written under the lock (this object: see Send), read anywhere.
    private volatile WebSocketState _state = WebSocketState.Open;
    private bool _disposed;
    private bool _sentCloseFrame;
    private bool _receivedCloseFrame;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeStatusDescription;

    /// <param name="socket">A connected socket whose upgrade has been answered; it stays the caller's.</param>
    /// <param name="subProtocol">The subprotocol agreed in the handshake, or null.</param>
    /// <param name="keepAliveInterval">How often to ping (or, without a timeout, send an unsolicited pong); zero or less: never.</param>
    /// <param name="keepAliveTimeout">How long a ping's pong may take before the socket is aborted; <see cref="Timeout.InfiniteTimeSpan"/>: unsolicited pongs that await nothing.</param>
    /// <param name="keepAlive">The server's one keep-alive clock.</param>
    public SocketWebSocket(Socket socket, string? subProtocol, TimeSpan keepAliveInterval, TimeSpan keepAliveTimeout, KeepAliveClock keepAlive)
        : this(socket, subProtocol, keepAliveInterval, keepAliveTimeout, keepAlive, ArrayPool<byte>.Shared)
    {
    }

    /// <param name="pool">Where every buffer of this WebSocket is rented and returned (tests count them).</param>
    internal SocketWebSocket(Socket socket, string? subProtocol, TimeSpan keepAliveInterval, TimeSpan keepAliveTimeout, KeepAliveClock keepAlive, ArrayPool<byte> pool)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(keepAlive);
        ArgumentNullException.ThrowIfNull(pool);
        _socket = socket;
        _subProtocol = subProtocol;
        _keepAlive = keepAlive;
        _pool = pool;
        if (keepAliveInterval > TimeSpan.Zero)
        {
            _keepAliveIntervalMs = ToMilliseconds(keepAliveInterval);
            _keepAliveTimeoutMs = keepAliveTimeout > TimeSpan.Zero && keepAliveTimeout != Timeout.InfiniteTimeSpan
                ? ToMilliseconds(keepAliveTimeout)
                : 0;
            _nextKeepAliveAt = Environment.TickCount64 + _keepAliveIntervalMs;
            keepAlive.Register(this);
        }
    }

    public override WebSocketCloseStatus? CloseStatus => _closeStatus;

    public override string? CloseStatusDescription => _closeStatusDescription;

    public override WebSocketState State => _state;

    public override string? SubProtocol => _subProtocol;

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        CloseFrame.ValidateSent(closeStatus, statusDescription);
        return CloseOutputCoreAsync(closeStatus, statusDescription, cancellationToken);
    }

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        CloseFrame.ValidateSent(closeStatus, statusDescription);
        try
        {
            ThrowIfInvalidState(WebSocketState.Open, WebSocketState.CloseReceived, WebSocketState.CloseSent);
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }

        return CloseCoreAsync(closeStatus, statusDescription, cancellationToken);
    }

    /// <summary>Aborted (unless already closed), and the socket shut down both ways: whatever is pending ends.</summary>
    public override void Abort()
    {
        lock (this)
        {
            if (_state is not (WebSocketState.Closed or WebSocketState.Aborted))
            {
                _state = WebSocketState.Aborted;
            }

            DisposeCore(shutDown: true);
        }
    }

    /// <summary>Closed (unless aborted); the socket is shut down only if a receive or send is pending on it.</summary>
    public override void Dispose()
    {
        lock (this)
        {
            DisposeCore(shutDown: Volatile.Read(ref _receiving) != 0 || _sending);
        }
    }

    private async Task CloseOutputCoreAsync(WebSocketCloseStatus status, string? reason, CancellationToken cancellationToken)
    {
        ThrowIfInvalidState(WebSocketState.Open, WebSocketState.CloseReceived);
        await SendCloseFrameAsync(status, reason, cancellationToken).ConfigureAwait(false);
        lock (this)
        {
            // Both close frames have now crossed: the handshake is over.
            if (_receivedCloseFrame)
            {
                DisposeCore(shutDown: false);
            }
        }
    }

    private async Task CloseCoreAsync(WebSocketCloseStatus status, string? reason, CancellationToken cancellationToken)
    {
        if (!_sentCloseFrame)
        {
            await SendCloseFrameAsync(status, reason, cancellationToken).ConfigureAwait(false);
        }

        if (_state == WebSocketState.CloseSent)
        {
            byte[] scratch = _pool.Rent(FrameHeader.MaxControlPayload);
            try
            {
                while (!_receivedCloseFrame && _state == WebSocketState.CloseSent)
                {
                    await ReceiveAsync(scratch.AsMemory(), cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                _pool.Return(scratch);
            }
        }

        lock (this)
        {
            DisposeCore(shutDown: false);
        }
    }

    private async ValueTask SendCloseFrameAsync(WebSocketCloseStatus status, string? reason, CancellationToken cancellationToken)
    {
        Span<byte> payload = stackalloc byte[FrameHeader.MaxControlPayload];
        int length = CloseFrame.Write(payload, status, reason);
        await SendFrameAsync(FrameOpcode.Close, payload[..length], flush: true, cancellationToken).ConfigureAwait(false);
        lock (this)
        {
            _sentCloseFrame = true;
            if (_receivedCloseFrame && _state < WebSocketState.Closed)
            {
                _state = WebSocketState.Closed;
                _keepAlive.Unregister(this);
            }
            else if (_state < WebSocketState.CloseSent)
            {
                _state = WebSocketState.CloseSent;
            }
        }
    }

    /// <summary>Called under the lock. Ends keep-alive; shuts the socket down when told (to end what is pending on it).</summary>
    private void DisposeCore(bool shutDown)
    {
        if (_state < WebSocketState.Aborted)
        {
            _state = WebSocketState.Closed;
        }

        _keepAlive.Unregister(this);
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (shutDown)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already gone: nothing is pending on it any more.
            }
        }

        // What was gathered and never sent goes back to the pool now, unless a send is in flight: then its sender
        // releases it when it stops (see SendLoopAsync), so that a frame appended meanwhile is not lost either.
        if (!_sending)
        {
            ReleasePending();
        }
    }

    /// <summary>
    /// Moves to Aborted after a failure, unless the handshake had already finished. A send still in flight is ended
    /// by shutting the socket down: a peer that stopped reading and then ended its side would otherwise keep it
    /// waiting for good, and with it the whole connection, since an Aborted WebSocket is never aborted again
    /// (<c>ChatConnection</c>'s close timer skips it).
    /// </summary>
    private void OnAborted()
    {
        lock (this)
        {
            if (_state is not (WebSocketState.Closed or WebSocketState.Aborted))
            {
                _state = WebSocketState.Aborted;
            }

            _keepAlive.Unregister(this);
            if (_sending)
            {
                try
                {
                    _socket.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // Already gone: the send has ended with it.
                }
            }
        }
    }

    private void ThrowIfInvalidState(params ReadOnlySpan<WebSocketState> valid)
    {
        var state = _state;
        foreach (var candidate in valid)
        {
            if (state == candidate)
            {
                ObjectDisposedException.ThrowIf(_disposed, typeof(WebSocket));
                return;
            }
        }

        throw new WebSocketException(WebSocketError.InvalidState, $"The WebSocket is in an invalid state ('{state}') for this operation.");
    }

    /// <summary>
    /// How .NET reports a transport failure: cancelled when this socket was aborted (the failure is its consequence),
    /// else a <see cref="WebSocketException"/> with the socket's error inside. A raw <see cref="SocketException"/>
    /// never escapes.
    /// </summary>
    private Exception TransportFailure(Exception inner) => _state == WebSocketState.Aborted
        ? new OperationCanceledException(nameof(WebSocketState.Aborted), inner)
        : new WebSocketException(WebSocketError.ConnectionClosedPrematurely, inner);

    private static int ToMilliseconds(TimeSpan value) => (int)Math.Clamp(value.TotalMilliseconds, 1, int.MaxValue);
}
