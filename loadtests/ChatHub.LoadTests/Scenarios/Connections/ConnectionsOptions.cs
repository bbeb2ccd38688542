using System.Net;
using ChatHub.LoadTests.Cli;
using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Scenarios.Connections;

/// <summary>
/// Idle connections ramped in steps against one or more servers; memory recorded at each step.
/// Connections are spread over <see cref="Workers"/> child processes (0 = this process) and over
/// <see cref="Sources"/> local addresses.
/// </summary>
internal sealed class ConnectionsOptions
{
    public static readonly IReadOnlyList<int> DefaultSteps = [0, 1000, 2000, 5000, 10000, 15000, 19000];

    public required IReadOnlyList<ServerTarget> Servers { get; init; }
    public IReadOnlyList<int> Steps { get; init; } = DefaultSteps;
    public int Rooms { get; init; } = 500;
    public string RoomPrefix { get; init; } = "r";
    /// <summary>Local addresses to connect from; empty = let the OS pick (127.0.0.1).</summary>
    public IReadOnlyList<IPAddress> Sources { get; init; } = [];
    /// <summary>Worker processes; 0 holds the connections in this process.</summary>
    public int Workers { get; init; }
    public int Concurrency { get; init; } = 100;
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>Per step: wait this long at most for the server to report the connections and go quiet.</summary>
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>Stop ramping when a step fails more than this share of its connects.</summary>
    public double MaxFailureRatio { get; init; } = 0.01;
    public string? PlotPath { get; init; }
    /// <summary>After the ramp: time closing every connection, and read memory <see cref="AfterCloseDelay"/> later.</summary>
    public bool MeasureClose { get; init; } = true;

    /// <summary>When memory is read after every connection closed (the comparison's "RSS 2 s after all closed").</summary>
    public static readonly TimeSpan AfterCloseDelay = TimeSpan.FromSeconds(2);
    public string? Label { get; init; }
    public string? Command { get; init; }

    /// <summary>What one worker process may hold: below the 20,000 open files per process, with room for the runtime's own.</summary>
    public const int MaxPerWorker = 15000;

    public static ConnectionsOptions From(CommandLine cl, string command, string outDirectory)
    {
        IReadOnlyList<ServerTarget> servers = cl.Servers();
        IReadOnlyList<int> steps = cl.Ints("steps", DefaultSteps);
        int max = steps.Count == 0 ? 0 : steps.Max();
        IReadOnlyList<IPAddress> sources = cl.Addresses("sources");
        if (sources.Count == 0 && servers.All(s => IPAddress.TryParse(s.BaseUrl.Host, out IPAddress? a) && IPAddress.IsLoopback(a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork))
        {
            // ~28k ephemeral ports per (source, server) pair: one address per 10k connections keeps well clear.
            int count = Math.Max(1, (max + 9999) / 10000);
            sources = Enumerable.Range(2, count).Select(i => IPAddress.Parse("127.0.0." + i)).ToList();
        }
        return new ConnectionsOptions
        {
            Servers = servers,
            Steps = steps,
            Rooms = cl.Int("rooms", 500),
            RoomPrefix = cl.String("room-prefix", "r"),
            Sources = sources,
            Workers = cl.Int("workers", Math.Max(1, (max + MaxPerWorker - 1) / MaxPerWorker)),
            Concurrency = cl.Int("concurrency", 100),
            ConnectTimeout = TimeSpan.FromSeconds(cl.Double("connect-timeout-seconds", 15)),
            SettleTimeout = TimeSpan.FromSeconds(cl.Double("settle-seconds", 20)),
            MaxDuration = TimeSpan.FromSeconds(cl.Double("max-seconds", 600)),
            MaxFailureRatio = cl.Double("max-failure-ratio", 0.01),
            PlotPath = cl.String("plot") ?? Path.Combine(outDirectory, (cl.String("label") ?? "connections") + ".png"),
            MeasureClose = !cl.Flag("no-close-measure"),
            Label = cl.String("label"),
            Command = command,
        };
    }

    public void Validate()
    {
        if (Steps.Count == 0 || Steps.Any(s => s < 0) || Rooms < 1 || Workers < 0)
        {
            throw new UsageException("connections: need steps >= 0, rooms >= 1, workers >= 0");
        }
        if (Servers.Any(s => !s.Kind.HasStats() && s.Pid is null))
        {
            // Without /api/stats the connections are counted from the server's process.
            throw new UsageException("connections: a server without /api/stats (--kind node-ws, signalr) needs --server-pid");
        }
        if (Servers.Select(s => s.Kind).Distinct().Count() > 1)
        {
            throw new UsageException("connections: all servers of one run must be of one kind");
        }
        if (Workers == 0 && Steps.Max() > 19000)
        {
            throw new UsageException("connections: more than 19,000 connections need --workers (one process may hold 20,000 open files)");
        }
        if (Workers > 0 && Steps.Max() > Workers * MaxPerWorker)
        {
            throw new UsageException($"connections: {Steps.Max()} connections need at least {(Steps.Max() + MaxPerWorker - 1) / MaxPerWorker} workers ({MaxPerWorker} each)");
        }
    }
}
