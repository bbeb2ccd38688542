using System.Diagnostics;

namespace ChatHub.Tests.Infrastructure;

/// <summary>Runs a command-line tool to its end and keeps what it printed (stdout and stderr together).</summary>
public static class ToolProcess
{
    public sealed record Result(int ExitCode, string Output);

    public static async Task<Result> RunAsync(string fileName, string workingDirectory, params string[] arguments)
    {
        if (FindOnPath(fileName) is null)
        {
            throw new InvalidOperationException($"{fileName} is not installed; ./test.sh installs it");
        }

        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The full path of an executable named on PATH (or given as a path), or null.</summary>
    public static string? FindOnPath(string fileName)
    {
        if (fileName.Contains('/'))
        {
            return File.Exists(fileName) ? Path.GetFullPath(fileName) : null;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, fileName))
            .FirstOrDefault(File.Exists);
    }
}
