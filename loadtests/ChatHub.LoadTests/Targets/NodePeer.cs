using System.Diagnostics;

namespace ChatHub.LoadTests.Targets;

/// <summary>Makes the Node peer runnable: <c>npm ci</c> in its folder unless its dependency is already installed.</summary>
internal static class NodePeer
{
    public static async Task EnsureInstalledAsync(string peerDirectory, CancellationToken ct)
    {
        if (File.Exists(Path.Combine(peerDirectory, "node_modules", "ws", "package.json")))
        {
            return;
        }
        var info = new ProcessStartInfo("npm")
        {
            WorkingDirectory = peerDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" })
        {
            info.ArgumentList.Add(arg);
        }
        using Process npm = Process.Start(info) ?? throw new InvalidOperationException("could not start npm");
        Task<string> output = npm.StandardOutput.ReadToEndAsync(ct);
        Task<string> errors = npm.StandardError.ReadToEndAsync(ct);
        await npm.WaitForExitAsync(ct).ConfigureAwait(false);
        if (npm.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm ci in {peerDirectory} failed ({npm.ExitCode}): {await output.ConfigureAwait(false)}{await errors.ConfigureAwait(false)}");
        }
    }
}
