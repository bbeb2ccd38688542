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
        using IChatConnector connector = ChatConnectors.ForMessaging(target.Kind, options.Servers.Select(s => s.BaseUrl));
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
        var scheduler = new SendScheduler(interval, end)
        {
            SendStarting = (scheduled, started) =>
            {
                if (scheduled >= run.SteadyStart)
                {
                    run.SendLag.RecordTicks(started - scheduled);
                }
            },
        };
        for (int i = 0; i < connections.Length; i++)
        {
            IChatConnection connection = connections[i];
            ChatMember member = members[i];
            int room = i % rooms.Length;
            // Each sender starts at its own phase within the interval so the load is spread, not pulsed.
            long phase = interval * i / connections.Length;
            scheduler.Add(
                start + phase,
                // The stamp is the schedule, not "now": a late send is charged to the latency.
                scheduled => connection.SayAsync(rooms[room], LatencyStamp.Text(scheduled, options.TextChars), ct),
                () => Interlocked.Increment(ref sentPerRoom[room]),
                ex =>
                {
                    Interlocked.Increment(ref sendFailures);
                    run.Violations.Add($"{member.Name}: send failed, sends no more: {ex.GetType().Name}: {ex.Message}");
                });
        }
        Task senders = scheduler.RunAsync(ct);

        await warmupOver.ConfigureAwait(false);
        CpuMeter cpu = CpuMeter.Start(servers);
        long deliveredAtSteadyStart = run.Delivered;
        await senders.ConfigureAwait(false);
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
}
