using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Cluster;

/// <summary>Several in-process ChatHub nodes in cluster mode over the same Redis instance(s).</summary>
public sealed class ClusterNodes : IAsyncDisposable
{
    private readonly List<TestServer> _nodes = [];

    public IReadOnlyList<TestServer> Nodes => _nodes;

    public TestServer this[int index] => _nodes[index];

    public static async Task<ClusterNodes> StartAsync(int count, string redis, params string[] settings)
    {
        var cluster = new ClusterNodes();
        // A test that is not about Redis timing gives Redis calls room: on a test machine busy with other suites a
        // call can take longer than the 2-second default, and the request would get `unavailable` instead.
        string[] timing = settings.Any(s => s.StartsWith("Cluster:", StringComparison.Ordinal)) ? [] : ["Cluster:OperationTimeout=00:00:10"];
        for (int i = 0; i < count; i++)
        {
            cluster._nodes.Add(await TestServer.StartAsync([$"Redis={redis}", .. timing, .. settings]));
        }

        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
