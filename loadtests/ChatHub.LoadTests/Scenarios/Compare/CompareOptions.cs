using System.Net;
using ChatHub.LoadTests.Cli;

namespace ChatHub.LoadTests.Scenarios.Compare;

/// <summary>
/// The same idle, fan-out and chat scenarios against every target, one target and one scenario at a time, each
/// on a freshly started server. Defaults are the standard comparison (about 10 minutes on a 2-core box).
/// </summary>
internal sealed class CompareOptions
{
    public required IReadOnlyList<CompareTarget> Targets { get; init; }

    /// <summary>Idle ramp; the marginal cost is taken between <see cref="IdleFrom"/> and the last step.</summary>
    public IReadOnlyList<int> IdleSteps { get; init; } = [0, 1000, 2000, 5000, 10000];
    public int IdleFrom { get; init; } = 1000;
    public int IdleRooms { get; init; } = 100;
    /// <summary>Worker processes holding the idle connections; null = one per 15,000.</summary>
    public int? IdleWorkers { get; init; }
    /// <summary>Source addresses for the idle connections; empty = one loopback address per 10,000.</summary>
    public IReadOnlyList<IPAddress> IdleSources { get; init; } = [];
    public TimeSpan IdleSettleTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// Optional second ramp on a fresh server, up to where one process can hold no more (e.g. 0,19000,19500,19900):
    /// it stops at the first step whose connects fail, and those failures are its answer, not a violation.
    /// Empty = not run; the table then shows how many of the idle ramp's connections were held.
    /// </summary>
    public IReadOnlyList<int> CapacitySteps { get; init; } = [];

    public int FanoutMembers { get; init; } = 1000;
    public int FanoutMessages { get; init; } = 2000;
    public int FanoutWarmupMessages { get; init; } = 200;
    public int FanoutWindow { get; init; } = 50;

    public int ChatConnections { get; init; } = 2000;
    public int ChatRooms { get; init; } = 200;
    public double ChatRate { get; init; } = 1;
    public TimeSpan ChatWarmup { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan ChatDuration { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan ChatDrain { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Connections against RSS for every target (PNG); null = no plot.</summary>
    public string? PlotPath { get; init; }
    /// <summary>How the Markdown links the plot (relative to docs/benchmarks.md); null = no link.</summary>
    public string? PlotLink { get; init; }
    public string? Label { get; init; }
    public string? Command { get; init; }

    /// <summary>The scenario flags; the targets come from <see cref="CompareCommand"/>.</summary>
    public static CompareOptions From(CommandLine cl, IReadOnlyList<CompareTarget> targets, string command, string? plotPath, string? plotLink) => new()
    {
        Targets = targets,
        IdleSteps = cl.Ints("idle-steps", [0, 1000, 2000, 5000, 10000]),
        IdleFrom = cl.Int("idle-from", 1000),
        IdleRooms = cl.Int("idle-rooms", 100),
        IdleWorkers = cl.String("idle-workers") is null ? null : cl.Int("idle-workers", 1),
        IdleSources = cl.Addresses("idle-sources"),
        IdleSettleTimeout = TimeSpan.FromSeconds(cl.Double("idle-settle-seconds", 60)),
        CapacitySteps = cl.Ints("capacity-steps", []),
        FanoutMembers = cl.Int("fanout-members", 1000),
        FanoutMessages = cl.Int("fanout-messages", 2000),
        FanoutWarmupMessages = cl.Int("fanout-warmup-messages", 200),
        FanoutWindow = cl.Int("fanout-window", 50),
        ChatConnections = cl.Int("chat-connections", 2000),
        ChatRooms = cl.Int("chat-rooms", 200),
        ChatRate = cl.Double("chat-rate", 1),
        ChatWarmup = TimeSpan.FromSeconds(cl.Double("chat-warmup-seconds", 5)),
        ChatDuration = TimeSpan.FromSeconds(cl.Double("chat-seconds", 20)),
        ChatDrain = TimeSpan.FromSeconds(cl.Double("chat-drain-seconds", 15)),
        PlotPath = plotPath,
        PlotLink = plotLink,
        Label = cl.String("label"),
        Command = command,
    };

    public void Validate()
    {
        if (Targets.Count == 0)
        {
            throw new UsageException("compare: no targets");
        }
        if (IdleSteps.Count < 2 || !IdleSteps.Contains(IdleFrom) || IdleFrom >= IdleSteps.Max())
        {
            throw new UsageException("compare: --idle-from must be one of --idle-steps and below the last step");
        }
    }
}
