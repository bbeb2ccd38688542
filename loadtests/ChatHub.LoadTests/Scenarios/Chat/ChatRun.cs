using ChatHub.LoadTests.Measurement;
using ChatHub.LoadTests.Scenarios.Common;

namespace ChatHub.LoadTests.Scenarios.Chat;

/// <summary>State shared by one chat run's members and senders.</summary>
internal sealed class ChatRun
{
    private readonly TaskCompletionSource _allDelivered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _delivered;
    private long _expected = long.MaxValue;

    public ViolationLog Violations { get; } = new();
    public LatencyRecorder Latency { get; } = new();
    public LatencyRecorder SendLag { get; } = new();

    /// <summary>Stopwatch timestamp where the steady (measured) phase begins.</summary>
    public long SteadyStart { get; set; } = long.MaxValue;

    public long Delivered => Interlocked.Read(ref _delivered);

    public Task AllDelivered => _allDelivered.Task;

    public void OnDelivered()
    {
        if (Interlocked.Increment(ref _delivered) >= Interlocked.Read(ref _expected))
        {
            _allDelivered.TrySetResult();
        }
    }

    /// <summary>Known once every sender has stopped; completes <see cref="AllDelivered"/> if already reached.</summary>
    public void SetExpected(long expected)
    {
        Interlocked.Exchange(ref _expected, expected);
        if (Delivered >= expected)
        {
            _allDelivered.TrySetResult();
        }
    }
}
