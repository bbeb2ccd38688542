namespace ChatHub.LoadTests.Tests;

/// <summary>Where the repository's files are, found from the test assembly's folder (…/bin/Configuration/tfm/).</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>Release or Debug: the peers are built in the same configuration as the tests that reference them.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    public static string NodePeer => Path.Combine(Root, "loadtests", "peers", "node-ws");

    public static string SignalRPeerDll => Path.Combine(Root, "loadtests", "peers", "signalr", "bin", Configuration, "net10.0", "SignalRPeer.dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ChatHub.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("ChatHub.sln not found above " + AppContext.BaseDirectory);
    }
}
