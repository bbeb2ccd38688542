using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using ChatHub.Server.Observability;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace ChatHub.Server.Connections.Listening;

/// <summary>
/// A listening socket whose accepted sockets ChatHub looks at first. Each accepted socket gets its handshake off the
/// accept loop (<see cref="SocketHandshake"/>): a plain <c>GET /ws</c> upgrade becomes a chat connection over the
/// bare socket, with no Kestrel connection, pipes or pooled blocks under it; every other socket is made into
/// Kestrel's own socket connection (<see cref="SocketConnectionContextFactory"/>) with nothing read, and returned
/// from <see cref="AcceptAsync"/> for Kestrel to serve like any connection.
///
/// The connection cap (Kestrel's <c>MaxConcurrentConnections</c>) counts every socket accepted here and still open,
/// whoever serves it; past it a new socket is closed at once, as Kestrel closes it.
/// </summary>
internal sealed partial class ChatHubConnectionListener : IConnectionListener
{
    private readonly Socket _listenSocket;
    private readonly SocketHandshake _handshake;
    private readonly SocketConnectionContextFactory _kestrelConnections;
    private readonly ChatMetrics _metrics;
    private readonly bool _noDelay;
    private readonly long _cap;
    private readonly ILogger _logger;
    private readonly Channel<ConnectionContext> _handedOver =
        Channel.CreateUnbounded<ConnectionContext>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Action<Socket> _serve;
    private readonly Action<object?> _release;
    private readonly Task _acceptLoop;
    private readonly int _port;
    private long _open;

    public ChatHubConnectionListener(
        Socket listenSocket,
        SocketHandshake handshake,
        SocketConnectionContextFactory kestrelConnections,
        ChatMetrics metrics,
        bool noDelay,
        long? cap,
        ILogger logger)
    {
        _listenSocket = listenSocket;
        _handshake = handshake;
        _kestrelConnections = kestrelConnections;
        _metrics = metrics;
        _noDelay = noDelay;
        _cap = cap ?? long.MaxValue;
        _logger = logger;
        EndPoint = listenSocket.LocalEndPoint!;
        _port = ((IPEndPoint)EndPoint).Port;
        // One delegate each for every socket, not new ones per socket.
        _serve = socket => _ = ServeAsync(socket);
        _release = static listener => ((ChatHubConnectionListener)listener!).Release();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public EndPoint EndPoint { get; }

    /// <summary>The sockets accepted here and still open: chat connections, handshakes, and those Kestrel serves.</summary>
    public long OpenConnections => Volatile.Read(ref _open);

    /// <summary>The next socket for Kestrel to serve; null once unbound and every socket handed over is taken.</summary>
    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            while (await _handedOver.Reader.WaitToReadAsync(cancellationToken))
            {
                if (_handedOver.Reader.TryRead(out var connection))
                {
                    return connection;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return null;
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listenSocket.AcceptAsync();
            }
            catch (Exception e) when (e is ObjectDisposedException || e is SocketException { SocketErrorCode: SocketError.OperationAborted })
            {
                break; // unbound
            }
            catch (SocketException e)
            {
                // Reset while in the backlog, or out of descriptors for a moment: as Kestrel does, accept the next.
                LogAcceptFailed(_logger, e.SocketErrorCode);
                continue;
            }

            if (Interlocked.Increment(ref _open) > _cap)
            {
                Interlocked.Decrement(ref _open);
                _metrics.ConnectionRejected();
                LogRejected(_logger);
                socket.Dispose();
                continue;
            }

            try
            {
                socket.NoDelay = _noDelay;
            }
            catch (SocketException)
            {
                // Reset already: its handshake finds out and closes it.
            }

            ThreadPool.UnsafeQueueUserWorkItem(_serve, socket, preferLocal: false);
        }

        // Sockets handed over from here on are closed; Kestrel takes those already waiting, then gets null.
        _handedOver.Writer.TryComplete();
    }

    private async Task ServeAsync(Socket socket)
    {
        bool handedOver = false;
        try
        {
            var result = await _handshake.AcceptAsync(socket, _port, _stopping.Token);
            if (result.ForKestrel)
            {
                HandOver(socket);
                handedOver = true; // only once Kestrel's connection exists: if making it throws, the socket is still ours to close
            }
            else if (result.Connect is not null)
            {
                var (webSocket, running) = _handshake.Start(socket, result.Connect, result.Upgrade!);
                result = default; // the request is not kept for the life of the connection
                using (webSocket)
                {
                    await running;
                }
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            // The peer went away (for instance before Kestrel's connection or the stream could read the socket).
        }
        catch (Exception e)
        {
            LogUnexpected(_logger, e);
        }
        finally
        {
            if (!handedOver)
            {
                DiscardUnread(socket);
                socket.Dispose();
                Release();
            }
        }
    }

    /// <summary>
    /// Closing a socket with bytes still unread makes the kernel answer with a reset instead of a FIN, and a reset can
    /// destroy what the peer has not read yet: the close frame just sent to it. A connection ended for a protocol
    /// error stops reading in the middle of the peer's bytes (a bad header's payload is never read), so what has
    /// already arrived is read and dropped first; Kestrel's transport had always read it into its pipe. Bounded by
    /// what is there now, and by a budget.
    /// </summary>
    private static void DiscardUnread(Socket socket)
    {
        try
        {
            Span<byte> scratch = stackalloc byte[4096];
            int budget = 1024 * 1024;
            while (budget > 0 && socket.Available > 0)
            {
                int read = socket.Receive(scratch, SocketFlags.None);
                if (read <= 0)
                {
                    break;
                }

                budget -= read;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Reset or gone already: nothing to protect.
        }
    }

    /// <summary>Makes the socket Kestrel's; it counts against the cap until Kestrel's connection has closed.</summary>
    private void HandOver(Socket socket)
    {
        var connection = _kestrelConnections.Create(socket);
        connection.ConnectionClosed.UnsafeRegister(_release, this);
        if (!_handedOver.Writer.TryWrite(connection))
        {
            // Unbound meanwhile: nobody will serve it. Disposing it closes the socket and releases its count.
            _ = connection.DisposeAsync().AsTask();
        }
    }

    private void Release() => Interlocked.Decrement(ref _open);

    /// <summary>
    /// Stops accepting. Sockets still silent are closed now, as Kestrel closes its idle ones; a handshake already
    /// under way finishes (during a drain it is answered 503); chat connections are the drainer's to close.
    /// </summary>
    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _listenSocket.Dispose();
        await _stopping.CancelAsync();
        await _acceptLoop;
    }

    public async ValueTask DisposeAsync()
    {
        await UnbindAsync();
        // Kestrel disposes its listeners after its connections, so the pool under them is no longer in use.
        _kestrelConnections.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Connection rejected because the maximum number of concurrent connections has been reached")]
    private static partial void LogRejected(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Accepting a connection failed ({Error}); accepting the next")]
    private static partial void LogAcceptFailed(ILogger logger, SocketError error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected error serving an accepted socket")]
    private static partial void LogUnexpected(ILogger logger, Exception exception);
}
