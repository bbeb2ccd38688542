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
        for (int i = 0; i < count; i++)
        {
            cluster._nodes.Add(await TestServer.StartAsync([$"Redis={redis}", .. settings]));
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
