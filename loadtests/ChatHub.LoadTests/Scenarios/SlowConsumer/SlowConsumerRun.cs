using ChatHub.LoadTests.Measurement;
using ChatHub.LoadTests.Scenarios.Common;

namespace ChatHub.LoadTests.Scenarios.SlowConsumer;

/// <summary>State shared by one slow-consumer run: phase boundaries, latencies per phase, delivery count.</summary>
internal sealed class SlowConsumerRun(string room)
{
    private readonly TaskCompletionSource _allDelivered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _delivered;
    private long _expected = long.MaxValue;

    public string Room { get; } = room;
    public ViolationLog Violations { get; } = new();
    public LatencyRecorder Before { get; } = new();
    public LatencyRecorder Stalled { get; } = new();
    public LatencyRecorder After { get; } = new();

    /// <summary>Stopwatch timestamps; long.MaxValue until reached.</summary>
    public long PausedAt = long.MaxValue;
    public long ClosedAt = long.MaxValue;
    public long SendUntil = long.MaxValue;

    public long Delivered => Interlocked.Read(ref _delivered);

    public Task AllDelivered => _allDelivered.Task;

    public void Record(long scheduled, long received)
    {
        LatencyRecorder phase = scheduled >= Interlocked.Read(ref ClosedAt) ? After
            : scheduled >= Interlocked.Read(ref PausedAt) ? Stalled
            : Before;
        phase.RecordTicks(received - scheduled);
    }

    public void OnDelivered()
    {
        if (Interlocked.Increment(ref _delivered) >= Interlocked.Read(ref _expected))
        {
            _allDelivered.TrySetResult();
        }
    }

    public void SetExpected(long expected)
    {
        Interlocked.Exchange(ref _expected, expected);
        if (Delivered >= expected)
        {
            _allDelivered.TrySetResult();
        }
    }
}

/// <summary>A member that keeps reading: its latency shows whether the stalled one hurts the room.</summary>
internal sealed class ReadingMember(SlowConsumerRun run) : MemberSink(run.Room, run.Violations)
{
    protected override void OnMessage(long? stamp, long receivedTimestamp)
    {
        if (stamp is long scheduled)
        {
            run.Record(scheduled, receivedTimestamp);
        }
        run.OnDelivered();
    }
}

/// <summary>The member that stops reading; its messages are only counted (and seq-checked).</summary>
internal sealed class StalledMember(SlowConsumerRun run) : MemberSink(run.Room, run.Violations)
{
    protected override void OnMessage(long? stamp, long receivedTimestamp)
    {
    }
}
