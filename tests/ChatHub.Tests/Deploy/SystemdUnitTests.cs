using ChatHub.Server.Configuration;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Deploy;

/// <summary>
/// deploy/chathub.service as systemd itself reads it, offline (no running systemd needed): it parses without a
/// warning, its sandbox rates "OK", and its stop settings leave the server time to drain.
/// </summary>
public sealed class SystemdUnitTests : IDisposable
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

    /// <summary>Every <c>Key=value</c> line of the unit, comments left out; keys may repeat.</summary>
    private ILookup<string, string> Settings() =>
        _unitText.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && line[0] is not ('#' or ';' or '[') && line.Contains('='))
            .ToLookup(line => line[..line.IndexOf('=')], line => line[(line.IndexOf('=') + 1)..]);
}
