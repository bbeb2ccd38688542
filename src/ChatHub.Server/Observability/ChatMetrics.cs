using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ChatHub.Server.Observability;

/// <summary>
/// The server's counters. They are plain interlocked fields read by observable instruments, so the hot path
/// pays one atomic add and <c>/metrics</c> and <c>/api/stats</c> read the very same numbers.
/// </summary>
public sealed class ChatMetrics : IDisposable
{
    public const string MeterName = "ChatHub";

    private readonly Meter _meter;
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private long _connections;
    private long _connectionsAccepted;
    private Func<long> _rooms = static () => 0;
    private long _messagesIn;
    private long _messagesOut;
    private long _messagesDropped;
    private long _slowConsumerCloses;
    private long _framesIn;
    private long _storeCommitFailures;
    private long _storeAppendsFailed;

    public ChatMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableUpDownCounter("chathub.connections", () => Volatile.Read(ref _connections), "{connection}", "Open WebSocket connections");
        _meter.CreateObservableCounter("chathub.connections.accepted", () => Volatile.Read(ref _connectionsAccepted), "{connection}", "WebSocket connections accepted since start");
        _meter.CreateObservableUpDownCounter("chathub.rooms", () => _rooms(), "{room}", "Rooms held in memory");
        _meter.CreateObservableCounter("chathub.messages.in", () => Volatile.Read(ref _messagesIn), "{message}", "Chat messages (say, dm) accepted from clients");
        _meter.CreateObservableCounter("chathub.messages.out", () => Volatile.Read(ref _messagesOut), "{message}", "Chat messages (message, dm) queued to clients");
        _meter.CreateObservableCounter("chathub.messages.dropped", () => Volatile.Read(ref _messagesDropped), "{message}", "Chat messages dropped by the rate limit");
        _meter.CreateObservableCounter("chathub.slow_consumer.closes", () => Volatile.Read(ref _slowConsumerCloses), "{connection}", "Connections closed with 1013 because their outbox filled");
        _meter.CreateObservableCounter("chathub.frames.in", () => Volatile.Read(ref _framesIn), "{frame}", "WebSocket text frames received");
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

    public void ConnectionClosed() => Interlocked.Decrement(ref _connections);

    /// <summary>The room count lives in the room registry; it is read, not mirrored.</summary>
    public void ObserveRooms(Func<long> count) => _rooms = count;

    public void MessageIn() => Interlocked.Increment(ref _messagesIn);
    public void MessagesOutAdd(int count) => Interlocked.Add(ref _messagesOut, count);
    public void MessageDropped() => Interlocked.Increment(ref _messagesDropped);
    public void SlowConsumerClosed() => Interlocked.Increment(ref _slowConsumerCloses);
    public void FrameIn() => Interlocked.Increment(ref _framesIn);
    public void StoreCommitFailed() => Interlocked.Increment(ref _storeCommitFailures);
    public void StoreAppendsFailed(int count) => Interlocked.Add(ref _storeAppendsFailed, count);

    public void Dispose() => _meter.Dispose();
}
