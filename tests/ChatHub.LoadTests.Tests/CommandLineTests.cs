using ChatHub.LoadTests.Cli;
using ChatHub.LoadTests.Probes;
using ChatHub.LoadTests.Scenarios.Connections;

namespace ChatHub.LoadTests.Tests;

public sealed class CommandLineTests
{
    [Fact]
    public void Parses_flags_lists_and_server_pairs()
    {
        var cl = new CommandLine(["--url", "http://127.0.0.1:5001", "--url=http://127.0.0.1:5002/", "--server-pid", "11,12", "--steps", "0,1k,2_000", "--flag"]);
        IReadOnlyList<ServerTarget> servers = cl.Servers();
        Assert.Equal(2, servers.Count);
        Assert.Equal(new Uri("http://127.0.0.1:5001/"), servers[0].BaseUrl);
        Assert.Equal(12, servers[1].Pid);
        Assert.Equal([0, 1000, 2000], cl.Ints("steps", []));
        Assert.True(cl.Flag("flag"));
        cl.EnsureAllUsed();
    }

    [Fact]
    public void Kind_says_what_every_server_speaks()
    {
        Assert.All(new CommandLine([]).Servers(), s => Assert.Equal(TargetKind.ChatHub, s.Kind));
        Assert.All(new CommandLine(["--kind", "node-ws"]).Servers(), s => Assert.Equal(TargetKind.NodeWs, s.Kind));
        Assert.All(new CommandLine(["--kind=signalr", "--url", "http://127.0.0.1:1"]).Servers(), s => Assert.Equal(TargetKind.SignalR, s.Kind));
        Assert.Throws<UsageException>(() => new CommandLine(["--kind", "socket.io"]).Servers());
    }

    [Fact]
    public void A_peer_ramp_without_its_pid_is_refused()
    {
        var options = ConnectionsOptions.From(new CommandLine(["--kind", "node-ws", "--steps", "0,10"]), "cmd", Path.GetTempPath());
        Assert.Throws<UsageException>(options.Validate);
        ConnectionsOptions.From(new CommandLine(["--kind", "node-ws", "--steps", "0,10", "--server-pid", "1"]), "cmd", Path.GetTempPath()).Validate();
    }

    [Fact]
    public void An_unknown_flag_is_an_error()
    {
        var cl = new CommandLine(["--membres", "5"]);
        Assert.Equal(200, cl.Int("members", 200));
        Assert.Throws<UsageException>(cl.EnsureAllUsed);
    }

    [Fact]
    public void Sums_a_prometheus_metric_by_name_fragment()
    {
        const string text = """
            # HELP chathub_slow_consumer_closes_total closes
            # TYPE chathub_slow_consumer_closes_total counter
            chathub_slow_consumer_closes_total{node="a"} 2 1700000000
            chathub_slow_consumer_closes_total{node="b"} 1
            chathub_connections 5
            """;
        Assert.Equal(3, StatsClient.SumMetric(text, "slow"));
        Assert.Null(StatsClient.SumMetric("chathub_connections 5", "slow"));
    }

    [Fact]
    public void Slope_is_bytes_per_connection()
    {
        var steps = new List<ConnectionStep>
        {
            new() { Held = 0, RssBytes = 1000 },
            new() { Held = 100, RssBytes = 1000 + 100 * 8000 },
            new() { Held = 300, RssBytes = 1000 + 300 * 8000 },
        };
        Assert.Equal(8000, ConnectionsScenario.Slope(steps, s => s.RssBytes)!.Value, 3);
    }
}
