using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ChatHub.LoadTests.Measurement;

/// <summary>
/// Blocks the calling thread until a <see cref="Stopwatch"/> timestamp. .NET's timers (<see cref="Task.Delay(TimeSpan)"/>,
/// <see cref="Thread.Sleep(int)"/>) wake on whole milliseconds, and on a busy thread pool later still; on Linux this
/// sleeps with <c>nanosleep(2)</c>, which the kernel ends with its high-resolution timers within the thread's timer
/// slack (50 µs by default). Meant for one dedicated timing thread, never for thread-pool threads.
/// </summary>
internal static partial class PreciseWait
{
    // Longest single sleep, so a cancellation is seen within this long.
    private static readonly long MaxSleepTicks = Stopwatch.Frequency / 20;

    /// <summary>Returns at or after <paramref name="timestamp"/> (never before), or throws once <paramref name="ct"/> is cancelled.</summary>
    public static void Until(long timestamp, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            long remaining = timestamp - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return;
            }
            Sleep(Math.Min(remaining, MaxSleepTicks));
        }
    }

    private static void Sleep(long stopwatchTicks)
    {
        long nanoseconds = (long)((double)stopwatchTicks * 1_000_000_000 / Stopwatch.Frequency);
        if (OperatingSystem.IsLinux())
        {
            var request = new Timespec { Seconds = nanoseconds / 1_000_000_000, Nanoseconds = nanoseconds % 1_000_000_000 };
            // An interrupted sleep (EINTR) just returns early; the caller's loop sleeps for what is left.
            _ = NanoSleep(in request, IntPtr.Zero);
        }
        else
        {
            // Elsewhere: whole milliseconds, rounded up so the loop does not spin through the last one.
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(nanoseconds / 1_000_000.0))));
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "nanosleep")]
    private static partial int NanoSleep(in Timespec request, IntPtr remaining);
}
