using System.Diagnostics;
using ChatHub.LoadTests.Measurement;
using ChatHub.LoadTests.Net;
using ChatHub.LoadTests.Probes;
using ChatHub.LoadTests.Protocol;
using ChatHub.LoadTests.Reporting;
using ChatHub.LoadTests.Scenarios.Common;

namespace ChatHub.LoadTests.Scenarios.Chat;

/// <summary>Many rooms, every member sending at a fixed rate; end-to-end latency and loss.</summary>
internal static class ChatScenario
{
    public static async Task<ChatResult> RunAsync(ChatOptions options, CancellationToken ct)
    {
        options.Validate();
        var run = new ChatRun();
        using var servers = new ServerSet(options.Servers);
        ServerTarget target = options.Servers[0];
        using IChatConnector connector = ChatConnectors.For(target.Kind);
        string[] rooms = Enumerable.Range(0, options.Rooms).Select(r => options.RoomPrefix + r).ToArray();
        var members = Enumerable.Range(0, options.Connections)
            .Select(i => new ChatMember(rooms[i % rooms.Length], run) { CheckSeqOrder = target.Kind != TargetKind.SignalR })
            .ToList();
        int[] roomSize = new int[rooms.Length];
        for (int i = 0; i < options.Connections; i++)
        {
            roomSize[i % rooms.Length]++;
        }

        IChatConnection[] connections = await MemberConnector.ConnectAsync(connector, options.Servers.Select(s => s.BaseUrl).ToArray(), members, options.ConnectConcurrency, options.ConnectTimeout, ct).ConfigureAwait(false);

        long interval = (long)(Stopwatch.Frequency / options.RatePerConnection);
        long start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
        run.SteadyStart = start + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
        long end = run.SteadyStart + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
        long[] sentPerRoom = new long[rooms.Length];
        long sendFailures = 0;

        // A phase boundary on the clock, not a synchronisation: the senders run on their own schedules.
        Task warmupOver = Task.Delay(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), run.SteadyStart), ct);
        var senders = new Task[connections.Length];
        for (int i = 0; i < connections.Length; i++)
        {
            int index = i;
            // Each sender starts at its own phase within the interval so the load is spread, not pulsed.
            long phase = interval * index / connections.Length;
            senders[i] = Task.Run(() => SendLoopAsync(connections[index], rooms[index % rooms.Length], start + phase, interval, end, options.TextChars, run,
                () => Interlocked.Increment(ref sentPerRoom[index % rooms.Length]), () => Interlocked.Increment(ref sendFailures), ct), ct);
        }

        await warmupOver.ConfigureAwait(false);
        CpuMeter cpu = CpuMeter.Start(servers);
        long deliveredAtSteadyStart = run.Delivered;
        await Task.WhenAll(senders).ConfigureAwait(false);
        long deliveredAtSteadyEnd = run.Delivered;
        double steadySeconds = Stopwatch.GetElapsedTime(run.SteadyStart).TotalSeconds;
        CpuUsage cpuUsage = cpu.Stop(deliveredAtSteadyEnd - deliveredAtSteadyStart);

        long expected = 0;
        for (int r = 0; r < rooms.Length; r++)
        {
            expected += sentPerRoom[r] * roomSize[r];
        }
        run.SetExpected(expected);
        long drainStart = Stopwatch.GetTimestamp();
        try
        {
            await run.AllDelivered.WaitAsync(options.Drain, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Counted below as lost.
        }
        double drainSeconds = Stopwatch.GetElapsedTime(drainStart).TotalSeconds;
        long delivered = run.Delivered;
        await MemberConnector.CloseAllAsync(connections, members).ConfigureAwait(false);

        var result = new ChatResult
        {
            Run = RunInfo.Create("chat", options.Label, options.Command),
            Server = string.Join(' ', options.Servers.Select(s => s.BaseUrl.ToString())),
            Kind = target.Kind.Name(),
            Connections = options.Connections,
            Rooms = options.Rooms,
            RatePerConnection = options.RatePerConnection,
            TextChars = options.TextChars,
            WarmupSeconds = options.Warmup.TotalSeconds,
            SteadySeconds = steadySeconds,
            MessagesSent = sentPerRoom.Sum(),
            SendFailures = sendFailures,
            DeliveriesExpected = expected,
            DeliveriesReceived = delivered,
            Lost = expected - delivered,
            DrainSeconds = drainSeconds,
            OfferedMessagesPerSecond = options.Connections * options.RatePerConnection,
            SteadyDeliveriesPerSecond = (deliveredAtSteadyEnd - deliveredAtSteadyStart) / steadySeconds,
            Latency = run.Latency.Summarize(),
            SendLag = run.SendLag.Summarize(),
            Cpu = cpuUsage,
        };
        if (result.Lost != 0)
        {
            run.Violations.Add($"lost {result.Lost} of {expected} deliveries after {drainSeconds:F1} s drain");
        }
        if (sendFailures != 0)
        {
            run.Violations.Add($"{sendFailures} sends failed");
        }
        result.Violations = run.Violations.ToList();
        return result;
    }

    private static async Task SendLoopAsync(
        IChatConnection connection, string room, long first, long interval, long end, int textChars, ChatRun run,
        Action sent, Action failed, CancellationToken ct)
    {
        for (long scheduled = first; scheduled < end; scheduled += interval)
        {
            long wait = scheduled - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), ct).ConfigureAwait(false);
            }
            if (scheduled >= run.SteadyStart)
            {
                run.SendLag.RecordTicks(Stopwatch.GetTimestamp() - scheduled);
            }
            try
            {
                // The stamp is the schedule, not "now": a late send is charged to the latency.
                await connection.SayAsync(room, LatencyStamp.Text(scheduled, textChars), ct).ConfigureAwait(false);
                sent();
            }
            catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                failed();
                return;
            }
        }
    }
}
