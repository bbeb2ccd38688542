using System.Runtime;
using ChatHub.Server.Configuration;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Connections;

/// <summary>
/// Gives memory back to the system after many connections went away. An idle server allocates nothing, so the
/// collector never runs again on its own, and what thousands of closed connections left behind (their objects,
/// and the pinned blocks Kestrel's pool evicts once it sees them unused) stays in the process. When the open
/// connections have fallen by at least <c>Connections:ReclaimAfterDrop</c> and to half or less of their highest
/// count since the last reclaim, and stayed there for a second, one full compacting collection runs in the mode
/// that decommits what it frees (<see cref="GCCollectionMode.Aggressive"/>). It pauses the process once, for as
/// long as one full collection of what is still live takes; it cannot run more often than the connections drop.
/// </summary>
internal sealed partial class MemoryReclaimer(
    ConnectionRegistry connections,
    IOptions<ChatHubOptions> options,
    TimeProvider clock,
    ILogger<MemoryReclaimer> logger) : BackgroundService
{
    private static readonly TimeSpan CheckPeriod = TimeSpan.FromSeconds(1);

    private TaskCompletionSource _reclaimed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next reclaim (for tests: nothing else outside the process can see one).</summary>
    public Task NextReclaim => Volatile.Read(ref _reclaimed).Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        int drop = options.Value.Connections.ReclaimAfterDrop;
        if (drop == 0)
        {
            return;
        }

        int peak = 0;
        int previous = -1;
        using var timer = new PeriodicTimer(CheckPeriod, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                int count = connections.Count;
                peak = Math.Max(peak, connections.TakeHighWater()); // between ticks too: a ramp is not sampled
                // Down far enough, and no lower than a second ago: the closing is over, reclaim once.
                if (peak - count >= drop && count <= peak / 2 && count == previous)
                {
                    long before = GC.GetTotalMemory(false);
                    GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    LogReclaimed(logger, peak, count, before >> 20, GC.GetTotalMemory(false) >> 20);
                    peak = count;
                    Interlocked.Exchange(ref _reclaimed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                }

                previous = count;
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connections fell from {Peak} to {Count}: full collection, managed heap {BeforeMiB} MiB -> {AfterMiB} MiB")]
    private static partial void LogReclaimed(ILogger logger, int peak, int count, long beforeMiB, long afterMiB);
}
