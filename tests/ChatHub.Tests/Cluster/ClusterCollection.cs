namespace ChatHub.Tests.Cluster;

/// <summary>
/// Cluster tests start Redis processes and several nodes each: they run on their own, after the rest, so they
/// do not starve the timing-sensitive single-node tests (slow consumers, rate limits) of CPU.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "Cluster";
}
