using ChatHub.LoadTests.Probes;
using ChatHub.LoadTests.Targets;

namespace ChatHub.LoadTests.Tests;

/// <summary>
/// The Node <c>ws</c> reference peer as a real process: its sources copied to a temporary folder, <c>npm ci</c>
/// there (fetches <c>ws</c> from the npm registry; a few seconds), then <c>node chat.js PORT</c>.
/// </summary>
public sealed class NodePeerFixture : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"chathub-node-peer-{Guid.NewGuid():N}");
    private ServerProcess? _server;

    internal string Directory => _directory;

    internal ServerProcess Server => _server ?? throw new InvalidOperationException("not started");

    internal ServerTarget Target => Server.Target;

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(_directory);
        foreach (string file in new[] { "chat.js", "package.json", "package-lock.json" })
        {
            File.Copy(Path.Combine(RepositoryPaths.NodePeer, file), Path.Combine(_directory, file));
        }
        await NodePeer.EnsureInstalledAsync(_directory, CancellationToken.None);
        _server = await ServerProcess.StartAsync(ServerLaunch.NodeWs(_directory), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        System.IO.Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>
/// The SignalR reference peer as a real process. The test project references the peer's project (not its
/// assembly), so building the tests builds the peer; the fixture only starts its DLL.
/// </summary>
public sealed class SignalRPeerFixture : IAsyncLifetime
{
    private ServerProcess? _server;

    internal ServerProcess Server => _server ?? throw new InvalidOperationException("not started");

    internal ServerTarget Target => Server.Target;

    public async Task InitializeAsync()
    {
        _server = await ServerProcess.StartAsync(ServerLaunch.SignalR(RepositoryPaths.SignalRPeerDll), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
