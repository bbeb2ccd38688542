using ChatHub.LoadTests.Cli;
using ChatHub.LoadTests.Targets;

namespace ChatHub.LoadTests.Scenarios.Compare;

/// <summary>
/// <c>compare</c>: which servers to start, from the built ChatHub server, the built SignalR peer and the Node
/// peer's folder; the comparison itself is <see cref="CompareScenario"/>.
/// </summary>
internal static class CompareCommand
{
    public static readonly IReadOnlyList<string> AllTargets = ["chathub-memory", "chathub-sqlite", "node-ws", "signalr"];

    public static async Task<CompareOptions> OptionsAsync(CommandLine cl, string command, string outDirectory, CancellationToken ct)
    {
        string serverDll = cl.String("server-dll", Path.Combine("src", "ChatHub.Server", "bin", "Release", "net10.0", "ChatHub.Server.dll"));
        string signalrDll = cl.String("signalr-dll", Path.Combine("loadtests", "peers", "signalr", "bin", "Release", "net10.0", "SignalRPeer.dll"));
        string nodePeer = cl.String("node-peer", Path.Combine("loadtests", "peers", "node-ws"));
        IReadOnlyList<string> names = cl.List("targets");
        string plot = cl.String("plot", Path.Combine("docs", "img", "compare-memory.png"));
        // The Markdown lands in docs/benchmarks.md: the plot is linked relative to docs/.
        string plotLink = Path.GetRelativePath("docs", plot).Replace('\\', '/');
        string scratch = Path.Combine(outDirectory, "tmp");

        var targets = new List<CompareTarget>();
        foreach (string name in names.Count > 0 ? names : AllTargets)
        {
            switch (name)
            {
                case "chathub-memory":
                    RequireFile(serverDll, "--server-dll");
                    targets.Add(CompareTarget.Launched("ChatHub (memory store)", () => ServerLaunch.ChatHub(serverDll)));
                    break;
                case "chathub-sqlite":
                    RequireFile(serverDll, "--server-dll");
                    Directory.CreateDirectory(scratch);
                    // A new file per start: every scenario begins with an empty store, like the memory one.
                    targets.Add(CompareTarget.Launched("ChatHub (SQLite)", () => ServerLaunch.ChatHub(serverDll, Path.Combine(scratch, $"compare-{Guid.NewGuid():N}.db"))));
                    break;
                case "node-ws":
                    RequireFile(Path.Combine(nodePeer, "chat.js"), "--node-peer");
                    await NodePeer.EnsureInstalledAsync(nodePeer, ct).ConfigureAwait(false);
                    targets.Add(CompareTarget.Launched("Node ws", () => ServerLaunch.NodeWs(nodePeer)));
                    break;
                case "signalr":
                    RequireFile(signalrDll, "--signalr-dll");
                    targets.Add(CompareTarget.Launched("SignalR", () => ServerLaunch.SignalR(signalrDll)));
                    break;
                default:
                    throw new UsageException($"compare: unknown target '{name}' ({string.Join(", ", AllTargets)})");
            }
        }
        return CompareOptions.From(cl, targets, command, plot, plotLink);
    }

    private static void RequireFile(string path, string flag)
    {
        if (!File.Exists(path))
        {
            throw new UsageException($"compare: {path} not found (build it first, or give {flag})");
        }
    }
}
