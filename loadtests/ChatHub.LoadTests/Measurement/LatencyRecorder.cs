using System.Diagnostics;
using HdrHistogram;

namespace ChatHub.LoadTests.Measurement;

/// <summary>
/// A thread-safe HdrHistogram of latencies in microseconds (1 µs .. 60 s, 3 significant digits).
/// A lock is enough: recording is a few nanoseconds and the receive loops are not contended on 2 cores.
/// </summary>
internal sealed class LatencyRecorder
{
    private const long HighestMicroseconds = 60_000_000;
    private readonly LongHistogram _histogram = new(HighestMicroseconds, 3);
    private readonly object _lock = new();

    public void RecordTicks(long stopwatchTicks)
    {
        long micros = Math.Clamp(stopwatchTicks * 1_000_000 / Stopwatch.Frequency, 1, HighestMicroseconds);
        lock (_lock)
        {
            _histogram.RecordValue(micros);
        }
    }

    public LatencySummary Summarize()
    {
        lock (_lock)
        {
            return LatencySummary.From(_histogram);
        }
    }
}
