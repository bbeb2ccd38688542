using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.WebSockets;

namespace ChatHub.Server.Observability;

/// <summary>
/// The server's counters. They are plain interlocked fields read by observable instruments, so the hot path
/// pays one atomic add and <c>/metrics</c> and <c>/api/stats</c> read the very same numbers. Gauges over many
/// connections or rooms (outbox depth, rooms by state) are computed when scraped, so they cost nothing per
/// connection; latencies are histograms recorded once per commit or per transport write, not per frame.
/// </summary>
public sealed class ChatMetrics : IDisposable
{
    public const string MeterName = "ChatHub";

    /// <summary>Seconds; from half a millisecond (an fsync on a fast disk) to seconds (a stalled disk or a stuck reader).</summary>
    private static readonly double[] LatencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    /// <summary>Messages per commit, powers of two up to the default <c>Storage:MaxBatchSize</c>.</summary>
    private static readonly int[] BatchSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

    private readonly Meter _meter;
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private readonly Counter<long> _connectionsClosed;
    private readonly Histogram<double> _commitDuration;
    private readonly Histogram<int> _commitBatchSize;
    private readonly Histogram<double> _deliveryDuration;
    private long _connections;
    private long _connectionsAccepted;
    private Func<long> _rooms = static () => 0;
    private Func<(long Active, long Idle)> _roomsByState = static () => (0, 0);
    private Func<int> _maxOutboxDepth = static () => 0;
    private long _messagesIn;
    private long _messagesOut;
    private long _messagesDropped;
    private long _slowConsumerCloses;
    private long _framesIn;
    private long _presenceFrames;
    private readonly Counter<long> _handshakeRefusals;
    private readonly Counter<long> _handshakesHandedOn;
    private readonly Counter<long> _connectionsRejected;
    private long _storeCommitFailures;
    private long _storeAppendsFailed;

    public ChatMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableUpDownCounter("chathub.connections", () => Volatile.Read(ref _connections), "{connection}", "Open WebSocket connections");
        _meter.CreateObservableCounter("chathub.connections.accepted", () => Volatile.Read(ref _connectionsAccepted), "{connection}", "WebSocket connections accepted since start");
        _connectionsClosed = _meter.CreateCounter<long>("chathub.connections.closed", "{connection}",
            "WebSocket connections ended, by the close code the server sent (aborted: it sent none; the peer vanished, or the WebSocket closed itself for invalid UTF-8 or a protocol error)");
        _meter.CreateObservableUpDownCounter("chathub.rooms", ObserveRoomsByState, "{room}",
            "Rooms held in memory, by state: active (with members) or idle (no members; kept history or about to retire)");
        _meter.CreateObservableGauge("chathub.outbox.depth.max", () => _maxOutboxDepth(), "{frame}",
            "Frames queued in the fullest connection outbox when scraped (a full one, Limits:OutboxCapacity, closes with 1013)");
        _meter.CreateObservableCounter("chathub.messages.in", () => Volatile.Read(ref _messagesIn), "{message}", "Chat messages (say, dm) accepted from clients");
        _meter.CreateObservableCounter("chathub.messages.out", () => Volatile.Read(ref _messagesOut), "{message}", "Chat messages (message, dm) queued to clients");
        _meter.CreateObservableCounter("chathub.messages.dropped", () => Volatile.Read(ref _messagesDropped), "{message}", "Requests (chat messages and others) dropped by the rate limit");
        _meter.CreateObservableCounter("chathub.slow_consumer.closes", () => Volatile.Read(ref _slowConsumerCloses), "{connection}", "Connections closed with 1013 because their outbox filled");
        _meter.CreateObservableCounter("chathub.frames.in", () => Volatile.Read(ref _framesIn), "{frame}", "WebSocket text frames received");
        _meter.CreateObservableCounter("chathub.presence.frames", () => Volatile.Read(ref _presenceFrames), "{frame}",
            "Presence frames queued to members: one per single presence event, one per presence_batch");
        _commitDuration = _meter.CreateHistogram("chathub.store.commit.duration", "s",
            "Time to write and commit one batch of messages to the store (the fsync included)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _commitBatchSize = _meter.CreateHistogram("chathub.store.commit.batch_size", "{message}",
            "Messages committed together in one store transaction (group commit)",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchSizeBuckets });
        _deliveryDuration = _meter.CreateHistogram("chathub.delivery.duration", "s",
            "From a message's commit to the socket write that carried it to a member, for the oldest message in each write",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _handshakeRefusals = _meter.CreateCounter<long>("chathub.handshake.refusals", "{request}",
            "WebSocket upgrades refused by ChatHub on either accept path, by reason (upgrade_required, bad_key_or_version, bad_query, shutting_down; and from the security gate: rate, origin, token, per_ip_cap)");
        _handshakesHandedOn = _meter.CreateCounter<long>("chathub.handshake.handed_on", "{request}",
            "Request heads starting GET /ws that the transport handshake left to Kestrel's HTTP parser, by what it did not take (line_end, limit, request_line, header_syntax, header_value, duplicate_header, body, host, incomplete)");
        _connectionsRejected = _meter.CreateCounter<long>("chathub.connections.rejected", "{connection}",
            "Sockets closed as soon as ChatHub's listener accepted them because the connection cap was reached");
        _meter.CreateObservableCounter("chathub.store.commit_failures", () => Volatile.Read(ref _storeCommitFailures), "{commit}", "Store commits that failed (each retry counts)");
        _meter.CreateObservableCounter("chathub.store.appends_failed", () => Volatile.Read(ref _storeAppendsFailed), "{message}", "Messages the store refused for good; their senders got error unavailable");
        _meter.CreateObservableGauge("chathub.memory.working_set", () => Environment.WorkingSet, "By", "Process working set");
        _meter.CreateObservableGauge("chathub.memory.gc_heap", () => GC.GetTotalMemory(false), "By", "Bytes allocated on the managed heap and not yet collected");
    }

    public long Connections => Volatile.Read(ref _connections);
    public long Rooms => _rooms();
    public long MessagesIn => Volatile.Read(ref _messagesIn);
    public long MessagesOut => Volatile.Read(ref _messagesOut);
    public TimeSpan Uptime => Stopwatch.GetElapsedTime(_startedAt);

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _connections);
        Interlocked.Increment(ref _connectionsAccepted);
    }

    /// <summary>A connection ended; <paramref name="closeStatus"/> is the code the server sent, null when aborted.</summary>
    public void ConnectionClosed(WebSocketCloseStatus? closeStatus)
    {
        // Counted before the gauge drops, so a scrape that sees the connection gone also sees how it ended.
        _connectionsClosed.Add(1, new KeyValuePair<string, object?>("code", CloseCodeLabel(closeStatus)));
        Interlocked.Decrement(ref _connections);
    }

    /// <summary>The room count lives in the room registry; it is read, not mirrored.</summary>
    public void ObserveRooms(Func<long> count, Func<(long Active, long Idle)> byState)
    {
        _rooms = count;
        _roomsByState = byState;
    }

    /// <summary>The deepest outbox is found by walking the connections when scraped.</summary>
    public void ObserveOutboxes(Func<int> maxDepth) => _maxOutboxDepth = maxDepth;

    public void MessageIn() => Interlocked.Increment(ref _messagesIn);
    public void MessagesOutAdd(int count) => Interlocked.Add(ref _messagesOut, count);
    public void MessageDropped() => Interlocked.Increment(ref _messagesDropped);
    public void SlowConsumerClosed() => Interlocked.Increment(ref _slowConsumerCloses);
    public void FrameIn() => Interlocked.Increment(ref _framesIn);
    public void PresenceFramesAdd(int count) => Interlocked.Add(ref _presenceFrames, count);
    public void HandshakeRefused(string reason) => _handshakeRefusals.Add(1, new KeyValuePair<string, object?>("reason", reason));
    public void ConnectionRejected() => _connectionsRejected.Add(1);
    public void HandshakeHandedOn(string reason) => _handshakesHandedOn.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void StoreCommitted(int messages, TimeSpan duration)
    {
        _commitBatchSize.Record(messages);
        _commitDuration.Record(duration.TotalSeconds);
    }

    /// <summary>A write carried messages to a member; <paramref name="oldestCommittedAt"/> is a <see cref="Stopwatch"/> timestamp.</summary>
    public void Delivered(long oldestCommittedAt) => _deliveryDuration.Record(Stopwatch.GetElapsedTime(oldestCommittedAt).TotalSeconds);
    public void StoreCommitFailed() => Interlocked.Increment(ref _storeCommitFailures);
    public void StoreAppendsFailed(int count) => Interlocked.Add(ref _storeAppendsFailed, count);

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveRoomsByState()
    {
        var (active, idle) = _roomsByState();
        return
        [
            new Measurement<long>(active, new KeyValuePair<string, object?>("state", "active")),
            new Measurement<long>(idle, new KeyValuePair<string, object?>("state", "idle")),
        ];
    }

    // Constant strings for the codes the server sends, so counting a close allocates nothing.
    private static string CloseCodeLabel(WebSocketCloseStatus? status) => status switch
    {
        null => "aborted",
        WebSocketCloseStatus.NormalClosure => "1000",
        WebSocketCloseStatus.EndpointUnavailable => "1001",
        WebSocketCloseStatus.InvalidMessageType => "1003",
        WebSocketCloseStatus.InvalidPayloadData => "1007",
        WebSocketCloseStatus.PolicyViolation => "1008",
        WebSocketCloseStatus.MessageTooBig => "1009",
        WebSocketCloseStatus.InternalServerError => "1011",
        (WebSocketCloseStatus)1013 => "1013",
        (WebSocketCloseStatus)4001 => "4001",
        { } other => ((int)other).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
