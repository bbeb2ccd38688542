using System.Diagnostics;

namespace ChatHub.Tests.Deployment;

/// <summary>Runs a command to its end within a bound, capturing what it prints.</summary>
internal static class CommandLine
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string Describe(string what) => $"{what} exited {ExitCode}:\n{Output}\n{Error}";
    }

    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not end within {timeout}");
        }

        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>Runs the command and fails the test unless it exits 0; returns its output.</summary>
    public static async Task<string> RunCheckedAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var result = await RunAsync(fileName, arguments, timeout, workingDirectory);
        Assert.True(result.ExitCode == 0, result.Describe($"{fileName} {string.Join(' ', arguments)}"));
        return result.Output;
    }

    /// <summary>The repository's root: the nearest folder above the test binaries that holds ChatHub.sln.</summary>
    public static string RepositoryRoot()
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
