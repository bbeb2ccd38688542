using System.Diagnostics;
using System.Net.WebSockets;
using ChatHub.LoadTests.Measurement;
using ChatHub.LoadTests.Net;
using ChatHub.LoadTests.Probes;
using ChatHub.LoadTests.Protocol;
using ChatHub.LoadTests.Reporting;
using ChatHub.LoadTests.Scenarios.Common;

namespace ChatHub.LoadTests.Scenarios.SlowConsumer;

/// <summary>
/// Back-pressure: one member stops reading in a busy room. Phases: warm-up (everyone reads), stalled
/// (until the server is seen to drop the member), after (the room stays busy a few more seconds).
/// Then the stalled client reads again and reports the close status it finds at the end of its buffer.
/// </summary>
internal static class SlowConsumerScenario
{
    public static async Task<SlowConsumerResult> RunAsync(SlowConsumerOptions options, CancellationToken ct)
    {
        options.Validate();
        ServerTarget target = options.Servers[0];
        var run = new SlowConsumerRun(options.Room);
        using var servers = new ServerSet(options.Servers);
        using var connector = new WebSocketConnector();
        using var slowConnector = new WebSocketConnector(options.SlowReceiveBufferBytes);
        Uri uri = ChatHubUris.WebSocket(target.BaseUrl, null, [options.Room]);

        var readers = Enumerable.Range(0, options.Members).Select(_ => (uri, (MemberSink)new ReadingMember(run))).ToList();
        LoadConnection[] connections = await MemberConnector.ConnectAsync(connector, readers, 32, options.ConnectTimeout, ct).ConfigureAwait(false);
        var stalled = new StalledMember(run) { ExpectClose = true };
        LoadConnection[] slow = await MemberConnector.ConnectAsync(slowConnector, [(uri, stalled)], 1, options.ConnectTimeout, ct).ConfigureAwait(false);

        var result = new SlowConsumerResult
        {
            Run = RunInfo.Create("slow-consumer", options.Label, options.Command),
            Server = target.BaseUrl.ToString(),
            Members = options.Members,
            Senders = options.Senders,
            RatePerSender = options.RatePerSender,
            TextChars = options.TextChars,
            SlowReceiveBufferBytes = options.SlowReceiveBufferBytes,
        };

        double? counterAtStart = await servers.Stats.GetSlowConsumerClosesAsync(target.BaseUrl, ct).ConfigureAwait(false);
        long? connectionsAtStart = (await servers.Stats.GetStatsAsync(target.BaseUrl, ct).ConfigureAwait(false))?.Connections;
        long runStart = Stopwatch.GetTimestamp();
        long interval = (long)(Stopwatch.Frequency / options.RatePerSender);
        long[] sent = new long[options.Senders];
        var senders = Enumerable.Range(0, options.Senders)
            .Select(s => Task.Run(() => SendLoopAsync(connections[s], options.Room, runStart + interval * s / options.Senders, interval, options.TextChars, run, () => sent[s]++, ct), ct))
            .ToArray();

        // Warm-up: everyone reads. Then the slow member stops issuing receives.
        await Task.Delay(options.Warmup, ct).ConfigureAwait(false);
        Interlocked.Exchange(ref run.PausedAt, Stopwatch.GetTimestamp());
        slow[0].PauseReading();

        // Watch the server until it drops the stalled member: the slow-consumer counter, or one connection fewer.
        long stallDeadline = run.PausedAt + (long)(options.StallTimeout.TotalSeconds * Stopwatch.Frequency);
        using var sampler = new PeriodicTimer(options.SampleInterval);
        long? rssMax = null;
        while (Stopwatch.GetTimestamp() < stallDeadline && run.ClosedAt == long.MaxValue && await sampler.WaitForNextTickAsync(ct).ConfigureAwait(false))
        {
            SlowConsumerSample sample = await SampleAsync(servers, target, runStart, ct).ConfigureAwait(false);
            result.Timeline.Add(sample);
            result.ServerRssAtStartBytes ??= sample.RssBytes;
            rssMax = Max(rssMax, sample.RssBytes);
            // A counter often appears in /metrics only after its first increment: absent means 0.
            if (sample.SlowConsumerCounter > (counterAtStart ?? 0))
            {
                result.DetectedBy = "metrics";
            }
            else if (sample.Connections < connectionsAtStart)
            {
                result.DetectedBy = "stats";
            }
            if (result.DetectedBy is not null)
            {
                Interlocked.Exchange(ref run.ClosedAt, Stopwatch.GetTimestamp());
                result.SecondsUntilServerClosed = Stopwatch.GetElapsedTime(run.PausedAt, run.ClosedAt).TotalSeconds;
            }
        }
        if (result.DetectedBy is null)
        {
            run.Violations.Add($"the server did not drop the stalled member within {options.StallTimeout.TotalSeconds:F0} s");
            Interlocked.Exchange(ref run.ClosedAt, Stopwatch.GetTimestamp());
        }

        // After: the room stays busy; the others' latency should look like before the stall.
        long afterEnd = Stopwatch.GetTimestamp() + (long)(options.After.TotalSeconds * Stopwatch.Frequency);
        Interlocked.Exchange(ref run.SendUntil, afterEnd);
        while (Stopwatch.GetTimestamp() < afterEnd && await sampler.WaitForNextTickAsync(ct).ConfigureAwait(false))
        {
            SlowConsumerSample sample = await SampleAsync(servers, target, runStart, ct).ConfigureAwait(false);
            result.Timeline.Add(sample);
            rssMax = Max(rssMax, sample.RssBytes);
        }
        await Task.WhenAll(senders).ConfigureAwait(false);

        long messages = sent.Sum();
        long expected = messages * options.Members;
        run.SetExpected(expected);
        try
        {
            await run.AllDelivered.WaitAsync(options.Drain, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Counted as lost below.
        }

        // The stalled client reads again: everything the OS buffered, then (if the server sent one) the close frame.
        slow[0].ResumeReading();
        WebSocketCloseStatus? status = null;
        try
        {
            status = await stalled.Closed.Task.WaitAsync(options.Drain, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            run.Violations.Add("the stalled client's socket did not end after it read again");
        }
        result.SlowClientCloseStatus = status is null ? null : (int)status;
        result.SlowClientCloseReason = slow[0].Socket.CloseStatusDescription ?? (status is null ? "socket ended without a close frame" : null);
        result.SlowClientMessagesRead = Interlocked.Read(ref stalled.Received);

        SlowConsumerSample last = await SampleAsync(servers, target, runStart, ct).ConfigureAwait(false);
        result.Timeline.Add(last);
        result.ServerRssAtEndBytes = last.RssBytes;
        result.ServerRssMaxBytes = Max(rssMax, last.RssBytes);
        result.SlowConsumerCounterDelta = last.SlowConsumerCounter - (counterAtStart ?? 0);
        result.Observed1013 = result.SlowClientCloseStatus == 1013 || result.SlowConsumerCounterDelta >= 1;
        if (!result.Observed1013)
        {
            run.Violations.Add($"no 1013: the slow client saw close status {result.SlowClientCloseStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} and no slow-consumer close was counted");
        }

        result.MessagesSent = messages;
        result.OthersDeliveriesExpected = expected;
        result.OthersDeliveriesReceived = run.Delivered;
        result.OthersLost = expected - run.Delivered;
        if (result.OthersLost != 0)
        {
            run.Violations.Add($"the reading members lost {result.OthersLost} of {expected} deliveries");
        }
        result.OthersLatencyBefore = run.Before.Summarize();
        result.OthersLatencyWhileStalled = run.Stalled.Summarize();
        result.OthersLatencyAfterClose = run.After.Summarize();

        await MemberConnector.CloseAllAsync(connections.Concat(slow), readers.Select(r => r.Item2).Append(stalled)).ConfigureAwait(false);
        result.Violations = run.Violations.ToList();
        return result;
    }

    private static long? Max(long? a, long? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static async Task<SlowConsumerSample> SampleAsync(ServerSet servers, ServerTarget target, long runStart, CancellationToken ct)
    {
        IReadOnlyList<ServerSample> s = await servers.SampleAsync(ct).ConfigureAwait(false);
        return new SlowConsumerSample
        {
            Seconds = Stopwatch.GetElapsedTime(runStart).TotalSeconds,
            RssBytes = s[0].RssBytes ?? s[0].WorkingSetBytes,
            Connections = s[0].Connections,
            SlowConsumerCounter = await servers.Stats.GetSlowConsumerClosesAsync(target.BaseUrl, ct).ConfigureAwait(false),
        };
    }

    private static async Task SendLoopAsync(LoadConnection connection, string room, long first, long interval, int textChars, SlowConsumerRun run, Action sent, CancellationToken ct)
    {
        for (long scheduled = first; scheduled < Interlocked.Read(ref run.SendUntil); scheduled += interval)
        {
            long wait = scheduled - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), ct).ConfigureAwait(false);
            }
            try
            {
                await connection.SendAsync(FrameCodec.Say(room, LatencyStamp.Text(scheduled, textChars)), ct).ConfigureAwait(false);
                sent();
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
            {
                run.Violations.Add("a sender failed: " + ex.Message);
                return;
            }
        }
    }
}
