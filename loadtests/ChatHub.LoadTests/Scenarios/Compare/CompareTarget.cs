using ChatHub.LoadTests.Probes;
using ChatHub.LoadTests.Targets;

namespace ChatHub.LoadTests.Scenarios.Compare;

/// <summary>One column of the comparison: a name, what it speaks, and how to get a fresh server of it.</summary>
internal sealed class CompareTarget
{
    /// <summary>Column header, e.g. "ChatHub (memory store)".</summary>
    public required string Name { get; init; }

    public required TargetKind Kind { get; init; }

    /// <summary>Starts (or hands over) a server for one scenario; the comparison disposes it after that scenario.</summary>
    public required Func<CancellationToken, Task<IRunningServer>> StartAsync { get; init; }

    /// <summary>A server started as a child process from <paramref name="launch"/>, fresh for every scenario.</summary>
    public static CompareTarget Launched(string name, Func<ServerLaunch> launch) => new()
    {
        Name = name,
        Kind = launch().Kind,
        StartAsync = async ct => await ServerProcess.StartAsync(launch(), ct).ConfigureAwait(false),
    };
}
