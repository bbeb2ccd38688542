using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ChatHub.Tests.Cluster;

/// <summary>A ChatHub node as its own process (<c>dotnet ChatHub.Server.dll</c>), so a test can kill it with SIGKILL.</summary>
public sealed partial class NodeProcess : IDisposable
{
    private readonly Process _process;

    private NodeProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public Uri WebSocketUri(string query) => new($"ws://{BaseAddress.Authority}/ws?{query}");

    public static async Task<NodeProcess> StartAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "ChatHub.Server.dll"), "--urls", "http://127.0.0.1:0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(cts.Token) is { } line)
        {
            if (ListeningLine().Match(line) is { Success: true } match)
            {
                _ = process.StandardOutput.ReadToEndAsync(); // keep draining so the child never blocks on a full pipe
                return new NodeProcess(process, new Uri(match.Groups[1].Value));
            }
        }

        throw new InvalidOperationException($"the node exited ({process.ExitCode}) before listening");
    }

    /// <summary>kill -9: the node gets no chance to say goodbye.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (?:\\"")?(http://[0-9.:]+)")]
    private static partial Regex ListeningLine();
}
