using System.Diagnostics;
using System.Text.RegularExpressions;
using ChatHub.Server.Configuration;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Deploy;

/// <summary>
/// deploy/chathub.service as systemd itself reads it, offline (no running systemd needed): it parses without a
/// warning, its sandbox rates "OK", and its stop settings leave the server time to drain.
/// </summary>
public sealed partial class SystemdUnitTests : IDisposable
{
    private const string UnitDotnet = "/usr/bin/dotnet";

    private readonly TempDirectory _directory = new();
    private readonly string _unit;
    private readonly string _unitText = File.ReadAllText(RepositoryRoot.File("deploy", "chathub.service"));

    public SystemdUnitTests()
    {
        // verify checks that ExecStart's program exists: where the SDK lives elsewhere, name the one running here.
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : ToolProcess.FindOnPath("dotnet") ?? UnitDotnet;
        _unit = Path.Combine(_directory.Path, "chathub.service");
        File.WriteAllText(_unit, File.Exists(UnitDotnet) ? _unitText : _unitText.Replace(UnitDotnet + " ", dotnet + " ", StringComparison.Ordinal));
    }

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Systemd_analyze_verify_accepts_the_unit_without_a_warning()
    {
        var result = await ToolProcess.RunAsync("systemd-analyze", _directory.Path, "verify", _unit);

        Assert.True(result.ExitCode == 0, result.Output);
        // verify reports every ignored or unknown setting as a line naming the file, yet still exits 0.
        Assert.DoesNotContain("chathub.service", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sandbox_rates_at_most_2_of_10_exposure()
    {
        // --threshold is in tenths: the command fails when the exposure level is above 2.0 ("OK" is below 4).
        var result = await ToolProcess.RunAsync("systemd-analyze", _directory.Path, "security", "--offline=true", "--threshold=20", _unit);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("Overall exposure level for chathub.service", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void It_stops_with_sigterm_and_waits_longer_than_the_drain()
    {
        var settings = Settings();
        Assert.Equal("SIGTERM", settings["KillSignal"].Single());

        // The server's drain takes at most CloseTimeout + 1 s; systemd must not kill it before.
        var drain = new ConnectionOptions().CloseTimeout + TimeSpan.FromSeconds(1);
        var stopTimeout = TimeSpan.FromSeconds(int.Parse(settings["TimeoutStopSec"].Single(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(stopTimeout > drain, $"TimeoutStopSec {stopTimeout} is not above the drain time {drain}");
    }

    [Fact]
    public void It_runs_unprivileged_and_keeps_the_sqlite_file_in_its_state_directory()
    {
        var settings = Settings();
        Assert.Equal("yes", settings["DynamicUser"].Single());
        Assert.NotEqual("root", settings["User"].Single());
        Assert.Equal("chathub", settings["StateDirectory"].Single());
        Assert.Contains("ChatHub__Storage__SqlitePath=%S/chathub/chathub.db", settings["Environment"]);
        Assert.Equal("strict", settings["ProtectSystem"].Single());
    }

    [Fact]
    public async Task The_server_started_with_the_unit_environment_listens_where_it_says_and_stores_in_the_state_directory()
    {
        // What systemd would do, short of the sandbox: the unit's Environment= lines with %S (the state root)
        // expanded, the state directory created, the published files as working directory. Only the port changes
        // (to one the OS picks) so the test does not need 8080 free.
        var environment = Settings()["Environment"].Select(line => line.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        string stateRoot = _directory.Path;
        Directory.CreateDirectory(Path.Combine(stateRoot, Settings()["StateDirectory"].Single()));
        var (urlKey, url) = Assert.Single(environment, kv => kv.Key.Equals("Urls", StringComparison.OrdinalIgnoreCase) || kv.Key == "ASPNETCORE_URLS");
        Assert.Equal("http://0.0.0.0:8080", url);

        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "ChatHub.Server.dll") },
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value.Replace("%S", stateRoot, StringComparison.Ordinal);
        }

        info.Environment[urlKey] = "http://127.0.0.1:0";
        using var process = Process.Start(info)!;
        try
        {
            process.ErrorDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            Uri? address = null;
            using (var startup = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                while (address is null && await process.StandardOutput.ReadLineAsync(startup.Token) is { } line)
                {
                    address = ListeningLine().Match(line) is { Success: true } match ? new Uri(match.Groups[1].Value) : null;
                }
            }

            Assert.True(address is not null, "the server exited before it listened");
            _ = process.StandardOutput.ReadToEndAsync(); // keep the pipe drained
            // The unit's address, not appsettings.json's http://localhost:8080, is the one in force.
            Assert.Equal("127.0.0.1", address!.Host);
            Assert.NotEqual(8080, address.Port);

            using var http = new HttpClient { BaseAddress = address };
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
            string sqlite = environment["ChatHub__Storage__SqlitePath"].Replace("%S", stateRoot, StringComparison.Ordinal);
            Assert.True(File.Exists(sqlite), $"no SQLite file at {sqlite}");

            // systemctl stop: SIGTERM, and the server must be gone well within TimeoutStopSec.
            Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(int.Parse(Settings()["TimeoutStopSec"].Single(), System.Globalization.CultureInfo.InvariantCulture)));
            await process.WaitForExitAsync(stop.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    // Text lines say `Now listening on: http://…`; compact JSON quotes the address.
    [GeneratedRegex(@"Now listening on: (?:\\"")?(http://[0-9a-z.:]+)")]
    private static partial Regex ListeningLine();

    /// <summary>Every <c>Key=value</c> line of the unit, comments left out; keys may repeat.</summary>
    private ILookup<string, string> Settings() =>
        _unitText.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && line[0] is not ('#' or ';' or '[') && line.Contains('='))
            .ToLookup(line => line[..line.IndexOf('=')], line => line[(line.IndexOf('=') + 1)..]);
}
