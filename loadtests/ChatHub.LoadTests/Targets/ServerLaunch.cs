using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Targets;

/// <summary>
/// How to start one server of a kind as a child process on a given port: the comparison starts every server
/// fresh for each scenario, so one scenario's leftovers never show up in the next one's memory.
/// </summary>
/// <param name="ReadyPath">GET here answers 200 once the server serves.</param>
internal sealed record ServerLaunch(TargetKind Kind, string FileName, IReadOnlyList<string> Arguments, string ReadyPath, string? WorkingDirectory = null)
{
    /// <summary>Stands for the port in <see cref="Arguments"/>.</summary>
    public const string PortPlaceholder = "{port}";

    /// <summary>
    /// A ChatHub server with the memory store, or SQLite in <paramref name="sqlitePath"/>: its built DLL (run with
    /// <c>dotnet</c>) or its published executable (Native AOT, run as it is). A sender may go fast: fan-out sends far
    /// beyond the default 20 messages/s; the other scenarios stay under it anyway.
    /// </summary>
    public static ServerLaunch ChatHub(string server, string? sqlitePath = null)
    {
        bool dll = server.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var args = new List<string> { "--urls", "http://127.0.0.1:" + PortPlaceholder };
        if (dll)
        {
            args.Insert(0, Path.GetFullPath(server));
        }

        args.Add(sqlitePath is null ? "--ChatHub:Storage:Provider=Memory" : "--ChatHub:Storage:Provider=Sqlite");
        if (sqlitePath is not null)
        {
            args.Add("--ChatHub:Storage:SqlitePath=" + Path.GetFullPath(sqlitePath));
        }
        args.AddRange(["--ChatHub:Limits:MessagesPerSecond=1000000", "--ChatHub:Limits:MessageBurst=1000000"]);

        // Every load-test connection comes from one address: the per-address handshake rate and connection cap
        // (docs/security.md) would refuse all but the first few hundred with 429, as run-all.sh's own servers know.
        args.AddRange(["--ChatHub:Security:PerIp:MaxConnections=0", "--ChatHub:Security:PerIp:HandshakesPerSecond=0"]);
        return new ServerLaunch(TargetKind.ChatHub, dll ? DotnetHost.Path : Path.GetFullPath(server), args, "/readyz");
    }

    /// <summary>The Node <c>ws</c> peer: <c>node chat.js PORT</c> in a folder where <c>npm ci</c> has run.</summary>
    public static ServerLaunch NodeWs(string peerDirectory) =>
        new(TargetKind.NodeWs, "node", [Path.GetFullPath(Path.Combine(peerDirectory, "chat.js")), PortPlaceholder], "/healthz", Path.GetFullPath(peerDirectory));

    /// <summary>The SignalR peer (its built DLL), run with its own defaults.</summary>
    public static ServerLaunch SignalR(string peerDll) =>
        new(TargetKind.SignalR, DotnetHost.Path, [Path.GetFullPath(peerDll), "--urls", "http://127.0.0.1:" + PortPlaceholder], "/healthz", Path.GetDirectoryName(Path.GetFullPath(peerDll)));
}
