using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Targets;

/// <summary>A server a scenario can run against; disposing it stops it if this program started it.</summary>
internal interface IRunningServer : IAsyncDisposable
{
    ServerTarget Target { get; }
}

/// <summary>A server someone else runs (e.g. in the test process): nothing to stop.</summary>
internal sealed class ExistingServer(ServerTarget target) : IRunningServer
{
    public ServerTarget Target { get; } = target;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
