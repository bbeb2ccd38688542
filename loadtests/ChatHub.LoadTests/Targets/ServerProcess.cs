using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Targets;

/// <summary>A server this program started: its address and process id, stopped (by its id) on dispose.</summary>
internal sealed class ServerProcess : IRunningServer
{
    private const int KeptOutputLines = 40;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ReadyPoll = TimeSpan.FromMilliseconds(100);

    private readonly Process _process;
    private readonly Queue<string> _output = new();

    private ServerProcess(Process process, ServerTarget target)
    {
        _process = process;
        Target = target;
    }

    public ServerTarget Target { get; }

    public int Pid => _process.Id;

    /// <summary>The last lines the server printed, for error messages.</summary>
    public string RecentOutput
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public static async Task<ServerProcess> StartAsync(ServerLaunch launch, CancellationToken ct)
    {
        int port = FreePort();
        var info = new ProcessStartInfo(launch.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = launch.WorkingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string arg in launch.Arguments)
        {
            info.ArgumentList.Add(arg.Replace(ServerLaunch.PortPlaceholder, port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        }
        // Servers print a line per request at most; reading them keeps their pipes from filling and blocking them.
        Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + launch.FileName);
        var baseUrl = new Uri($"http://127.0.0.1:{port}/");
        var server = new ServerProcess(process, new ServerTarget(baseUrl, process.Id, launch.Kind));
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitReadyAsync(new Uri(baseUrl, launch.ReadyPath), ct).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > KeptOutputLines)
            {
                _output.Dequeue();
            }
        }
    }

    /// <summary>A child process sends no "ready" event to its parent; its readiness endpoint answering 200 is that event.</summary>
    private async Task WaitReadyAsync(Uri ready, CancellationToken ct)
    {
        // Connection: close, so the check leaves no idle keep-alive connection behind for the connection count.
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.ConnectionClose = true;
        long until = Stopwatch.GetTimestamp() + (long)(ReadyTimeout.TotalSeconds * Stopwatch.Frequency);
        using var timer = new PeriodicTimer(ReadyPoll);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Target.Kind.Name()} server exited with code {_process.ExitCode} before it was ready:\n{RecentOutput}");
            }
            try
            {
                using HttpResponseMessage response = await http.GetAsync(ready, ct).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // One slow answer while it starts.
            }
            if (Stopwatch.GetTimestamp() > until)
            {
                throw new TimeoutException($"{Target.Kind.Name()} server at {Target.BaseUrl} was not ready within {ReadyTimeout.TotalSeconds:F0} s:\n{RecentOutput}");
            }
            await timer.WaitForNextTickAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>A port nobody listens on now; the server binds it a moment later (a narrow race on a loopback-only box).</summary>
    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // Our own child, by its id; the peers have no graceful-stop endpoint and nothing to save.
                _process.Kill();
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _process.Dispose();
        }
    }
}
