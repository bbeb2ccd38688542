using System.Diagnostics;
using System.Net.Sockets;
using ChatHub.Server.Connections.Sockets;
using ChatHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ChatHub.Tests.Unit.Sockets;

/// <summary>
/// What one <see cref="KeepAliveClock"/> tick costs when nothing is due, the common case it pays every tick (at the
/// default 30 s interval and 20 s timeout it ticks every second; a socket is due about once per interval): the
/// whole list walked under the clock's lock. Reported (docs/performance.md), not asserted: a measurement on a
/// shared machine, not a contract. The WebSockets share one unconnected socket (the tick never touches it; 100,000
/// real ones would pass the process's file limit), and each is kept apart from the next by a kilobyte of its own,
/// as a real connection's other objects keep it, so the walk misses the cache as it would on a busy server.
/// Runs alone: it fills a few hundred megabytes of heap and times a loop.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class KeepAliveClockScanCostTests(ITestOutputHelper output)
{
    private const int Ticks = 200;

    [Theory]
    [InlineData(20_000)]
    [InlineData(100_000)]
    public void A_tick_with_nothing_due_walks_every_socket(int sockets)
    {
        using var clock = new KeepAliveClock(TimeSpan.FromHours(1)); // its own timer never fires during the test
        using var shared = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var webSockets = new SocketWebSocket[sockets];
        var spacers = new byte[sockets][];
        for (int i = 0; i < sockets; i++)
        {
            webSockets[i] = new SocketWebSocket(shared, null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(20), clock);
            spacers[i] = new byte[1024];
        }

        // Registered in creation order, walked newest first; a compaction keeps them apart as they were allocated.
        Assert.Equal(sockets, clock.Count);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);

        var times = new double[Ticks];
        for (int i = 0; i < Ticks; i++)
        {
            long start = Stopwatch.GetTimestamp();
            clock.Tick();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(times);
        double median = times[Ticks / 2], p90 = times[Ticks * 9 / 10], max = times[^1];
        output.WriteLine($"{sockets} sockets, {Ticks} ticks with nothing due: median {median:0} µs ({median * 1000 / sockets:0.0} ns a socket), " +
            $"p90 {p90:0} µs, max {max:0} µs");

        // Nothing was due: not one socket pinged, all still registered.
        Assert.Equal(sockets, clock.Count);
        foreach (var webSocket in webSockets)
        {
            webSocket.Dispose();
        }

        Assert.Equal(0, clock.Count);
        GC.KeepAlive(spacers);
    }
}
