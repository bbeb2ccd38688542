using System.Diagnostics;
using ChatHub.LoadTests.Probes;
using ChatHub.LoadTests.Reporting;

namespace ChatHub.LoadTests.Scenarios.Connections;

/// <summary>
/// Ramps idle connections in steps and records the servers' memory at each: the cost of a connection.
/// </summary>
internal static class ConnectionsScenario
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public static async Task<ConnectionsResult> RunAsync(ConnectionsOptions options, CancellationToken ct)
    {
        options.Validate();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.MaxDuration);
        using var servers = new ServerSet(options.Servers);
        var plan = new ConnectionPlan
        {
            Urls = options.Servers.Select(s => s.BaseUrl.ToString()).ToList(),
            Sources = options.Sources.Select(a => a.ToString()).ToList(),
            Rooms = options.Rooms,
            RoomPrefix = options.RoomPrefix,
            Concurrency = options.Concurrency,
            ConnectTimeoutMs = (int)options.ConnectTimeout.TotalMilliseconds,
            Kind = options.Servers[0].Kind.Name(),
        };
        var result = new ConnectionsResult
        {
            Run = RunInfo.Create("connections", options.Label, options.Command),
            Servers = plan.Urls,
            Sources = plan.Sources.Count == 0 ? ["(os default)"] : plan.Sources,
            Workers = options.Workers,
            Rooms = options.Rooms,
            Kind = plan.Kind,
        };

        // Connections the servers already had (other clients) are the baseline the ramp adds to.
        // A peer without a stats endpoint is counted by its TCP connections, which at the start may still include
        // the readiness check's, closing: for those the baseline is none, and a step waits for that one to go.
        long baseline = options.Servers.All(s => s.Kind.HasStats())
            ? ServerSet.Sum(await servers.SampleAsync(deadline.Token).ConfigureAwait(false), s => s.Connections) ?? 0
            : 0;
        IConnectionPool pool = options.Workers == 0
            ? new LocalConnectionPool(plan)
            : await WorkerConnectionPool.StartAsync(plan, options.Workers, deadline.Token).ConfigureAwait(false);
        try
        {
            int held = 0;
            foreach (int target in options.Steps.Order())
            {
                var step = new ConnectionStep { Target = target };
                if (target > held)
                {
                    long? serverTicksAtStart = servers.ReadCpuTicks();
                    BatchResult batch = await pool.AddAsync(target - held, deadline.Token).ConfigureAwait(false);
                    long? serverTicks = servers.ReadCpuTicks() - serverTicksAtStart;
                    if (batch.Opened > 0)
                    {
                        step.ServerCpuMicrosecondsPerConnect = serverTicks * 1e6 / ProcessProbe.ClockTicksPerSecond / batch.Opened;
                        step.GeneratorCpuMicrosecondsPerConnect = batch.GeneratorCpuSeconds * 1e6 / batch.Opened;
                    }
                    step.FailedThisStep = batch.Failed;
                    step.DroppedSoFar = batch.Dropped;
                    step.ConnectSeconds = batch.Seconds;
                    step.ConnectsPerSecond = batch.Seconds > 0 ? batch.Opened / batch.Seconds : 0;
                    step.Errors = batch.Errors;
                    held = batch.Held;
                }
                step.Held = held;
                (step.Settled, step.PerServer) = await SettleAsync(servers, baseline + held, options.SettleTimeout, deadline.Token).ConfigureAwait(false);
                step.ServerConnections = ServerSet.Sum(step.PerServer, s => s.Connections);
                step.RssBytes = ServerSet.Sum(step.PerServer, s => s.RssBytes);
                step.WorkingSetBytes = ServerSet.Sum(step.PerServer, s => s.WorkingSetBytes);
                step.GcHeapBytes = ServerSet.Sum(step.PerServer, s => s.GcHeapBytes);
                AddMarginals(step, result.Steps.LastOrDefault());
                result.Steps.Add(step);
                Console.Error.WriteLine($"  step {target}: held {held}, failed {step.FailedThisStep}, server connections {step.ServerConnections}, RSS {Markdown.Mib(step.RssBytes)} MiB, {step.ConnectsPerSecond:F0} connects/s, CPU per connect: server {Markdown.Num(step.ServerCpuMicrosecondsPerConnect, "F0")} µs, generator {Markdown.Num(step.GeneratorCpuMicrosecondsPerConnect, "F0")} µs");

                int attempted = Math.Max(1, target - (result.Steps.Count > 1 ? result.Steps[^2].Held : 0));
                if (step.FailedThisStep > options.MaxFailureRatio * attempted)
                {
                    result.StoppedBecause = $"{step.FailedThisStep} of {attempted} connects failed at the {target} step: {string.Join(" | ", step.Errors)}";
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            result.StoppedBecause = $"the run's time bound ({options.MaxDuration.TotalSeconds:F0} s) was reached";
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            // A worker process that died (e.g. out of file descriptors) ends the ramp; the steps so far stand.
            result.StoppedBecause = "a worker process failed: " + ex.Message;
        }
        finally
        {
            // Closing every connection is a figure too: from the first close until the servers hold none of them.
            long closeStart = Stopwatch.GetTimestamp();
            await pool.DisposeAsync().ConfigureAwait(false);
            if (options.MeasureClose && result.Steps.Count > 0)
            {
                await MeasureCloseAsync(result, servers, baseline, closeStart, options.SettleTimeout, ct).ConfigureAwait(false);
            }
        }

        result.MaxHeld = result.Steps.Count == 0 ? 0 : result.Steps.Max(s => s.Held);
        result.RssBytesPerConnection = Slope(result.Steps, s => s.RssBytes);
        result.WorkingSetBytesPerConnection = Slope(result.Steps, s => s.WorkingSetBytes);
        result.GcHeapBytesPerConnection = Slope(result.Steps, s => s.GcHeapBytes);
        if (options.PlotPath is string plotPath && result.Steps.Count > 0)
        {
            string title = $"{TargetKinds.DisplayName(plan.Kind)}: idle connections vs memory ({options.Servers.Count} server process{(options.Servers.Count > 1 ? "es, summed" : "")})";
            MemoryPlot.Save(result.Steps, title, plotPath);
            result.PlotPath = plotPath;
        }
        int failed = result.Steps.Sum(s => s.FailedThisStep);
        int dropped = result.Steps.Count == 0 ? 0 : result.Steps[^1].DroppedSoFar;
        if (failed > 0)
        {
            result.Violations.Add($"{failed} connects failed");
        }
        if (dropped > 0)
        {
            result.Violations.Add($"{dropped} held connections were closed by the server");
        }
        if (result.Steps.Any(s => !s.Settled))
        {
            result.Violations.Add("the server did not report every held connection within the settle timeout at some step");
        }
        return result;
    }

    /// <summary>
    /// Times the close of every held connection until the servers count none of them (their own count, or
    /// their open sockets), then reads their memory <see cref="ConnectionsOptions.AfterCloseDelay"/> later: how
    /// much of the peak a server gives back once its clients are gone.
    /// </summary>
    private static async Task MeasureCloseAsync(ConnectionsResult result, ServerSet servers, long baseline, long closeStart, TimeSpan timeout, CancellationToken ct)
    {
        long until = closeStart + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        using var timer = new PeriodicTimer(PollInterval);
        while (true)
        {
            IReadOnlyList<ServerSample> sample = await servers.SampleAsync(ct).ConfigureAwait(false);
            long? connections = ServerSet.Sum(sample, s => s.Connections);
            if (connections is null)
            {
                result.StoppedBecause ??= "the servers report no connection count; close time not measured";
                return;
            }
            if (connections <= baseline)
            {
                result.CloseSeconds = Stopwatch.GetElapsedTime(closeStart).TotalSeconds;
                break;
            }
            if (Stopwatch.GetTimestamp() > until)
            {
                result.Violations.Add($"{connections - baseline} connections still open on the servers {timeout.TotalSeconds:F0} s after closing all");
                break;
            }
            await timer.WaitForNextTickAsync(ct).ConfigureAwait(false);
        }
        // The figure is defined at a fixed time after the close, so this wait is the measurement, not a synchronisation.
        await Task.Delay(ConnectionsOptions.AfterCloseDelay, ct).ConfigureAwait(false);
        result.RssAfterCloseBytes = ServerSet.Sum(await servers.SampleAsync(ct).ConfigureAwait(false), s => s.RssBytes);
    }

    /// <summary>
    /// Waits until the servers report the expected connections and their outbound message counter stops
    /// moving (joins' presence fan-out done), then returns that sample. Polling: the server offers no event.
    /// </summary>
    private static async Task<(bool, List<ServerSample>)> SettleAsync(ServerSet servers, long expected, TimeSpan timeout, CancellationToken ct)
    {
        long until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        long? lastOut = null;
        IReadOnlyList<ServerSample> sample = await servers.SampleAsync(ct).ConfigureAwait(false);
        using var timer = new PeriodicTimer(PollInterval);
        while (Stopwatch.GetTimestamp() < until)
        {
            long? connections = ServerSet.Sum(sample, s => s.Connections);
            long? messagesOut = ServerSet.Sum(sample, s => s.MessagesOut);
            if (connections == expected && messagesOut == lastOut)
            {
                return (true, sample.ToList());
            }
            lastOut = messagesOut;
            await timer.WaitForNextTickAsync(ct).ConfigureAwait(false);
            sample = await servers.SampleAsync(ct).ConfigureAwait(false);
        }
        return (false, sample.ToList());
    }

    private static void AddMarginals(ConnectionStep step, ConnectionStep? previous)
    {
        if (previous is null || step.Held == previous.Held)
        {
            return;
        }
        double added = step.Held - previous.Held;
        step.MarginalRssBytes = (step.RssBytes - previous.RssBytes) / added;
        step.MarginalWorkingSetBytes = (step.WorkingSetBytes - previous.WorkingSetBytes) / added;
        step.MarginalGcHeapBytes = (step.GcHeapBytes - previous.GcHeapBytes) / added;
    }

    /// <summary>Least-squares slope of a memory figure against held connections (bytes per connection).</summary>
    internal static double? Slope(IReadOnlyList<ConnectionStep> steps, Func<ConnectionStep, long?> field)
    {
        var points = steps.Where(s => field(s) is not null).Select(s => (X: (double)s.Held, Y: (double)field(s)!.Value)).ToList();
        if (points.Count < 2)
        {
            return null;
        }
        double meanX = points.Average(p => p.X), meanY = points.Average(p => p.Y);
        double sxx = points.Sum(p => (p.X - meanX) * (p.X - meanX));
        return sxx == 0 ? null : points.Sum(p => (p.X - meanX) * (p.Y - meanY)) / sxx;
    }
}
