namespace ChatHub.Tests.Infrastructure;

/// <summary>
/// Tests that read exact counts from <c>/metrics</c>, and tests that make a <c>ChatMetrics</c> of their own. Every
/// server's meter has the same name, and a server's metrics exporter listens to every meter of that name in the
/// process: beside another server (or a test's own meter), the exporter may report the other's instruments instead
/// of its own. So these run on their own, after the rest, one at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OwnMetersCollection
{
    public const string Name = "Own meters";
}
