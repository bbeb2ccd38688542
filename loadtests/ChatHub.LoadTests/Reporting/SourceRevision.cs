using System.Diagnostics;

namespace ChatHub.LoadTests.Reporting;

/// <summary>
/// The commit the measured code was built from, and whether the sources that decide a measurement (the
/// server, the load tests, the peers) had local changes: a figure must name a commit a reader can check out.
/// </summary>
internal sealed record SourceRevision(string Commit, bool Dirty)
{
    /// <summary>Paths whose local changes make a measurement unreproducible from its commit.</summary>
    public static readonly IReadOnlyList<string> MeasuredPaths = ["src", "loadtests/ChatHub.LoadTests", "loadtests/peers"];

    /// <summary>The working directory's revision; null outside a git work tree or without git.</summary>
    public static SourceRevision? Current()
    {
        string? root = Git("rev-parse", "--show-toplevel")?.Trim();
        string? commit = Git("rev-parse", "--short", "HEAD")?.Trim();
        if (string.IsNullOrEmpty(root) || string.IsNullOrEmpty(commit))
        {
            return null;
        }
        string? status = Git(["-C", root, "status", "--porcelain", "--", .. MeasuredPaths]);
        return new SourceRevision(commit, status is null || status.Trim().Length > 0);
    }

    private static string? Git(params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string arg in args)
            {
                info.ArgumentList.Add(arg);
            }
            using Process git = Process.Start(info)!;
            string output = git.StandardOutput.ReadToEnd();
            git.StandardError.ReadToEnd();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No git on this machine.
            return null;
        }
    }
}
