using System.Diagnostics;
using ChatHub.LoadTests.Measurement;
using ChatHub.LoadTests.Net;
using ChatHub.LoadTests.Probes;
using ChatHub.LoadTests.Protocol;
using ChatHub.LoadTests.Reporting;
using ChatHub.LoadTests.Scenarios.Common;

namespace ChatHub.LoadTests.Scenarios.Fanout;

/// <summary>Fan-out throughput: one sender, M members, K messages, windowed; checks every member saw seq 1..K.</summary>
internal static class FanoutScenario
{
    public static async Task<FanoutResult> RunAsync(FanoutOptions options, CancellationToken ct)
    {
        options.Validate();
        var result = new FanoutResult
        {
            Run = RunInfo.Create("fanout", options.Label, options.Command),
            Server = string.Join(" ", options.Servers.Select(s => s.BaseUrl.ToString())),
            Kind = options.Servers[0].Kind.Name(),
            Room = options.Room,
            Members = options.Members,
            Messages = options.Messages,
            WarmupMessages = options.WarmupMessages,
            Window = options.Window,
            TextChars = options.TextChars,
        };
        var run = new FanoutRun(options);
        using var servers = new ServerSet(options.Servers);
        ServerTarget target = options.Servers[0];
        using IChatConnector connector = ChatConnectors.ForMessaging(target.Kind, options.Servers.Select(s => s.BaseUrl));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.MaxDuration);

        // One sender: every kind of server keeps its messages in order, so seq is checked everywhere. A sender
        // learns that a message landed by seeing it in the room (Node and SignalR have no ack), ChatHub's echo too.
        var members = Enumerable.Range(0, options.Members).Select(i => new FanoutMember(run, isSender: i == 0)).ToList();
        IChatConnection[] connections = await MemberConnector.ConnectAsync(connector, [.. options.Servers.Select(s => s.BaseUrl)], members, options.ConnectConcurrency, options.ConnectTimeout, deadline.Token).ConfigureAwait(false);
        IChatConnection sender = connections[0];
        CpuMeter? cpu = null;
        long steadyStart = 0;
        try
        {
            for (int k = 1; k <= options.Messages; k++)
            {
                await run.Window.WaitAsync(deadline.Token).ConfigureAwait(false);
                if (k == options.WarmupMessages + 1)
                {
                    // Let the warm-up drain so the steady phase measures only steady work.
                    await run.WarmupDone.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
                    cpu = CpuMeter.Start(servers);
                    steadyStart = Stopwatch.GetTimestamp();
                }
                await sender.SayAsync(options.Room, LatencyStamp.Text(Stopwatch.GetTimestamp(), options.TextChars), deadline.Token).ConfigureAwait(false);
            }
            await run.AllDone.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            result.TimedOut = true;
            run.Violations.Add($"timed out after {options.MaxDuration.TotalSeconds:F0} s with {run.AllDone.Remaining} members not done");
        }
        long steadyDeliveries = (long)(options.Messages - options.WarmupMessages) * options.Members;
        if (cpu is null)
        {
            cpu = CpuMeter.Start(servers);
            steadyStart = Stopwatch.GetTimestamp();
        }
        result.Cpu = cpu.Stop(steadyDeliveries);
        result.SteadySeconds = Stopwatch.GetElapsedTime(steadyStart).TotalSeconds;
        result.SteadyDeliveries = steadyDeliveries;
        result.DeliveriesPerSecond = steadyDeliveries / result.SteadySeconds;
        result.MessagesPerSecond = (options.Messages - options.WarmupMessages) / result.SteadySeconds;
        result.Latency = run.Latency.Summarize();
        result.DeliveriesExpected = (long)options.Messages * options.Members;
        result.DeliveriesReceived = members.Sum(m => Interlocked.Read(ref m.Received));
        result.Lost = result.DeliveriesExpected - result.DeliveriesReceived;
        await MemberConnector.CloseAllAsync(connections, members).ConfigureAwait(false);
        if (result.Lost != 0)
        {
            run.Violations.Add($"lost {result.Lost} of {result.DeliveriesExpected} deliveries");
        }
        result.Violations = run.Violations.ToList();
        return result;
    }
}
