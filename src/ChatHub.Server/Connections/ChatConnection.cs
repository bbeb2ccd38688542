using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Threading.RateLimiting;
using ChatHub.Server.Protocol;
using ChatHub.Server.Security;

namespace ChatHub.Server.Connections;

/// <summary>
/// One WebSocket client: an async read loop that parses and dispatches frames, and a drain that sends every
/// frame of a bounded <see cref="Outbox"/> before one flush. The drain exists only while there is something to
/// send: the frame that finds the outbox idle starts it on the thread pool (this object is the work item), so an
/// idle connection holds no suspended write loop. Rooms and other connections only ever call
/// <see cref="TrySendFrame"/>, which never waits: a full outbox means the client reads too slowly, and it is closed
/// with 1013 rather than slowing its rooms or growing without bound. The outbox is bounded twice: in frames
/// (<c>Limits:OutboxCapacity</c>) and in bytes (<c>Limits:OutboxBytes</c>), since a few large frames (a
/// <c>joined</c> with a full history) hold far more memory than many chat lines.
/// </summary>
internal sealed partial class ChatConnection : IThreadPoolWorkItem
{
    private readonly WebSocket _socket;
    private readonly IBatchingTransport _transport;
    private readonly Outbox _outbox;
    private readonly ConnectionServices _context;
    private readonly TimeSpan _closeTimeout;
    private readonly Action _abortTransport;
    private volatile string _name;
    private int _closing;
    private WebSocketCloseStatus _closeStatus;
    private string _closeReason = "";
    private volatile bool _discardQueued;
    private bool _closeFrameSent;
    private int _rateLimitedInARow;
    private UserIdentity? _identity;
    private TokenBucketRateLimiter? _rateLimiter;
    private readonly Guid _session = Guid.NewGuid();
    private TaskCompletionSource? _drained; // created when closing (Drained); completed once the drain has ended for good
    private ITimer? _closeTimer; // armed by BeginClose: aborts a close that takes longer than CloseTimeout

    public ChatConnection(long id, WebSocket socket, IBatchingTransport transport, Action abortTransport, WireFormat format, ConnectionServices context)
    {
        _abortTransport = abortTransport;
        Id = id;
        _socket = socket;
        _transport = transport;
        Format = format;
        _name = "";
        _context = context;
        _closeTimeout = context.Options.Connections.CloseTimeout;
        _outbox = new Outbox(context.Options.Limits.OutboxCapacity, context.Options.Limits.OutboxBytes);
    }

    public long Id { get; }

    /// <summary>Formatted when asked (once, for the welcome): the connection keeps the 16-byte Guid, not a string.</summary>
    public string Session => _session.ToString("N");

    public WireFormat Format { get; }

    /// <summary>Changed only by the read loop (nick); read by rooms for member lists.</summary>
    public string Name
    {
        get => _name;
        set => _name = value;
    }

    /// <summary>Rooms this connection is in. Touched only by the read loop, so no lock.</summary>
    public HashSet<string> Rooms { get; } = new(StringComparer.Ordinal);

    /// <summary>Text format: where a plain line goes.</summary>
    public string? CurrentRoom { get; set; }

    /// <summary>
    /// Created with the connection's first request: a new bucket is full, as is one that has waited since the connect,
    /// so a connection that never sends anything holds none.
    /// </summary>
    public TokenBucketRateLimiter RateLimiter => _rateLimiter ??= CreateRateLimiter();

    /// <summary>Tops up the bucket, if the connection has one yet (the shared replenishment timer).</summary>
    public void ReplenishRateLimiter() => Volatile.Read(ref _rateLimiter)?.TryReplenish();

    /// <summary>
    /// True when the name came from a token: the user is who the token says, and several connections (devices) of
    /// the same user may hold the name at once.
    /// </summary>
    public bool SharesName { get; init; }

    /// <summary>Asked for presence batches at connect (<c>presence=batch</c>); rooms read it.</summary>
    public bool PresenceBatches { get; init; }

    /// <summary>The token's identity (null without tokens); an <c>auth</c> replaces it, the expiry timer reads it.</summary>
    public UserIdentity? Identity
    {
        get => Volatile.Read(ref _identity);
        set => Volatile.Write(ref _identity, value);
    }

    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    /// <summary>Frames waiting in the outbox (for the outbox-depth gauge, read when scraped).</summary>
    public int QueuedFrames => _outbox.Count;

    /// <summary>The close code the server sent once the connection has ended; null when no close frame went out.</summary>
    public WebSocketCloseStatus? SentCloseStatus => _closeFrameSent ? _closeStatus : null;

    /// <summary>
    /// Queues an encoded frame. Never waits; false when the connection is closing or just overflowed.
    /// <paramref name="committedAt"/> is the <see cref="Stopwatch"/> timestamp of a chat message's commit (0 for other
    /// frames), for the delivery-latency histogram.
    /// </summary>
    public bool TrySendFrame(byte[] frame, long committedAt = 0)
    {
        if (IsClosing)
        {
            return false;
        }

        switch (_outbox.TryEnqueue(new OutboxFrame(frame, committedAt)))
        {
            case EnqueueResult.Queued:
                return true;
            case EnqueueResult.StartDrain:
                StartDrain();
                return true;
            case EnqueueResult.Closed:
                return false;
        }

        if (!IsClosing)
        {
            _context.Metrics.SlowConsumerClosed();
            LogSlowConsumer(_context.Logger, Id, Name);
            BeginClose(CloseCodes.SlowConsumer, "outbox full: reading too slowly", discardQueued: true);
        }

        return false;
    }

    /// <summary>
    /// Frames queued from now on wait (a drain already running is not held) until every hold is released by
    /// <see cref="ReleaseSends"/>, then leave together: the connect path's <c>welcome</c> and the <c>joined</c> of
    /// the rooms in the query go in one socket write instead of one each. A close does not wait for holds.
    /// </summary>
    public void HoldSends() => _outbox.Hold();

    /// <summary>Releases one <see cref="HoldSends"/>; the last one starts the drain if frames came meanwhile.</summary>
    public void ReleaseSends()
    {
        if (_outbox.Release())
        {
            StartDrain();
        }
    }

    /// <summary>
    /// Encodes an event for this connection alone (replies, errors, DMs) and queues it. False when it could not
    /// all be queued (the connection is closing or just overflowed).
    /// </summary>
    public bool Send(ServerEvent serverEvent)
    {
        if (Format == WireFormat.Json)
        {
            return TrySendFrame(JsonFrameCodec.Encode(serverEvent));
        }

        foreach (byte[] line in TextFrameCodec.EncodeLines(serverEvent))
        {
            if (!TrySendFrame(line))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Starts closing: no more frames are accepted; what is queued is sent (or dropped, for a slow consumer), then
    /// the close frame. A peer that does not finish the handshake in time is aborted.
    /// </summary>
    public void BeginClose(WebSocketCloseStatus status, string reason, bool discardQueued = false)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        _closeStatus = status;
        _closeReason = reason;
        _discardQueued = discardQueued;
        // Armed before the outbox completes, so it exists before the drain can end and RunAsync can disarm it.
        Volatile.Write(ref _closeTimer, _context.Clock.CreateTimer(
            static state => ((ChatConnection)state!).AbortIfStillOpen(), this, _closeTimeout, Timeout.InfiniteTimeSpan));
        if (_outbox.Complete())
        {
            StartDrain();
        }
    }

    /// <summary>Counts a rate-limited message; true when the client keeps pushing far past its burst.</summary>
    public bool CountRateLimited() => ++_rateLimitedInARow >= _context.Options.Limits.AbuseDropThreshold;

    public void CountAccepted() => _rateLimitedInARow = 0;

    /// <summary>
    /// Runs the read loop until the connection is over, then waits for the drain to have sent the close frame.
    /// <paramref name="onFrame"/> handles one inbound text frame;
    /// <paramref name="onReadEnded"/> runs once nothing more will be read; when the client starts the close, that is
    /// before the server answers it, so a client that sees its close completed finds its name free again.
    /// </summary>
    public async Task RunAsync(Func<ChatConnection, ReadOnlyMemory<byte>, ValueTask> onFrame, Action<ChatConnection> onReadEnded)
    {
        try
        {
            await ReadLoopAsync(onFrame);
        }
        catch (Exception e) when (IsTransportFailure(e))
        {
            // The peer vanished or broke the protocol (the WebSocket has already sent 1007 for bad UTF-8).
            LogReadEnded(_context.Logger, Id, e.Message);
        }
        finally
        {
            onReadEnded(this);
            BeginClose(CloseCodes.Normal, "");
        }

        try
        {
            await DiscardUntilCloseAsync();
        }
        catch (Exception e) when (IsTransportFailure(e))
        {
            LogReadEnded(_context.Logger, Id, e.Message);
        }

        // BeginClose has run (above), so the drain sends what is queued and then the close frame, and says so here.
        await Drained().Task;

        // The close is over: disarm the abort, whose timer would otherwise keep this connection, its WebSocket and
        // Kestrel's connection with its pipes alive for the rest of CloseTimeout.
        Volatile.Read(ref _closeTimer)?.Dispose();
    }

    private async Task ReadLoopAsync(Func<ChatConnection, ReadOnlyMemory<byte>, ValueTask> onFrame)
    {
        // No locals live across the idle wait but the buffer's: the suspended loop is part of every idle connection.
        while (!IsClosing)
        {
            // Idle connections wait with an empty buffer: no receive buffer is held between messages.
            var peek = await _socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
            if (peek.MessageType == WebSocketMessageType.Close)
            {
                return; // the client closed; RunAsync answers with 1000
            }

            if (peek.MessageType == WebSocketMessageType.Binary)
            {
                BeginClose(CloseCodes.BinaryFrame, "binary frames are not part of the protocol");
                break;
            }

            byte[] buffer = ArrayPool<byte>.Shared.Rent(1024);
            int length = 0;
            try
            {
                bool complete = peek.EndOfMessage;
                while (!complete)
                {
                    if (length == buffer.Length)
                    {
                        buffer = Grow(buffer, length, MaxFrameBytes + 1);
                    }

                    var result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    length += result.Count;
                    complete = result.EndOfMessage;
                    if (length > MaxFrameBytes)
                    {
                        BeginClose(CloseCodes.FrameTooLarge, $"frame over {MaxFrameBytes} bytes");
                        break;
                    }
                }

                if (!IsClosing)
                {
                    _context.Metrics.FrameIn();
                    // Null when handled at once, as nearly every frame is. Awaited as a Task, not a ValueTask: the
                    // awaiter is kept in the loop's state, which every idle connection holds, and this one is a
                    // single reference.
                    if (HandleFrame(onFrame, buffer.AsMemory(0, length)) is { } handling)
                    {
                        await handling;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private int MaxFrameBytes => _context.Options.Limits.MaxFrameBytes;

    /// <summary>
    /// Bad input never throws (it is answered with an error frame); anything that still throws is a server bug.
    /// It is logged and answered like a bad request, and the connection and every other one carry on.
    /// </summary>
    private Task? HandleFrame(Func<ChatConnection, ReadOnlyMemory<byte>, ValueTask> onFrame, ReadOnlyMemory<byte> frame)
    {
        try
        {
            ValueTask handled = onFrame(this, frame);
            return handled.IsCompletedSuccessfully ? null : AwaitHandlingAsync(handled);
        }
        catch (Exception e)
        {
            FrameFailed(e);
            return null;
        }
    }

    private async Task AwaitHandlingAsync(ValueTask handled)
    {
        try
        {
            await handled;
        }
        catch (Exception e)
        {
            FrameFailed(e);
        }
    }

    private void FrameFailed(Exception e)
    {
        LogFrameFailed(_context.Logger, e, Id);
        Send(new ErrorEvent(ErrorCodes.BadRequest, "the server could not handle this request", null));
    }

    /// <summary>When the server started the close, wait for the peer's close frame, ignoring anything before it.</summary>
    private async Task DiscardUntilCloseAsync()
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (_socket.State is WebSocketState.Open or WebSocketState.CloseSent)
            {
                var result = await _socket.ReceiveAsync(scratch.AsMemory(), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static byte[] Grow(byte[] buffer, int length, int cap)
    {
        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, Math.Max(cap, buffer.Length + 1)));
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }

    private void StartDrain() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

    /// <summary>The drain, started by the frame that found the outbox idle or by a close that found it so.</summary>
    void IThreadPoolWorkItem.Execute() => _ = DrainAsync();

    /// <summary>
    /// Sends what is queued, the last frame of each burst with the flush, until the outbox is empty (the drain ends;
    /// the next frame starts another) or completed (the close frame follows, and the drain never runs again). At most
    /// one drain runs at a time, so the WebSocket never sees two sends at once.
    /// </summary>
    private async Task DrainAsync()
    {
        long oldestCommittedAt = 0; // of the chat messages gathered for the next transport write
        int sent = 0;
        try
        {
            while (true)
            {
                var step = _outbox.TakeNext(sent, out var frame, out bool last);
                if (step == DrainStep.Idle)
                {
                    return;
                }

                if (step == DrainStep.Close)
                {
                    break;
                }

                sent = frame.Bytes.Length; // counted until sent: a frame in the WebSocket's hands is still held
                if (_discardQueued)
                {
                    continue;
                }

                if (oldestCommittedAt == 0)
                {
                    oldestCommittedAt = frame.CommittedAt;
                }

                // The last frame already queued sends the whole burst in one transport write.
                _transport.CaptureNextWrite(last);
                await _socket.SendAsync(frame.Bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                if (last && oldestCommittedAt != 0)
                {
                    _context.Metrics.Delivered(oldestCommittedAt);
                    oldestCommittedAt = 0;
                }
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(_closeStatus, _closeReason, CancellationToken.None);
                _closeFrameSent = true;
            }
        }
        catch (Exception e) when (IsTransportFailure(e) || e is InvalidOperationException)
        {
            LogWriteEnded(_context.Logger, Id, e.Message);
        }
        catch (Exception e)
        {
            LogDrainFailed(_context.Logger, e, Id);
        }

        // Whatever ended it, this drain was the last: the outbox takes no more frames (nobody would send them), and
        // the connection's end is told. The read loop ends on its own: a broken transport fails its read too.
        BeginClose(CloseCodes.Normal, "");
        Drained().TrySetResult();
    }

    /// <summary>
    /// Created on first use by whichever comes first, the drain's end or <see cref="RunAsync"/>'s wait for it (both
    /// only once closing): an open connection holds none, and neither side can miss the other's.
    /// </summary>
    private TaskCompletionSource Drained()
    {
        var drained = Volatile.Read(ref _drained);
        if (drained is not null)
        {
            return drained;
        }

        drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Interlocked.CompareExchange(ref _drained, drained, null) ?? drained;
    }

    private void AbortIfStillOpen()
    {
        if (_socket.State is not (WebSocketState.Closed or WebSocketState.Aborted))
        {
            // Aborting the WebSocket alone does not end a pending transport read; aborting the transport does.
            _socket.Abort();
            _abortTransport();
        }
    }

    private TokenBucketRateLimiter CreateRateLimiter()
    {
        var limiter = _context.RateLimits.Create();
        Volatile.Write(ref _rateLimiter, limiter);
        return limiter;
    }

    private static bool IsTransportFailure(Exception e) =>
        e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or Microsoft.AspNetCore.Connections.ConnectionAbortedException;

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {ConnectionId} ({Name}) is reading too slowly: closing with 1013")]
    private static partial void LogSlowConsumer(ILogger logger, long connectionId, string name);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connection {ConnectionId}: handling a frame failed")]
    private static partial void LogFrameFailed(ILogger logger, Exception exception, long connectionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} read loop ended: {Reason}")]
    private static partial void LogReadEnded(ILogger logger, long connectionId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connection {ConnectionId}: sending failed")]
    private static partial void LogDrainFailed(ILogger logger, Exception exception, long connectionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} write loop ended: {Reason}")]
    private static partial void LogWriteEnded(ILogger logger, long connectionId, string reason);
}
