using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>The real server process, stopped by a real SIGTERM, as a container runtime would stop it.</summary>
public sealed partial class ProcessSignalTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Sigterm_closes_connections_with_1001_keeps_acked_messages_and_exits_cleanly()
    {
        string db = _dir.File("signal.db");
        using (var server = await ServerProcess.StartAsync(db))
        {
            await using var ann = await WsClient.ConnectAsync(server.WebSocketUri("format=json&name=ann&room=sig"));
            await ann.ExpectAsync("welcome");
            await ann.ExpectAsync("joined");
            await ann.SendJsonAsync(new { type = "say", room = "sig", text = "before the signal", @ref = "s1" });
            Assert.Equal(1, (long)(await ann.WaitForAsync("ack"))["seq"]!);

            server.SendSigterm();
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await ann.ReceiveCloseAsync());
            Assert.Equal(0, await server.WaitForExitAsync());
        }

        using (var server = await ServerProcess.StartAsync(db))
        {
            await using var bob = await WsClient.ConnectAsync(server.WebSocketUri("format=json&name=bob&room=sig"));
            await bob.ExpectAsync("welcome");
            var history = (await bob.ExpectAsync("joined"))["history"]!.AsArray();
            Assert.Equal("before the signal", (string?)Assert.Single(history)!["text"]);
            server.SendSigterm();
            Assert.Equal(0, await server.WaitForExitAsync());
        }
    }

    [Fact]
    public async Task With_the_json_log_format_every_console_line_is_a_compact_json_event()
    {
        using var server = await ServerProcess.StartAsync(_dir.File("json.db"), "--ChatHub:Logging:Format", "json");
        Assert.NotEmpty(server.LinesBeforeListening);
        foreach (string line in server.LinesBeforeListening)
        {
            using var json = System.Text.Json.JsonDocument.Parse(line);
            Assert.True(json.RootElement.TryGetProperty("@t", out _), line);
            Assert.True(json.RootElement.TryGetProperty("@m", out _), line);
        }

        server.SendSigterm();
        Assert.Equal(0, await server.WaitForExitAsync());
    }

    /// <summary><c>dotnet ChatHub.Server.dll</c> as a child process on an OS-chosen port.</summary>
    private sealed partial class ServerProcess : IDisposable
    {
        private readonly Process _process;

        private ServerProcess(Process process, Uri baseAddress, IReadOnlyList<string> linesBeforeListening)
        {
            _process = process;
            BaseAddress = baseAddress;
            LinesBeforeListening = linesBeforeListening;
        }

        public Uri BaseAddress { get; }

        /// <summary>The console lines up to and including the one that names the address.</summary>
        public IReadOnlyList<string> LinesBeforeListening { get; }

        public Uri WebSocketUri(string query) => new($"ws://{BaseAddress.Authority}/ws?{query}");

        public static async Task<ServerProcess> StartAsync(string db, params string[] extraArguments)
        {
            var info = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { Path.Combine(AppContext.BaseDirectory, "ChatHub.Server.dll"), "--urls", "http://127.0.0.1:0", "--ChatHub:Storage:SqlitePath", db },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in extraArguments)
            {
                info.ArgumentList.Add(argument);
            }

            var process = Process.Start(info)!;
            var lines = new List<string>();
            process.ErrorDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (await process.StandardOutput.ReadLineAsync(cts.Token) is { } line)
            {
                lines.Add(line);
                if (ListeningLine().Match(line) is { Success: true } match)
                {
                    // Keep draining stdout so the child never blocks on a full pipe.
                    _ = process.StandardOutput.ReadToEndAsync();
                    return new ServerProcess(process, new Uri(match.Groups[1].Value), lines);
                }
            }

            throw new InvalidOperationException($"the server exited ({process.ExitCode}) before listening");
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
                _process.Kill();
            }

            _process.Dispose();
        }

        // Text lines say `Now listening on: http://…`; compact JSON renders the address quoted: `Now listening on: \"http://…`.
        [GeneratedRegex(@"Now listening on: (?:\\"")?(http://[0-9.:]+)")]
        private static partial Regex ListeningLine();
    }
}
