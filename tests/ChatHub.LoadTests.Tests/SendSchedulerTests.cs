using System.Collections.Concurrent;
using System.Diagnostics;
using ChatHub.LoadTests.Measurement;
using ChatHub.LoadTests.Net;
using ChatHub.LoadTests.Probes;
using ChatHub.LoadTests.Scenarios.Chat;

namespace ChatHub.LoadTests.Tests;

/// <summary>The chat scenario's one timing thread: every send on its schedule, never early, one in flight per sender.</summary>
public sealed class SendSchedulerTests
{
    private static readonly long Millisecond = Stopwatch.Frequency / 1000;

    [Fact]
    public async Task Every_sender_sends_at_each_scheduled_time_in_order_and_never_before_it()
    {
        const int Senders = 5, Sends = 8;
        long interval = 20 * Millisecond;
        long start = Stopwatch.GetTimestamp() + 10 * Millisecond;
        long end = start + Sends * interval;
        var calls = new ConcurrentQueue<(int Sender, long Scheduled, long Called)>();
        var starting = new ConcurrentQueue<(long Scheduled, long Started)>();
        int sent = 0;
        var scheduler = new SendScheduler(interval, end) { SendStarting = (scheduled, started) => starting.Enqueue((scheduled, started)) };
        for (int i = 0; i < Senders; i++)
        {
            int index = i;
            scheduler.Add(start + interval * i / Senders, scheduled =>
            {
                calls.Enqueue((index, scheduled, Stopwatch.GetTimestamp()));
                return ValueTask.CompletedTask;
            }, () => Interlocked.Increment(ref sent), ex => Assert.Fail(ex.ToString()));
        }

        await scheduler.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Senders * Sends, sent);
        Assert.Equal(Senders * Sends, starting.Count);
        Assert.All(starting, s => Assert.True(s.Started >= s.Scheduled, "a send started before its scheduled time"));
        for (int i = 0; i < Senders; i++)
        {
            long first = start + interval * i / Senders;
            var mine = calls.Where(c => c.Sender == i).ToList();
            Assert.Equal(Enumerable.Range(0, Sends).Select(k => first + k * interval), mine.Select(c => c.Scheduled));
            Assert.All(mine, c => Assert.True(c.Called >= c.Scheduled, "a send was called before its scheduled time"));
        }
        // One timing thread hands sends out in time order across all senders.
        long[] order = calls.Select(c => c.Scheduled).ToArray();
        Assert.Equal(order.Order(), order);
    }

    [Fact]
    public async Task A_send_due_while_the_previous_is_in_flight_starts_after_it_and_the_run_waits_for_both()
    {
        long interval = 5 * Millisecond;
        long start = Stopwatch.GetTimestamp() + 5 * Millisecond;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scheduled = new List<long>();
        int inFlight = 0, maxInFlight = 0, sent = 0;
        var scheduler = new SendScheduler(interval, start + 3 * interval);
        scheduler.Add(start, async s =>
        {
            lock (scheduled)
            {
                scheduled.Add(s);
            }
            int now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref maxInFlight, now);
            if (s == start)
            {
                // The first send hangs until the test lets it go; the next two fall due meanwhile.
                await release.Task;
            }
            Interlocked.Decrement(ref inFlight);
        }, () => Interlocked.Increment(ref sent), ex => Assert.Fail(ex.ToString()));

        Task run = scheduler.RunAsync(CancellationToken.None);
        // Past the last due time the schedule is over, but the run is not: sends are pending behind the first.
        PreciseWait.Until(start + 3 * interval, CancellationToken.None);
        Assert.False(run.IsCompleted);
        Assert.Equal(0, Volatile.Read(ref sent));
        release.SetResult();
        await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(3, sent);
        Assert.Equal(1, maxInFlight);
        Assert.Equal([start, start + interval, start + 2 * interval], scheduled);
    }

    [Fact]
    public async Task A_failing_sender_is_reported_once_and_stops_while_the_others_go_on()
    {
        const int Sends = 4;
        long interval = 5 * Millisecond;
        long start = Stopwatch.GetTimestamp() + 5 * Millisecond;
        var scheduler = new SendScheduler(interval, start + Sends * interval);
        int healthySent = 0, syncCalls = 0, asyncCalls = 0;
        var failures = new ConcurrentQueue<Exception>();
        scheduler.Add(start, _ => ValueTask.CompletedTask, () => Interlocked.Increment(ref healthySent), failures.Enqueue);
        // Throws from the call itself on its second send.
        scheduler.Add(start + 1, _ => Interlocked.Increment(ref syncCalls) == 2 ? throw new IOException("sync") : ValueTask.CompletedTask, () => { }, failures.Enqueue);
        // Faults after yielding, on its first send.
        scheduler.Add(start + 2, async _ =>
        {
            Interlocked.Increment(ref asyncCalls);
            await Task.Yield();
            throw new IOException("async");
        }, () => { }, failures.Enqueue);

        await scheduler.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Sends, healthySent);
        Assert.Equal(2, syncCalls);
        Assert.Equal(new[] { "async", "sync" }, failures.Select(f => f.Message).Order());
        // Its next sends were either skipped at their due time or chained behind the failing one and skipped then.
        Assert.Equal(1, asyncCalls);
    }

    [Fact]
    public async Task Cancelling_stops_the_schedule()
    {
        long interval = Stopwatch.Frequency;
        long start = Stopwatch.GetTimestamp() + 10 * Millisecond;
        int sends = 0;
        var scheduler = new SendScheduler(interval, start + 3600 * interval);
        scheduler.Add(start, _ => { Interlocked.Increment(ref sends); return ValueTask.CompletedTask; }, () => { }, ex => Assert.Fail(ex.ToString()));
        using var cts = new CancellationTokenSource();
        Task run = scheduler.RunAsync(cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.InRange(sends, 0, 1);
    }

    [Fact]
    public void A_precise_wait_returns_at_or_after_its_timestamp()
    {
        for (int i = 0; i < 20; i++)
        {
            long due = Stopwatch.GetTimestamp() + 300 * Stopwatch.Frequency / 1_000_000;
            PreciseWait.Until(due, CancellationToken.None);
            Assert.True(Stopwatch.GetTimestamp() >= due);
        }
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => PreciseWait.Until(Stopwatch.GetTimestamp() + Stopwatch.Frequency, cts.Token));
    }

    [Theory]
    [InlineData(TargetKind.ChatHub, "http://127.0.0.1:8080", typeof(RawWebSocketConnector))]
    [InlineData(TargetKind.NodeWs, "http://127.0.0.1:8091", typeof(RawWebSocketConnector))]
    [InlineData(TargetKind.ChatHub, "https://127.0.0.1:8443", typeof(JsonWebSocketConnector))]
    [InlineData(TargetKind.SignalR, "http://127.0.0.1:8092", typeof(SignalRConnector))]
    internal void Plain_chathub_and_node_get_the_lean_client_others_their_own(TargetKind kind, string url, Type expected)
    {
        using IChatConnector connector = ChatConnectors.ForMessaging(kind, [new Uri(url)]);
        Assert.IsType(expected, connector);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
