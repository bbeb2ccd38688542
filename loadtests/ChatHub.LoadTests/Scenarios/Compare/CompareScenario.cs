using System.Net;
using ChatHub.LoadTests.Reporting;
using ChatHub.LoadTests.Scenarios.Chat;
using ChatHub.LoadTests.Scenarios.Connections;
using ChatHub.LoadTests.Scenarios.Fanout;
using ChatHub.LoadTests.Targets;

namespace ChatHub.LoadTests.Scenarios.Compare;

/// <summary>
/// Runs idle, fan-out and chat against every target in one run, one server at a time and each scenario on a
/// fresh server, so the figures side by side come from the same machine in the same state.
/// </summary>
internal static class CompareScenario
{
    public static async Task<CompareResult> RunAsync(CompareOptions options, CancellationToken ct)
    {
        options.Validate();
        var result = new CompareResult
        {
            Run = RunInfo.Create("compare", options.Label, options.Command),
            IdleSteps = options.IdleSteps.Order().ToList(),
            CapacitySteps = options.CapacitySteps.Order().ToList(),
            IdleFrom = options.IdleFrom,
            IdleRooms = options.IdleRooms,
            FanoutMembers = options.FanoutMembers,
            FanoutMessages = options.FanoutMessages,
            FanoutWindow = options.FanoutWindow,
            ChatConnections = options.ChatConnections,
            ChatRooms = options.ChatRooms,
            ChatRate = options.ChatRate,
            ChatSeconds = options.ChatDuration.TotalSeconds,
            PlotLink = options.PlotLink,
        };
        int max = options.IdleSteps.Max();
        IReadOnlyList<IPAddress> sources = options.IdleSources.Count > 0 ? options.IdleSources : LoopbackSources(max);
        int workers = options.IdleWorkers ?? Math.Max(1, (max + ConnectionsOptions.MaxPerWorker - 1) / ConnectionsOptions.MaxPerWorker);

        foreach (CompareTarget target in options.Targets)
        {
            var column = new CompareColumn { Name = target.Name, Kind = target.Kind.ToString() };
            result.Columns.Add(column);
            Console.Error.WriteLine($"== compare: {target.Name}");
            column.Idle = await RunOneAsync(target, column, "idle", server => ConnectionsScenario.RunAsync(new ConnectionsOptions
            {
                Servers = [server.Target],
                Steps = options.IdleSteps,
                Rooms = options.IdleRooms,
                RoomPrefix = "idle-",
                Sources = sources,
                Workers = workers,
                SettleTimeout = options.IdleSettleTimeout,
                PlotPath = null,
                Label = "idle",
            }, ct), ct).ConfigureAwait(false);
            if (options.CapacitySteps.Count > 0)
            {
                int most = options.CapacitySteps.Max();
                column.Capacity = await RunOneAsync(target, column, "capacity", server => ConnectionsScenario.RunAsync(new ConnectionsOptions
                {
                    Servers = [server.Target],
                    Steps = options.CapacitySteps,
                    Rooms = options.IdleRooms,
                    RoomPrefix = "capacity-",
                    Sources = options.IdleSources.Count > 0 ? options.IdleSources : LoopbackSources(most),
                    Workers = Math.Max(1, (most + ConnectionsOptions.MaxPerWorker - 1) / ConnectionsOptions.MaxPerWorker),
                    // Connects fail at the limit: short timeouts, so the ramp learns it quickly.
                    ConnectTimeout = TimeSpan.FromSeconds(5),
                    SettleTimeout = TimeSpan.FromSeconds(15),
                    MeasureClose = false,
                    PlotPath = null,
                    Label = "capacity",
                }, ct), ct).ConfigureAwait(false);
            }
            column.Fanout = await RunOneAsync(target, column, "fanout", server => FanoutScenario.RunAsync(new FanoutOptions
            {
                Servers = [server.Target],
                Members = options.FanoutMembers,
                Messages = options.FanoutMessages,
                WarmupMessages = options.FanoutWarmupMessages,
                Window = options.FanoutWindow,
            }, ct), ct).ConfigureAwait(false);
            column.Chat = await RunOneAsync(target, column, "chat", server => ChatScenario.RunAsync(new ChatOptions
            {
                Servers = [server.Target],
                Connections = options.ChatConnections,
                Rooms = options.ChatRooms,
                RatePerConnection = options.ChatRate,
                Warmup = options.ChatWarmup,
                Duration = options.ChatDuration,
                Drain = options.ChatDrain,
            }, ct), ct).ConfigureAwait(false);
        }

        foreach (CompareColumn column in result.Columns)
        {
            IEnumerable<(string Scenario, List<string> Violations)> parts =
                [("idle", column.Idle?.Violations ?? []), ("fanout", column.Fanout?.Violations ?? []), ("chat", column.Chat?.Violations ?? [])];
            foreach ((string scenario, List<string> violations) in parts)
            {
                result.Violations.AddRange(violations.Take(5).Select(v => $"{column.Name}, {scenario}: {v}"));
            }
            result.Violations.AddRange(column.Failures.Select(f => $"{column.Name}: {f}"));
        }
        if (options.PlotPath is string plotPath)
        {
            ComparePlot.Save(result.Columns, "Idle connections against server RSS", plotPath);
            result.PlotPath = plotPath;
        }
        return result;
    }

    /// <summary>One loopback source address per 10,000 connections: far from the ~28k ephemeral ports of one (source, server) pair.</summary>
    private static List<IPAddress> LoopbackSources(int connections) =>
        Enumerable.Range(2, Math.Max(1, (connections + 9999) / 10000)).Select(i => IPAddress.Parse("127.0.0." + i)).ToList();

    private static async Task<T?> RunOneAsync<T>(CompareTarget target, CompareColumn column, string scenario, Func<IRunningServer, Task<T>> run, CancellationToken ct)
        where T : class
    {
        try
        {
            await using IRunningServer server = await target.StartAsync(ct).ConfigureAwait(false);
            Console.Error.WriteLine($"   {scenario} against {server.Target.BaseUrl} (pid {server.Target.Pid})");
            return await run(server).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // One target failing (a peer that will not start, a run that throws) leaves the others' columns standing.
            column.Failures.Add($"{scenario}: {ex.GetType().Name}: {ex.Message}");
            return null;
        }
    }
}
