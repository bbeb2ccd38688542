using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace ChatHub.Tests.Deployment;

/// <summary>
/// <c>dotnet ChatHub.Server.dll</c> as a child process, started with exactly the arguments and environment a test
/// gives it (ASP.NET Core's listen-address variables of the test runner itself are removed first), up to the line
/// that says the application started.
/// </summary>
internal sealed partial class ServerProcess : IDisposable
{
    private static readonly string[] InheritedAddressVariables =
        ["ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_URLS", "URLS", "HTTP_PORTS", "HTTPS_PORTS"];

    private readonly Process _process;

    private ServerProcess(Process process, IReadOnlyList<string> listeningOn, IReadOnlyList<string> startupOutput)
    {
        _process = process;
        ListeningOn = listeningOn;
        StartupOutput = startupOutput;
    }

    public int Id => _process.Id;

    /// <summary>The addresses of Kestrel's "Now listening on" lines, in order.</summary>
    public IReadOnlyList<string> ListeningOn { get; }

    /// <summary>Every line the server printed on stdout up to and including the one that says it started.</summary>
    public IReadOnlyList<string> StartupOutput { get; }

    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "ChatHub.Server.dll");

    /// <summary>Starts <paramref name="fileName"/> (normally <c>dotnet</c>) and waits for the server to say it started.</summary>
    public static async Task<ServerProcess> StartAsync(
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string fileName = "dotnet")
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (string name in info.Environment.Keys.Where(IsInheritedAddressVariable).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info)!;
        var errors = new List<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { lock (errors) { errors.Add(line); } } };
        process.BeginErrorReadLine();
        var listening = new List<string>();
        var output = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(cts.Token) is { } line)
        {
            output.Add(line);
            if (ListeningLine().Match(line) is { Success: true } match)
            {
                listening.Add(match.Groups[1].Value);
            }
            else if (line.Contains("Application started", StringComparison.Ordinal))
            {
                // Keep draining stdout so the child never blocks on a full pipe.
                _ = process.StandardOutput.ReadToEndAsync();
                return new ServerProcess(process, listening, output);
            }
        }

        await process.WaitForExitAsync(cts.Token);
        lock (errors)
        {
            throw new InvalidOperationException(
                $"the server exited ({process.ExitCode}) before it started:\n{string.Join('\n', output.Concat(errors))}");
        }
    }

    /// <summary>A port that was free a moment ago (the OS picks it; a later bind by the server could race, rarely).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The first address the server listens on.</summary>
    public Uri BaseAddress => new(ListeningOn[0]);

    /// <summary>A WebSocket address on <see cref="BaseAddress"/>.</summary>
    public Uri WebSocketUri(string query) => new($"ws://{BaseAddress.Authority}/ws?{query}");

    /// <summary>kill -9: the server gets no chance to say goodbye.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public void SendSigterm() => Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();

    public async Task<int> WaitForExitAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static bool IsInheritedAddressVariable(string name) =>
        InheritedAddressVariables.Contains(name, StringComparer.OrdinalIgnoreCase)
        || name.StartsWith("Kestrel__", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"Now listening on: (\S+)")]
    private static partial Regex ListeningLine();
}
