using System.Net;
using ChatHub.LoadTests.Probes;
using ChatHub.LoadTests.Scenarios.Chat;
using ChatHub.LoadTests.Scenarios.Connections;
using ChatHub.LoadTests.Scenarios.Fanout;

namespace ChatHub.LoadTests.Tests;

/// <summary>
/// The idle, fan-out and chat scenarios against a reference peer that has no <c>/api/stats</c>: connections
/// counted as the TCP connections the peer's process holds, memory and CPU read from its process.
/// </summary>
public abstract class PeerScenarioTests
{
    internal abstract ServerTarget Target { get; }

    [Fact]
    public async Task Fanout_delivers_every_message_in_order_and_reads_the_peers_cpu()
    {
        FanoutResult result = await FanoutScenario.RunAsync(new FanoutOptions
        {
            Servers = [Target],
            Members = 5,
            Messages = 60,
            WarmupMessages = 10,
            Window = 4,
            MaxDuration = TimeSpan.FromSeconds(30),
        }, CancellationToken.None);

        Assert.Empty(result.Violations);
        Assert.Equal(60 * 5, result.DeliveriesReceived);
        Assert.Equal(50 * 5, result.Latency.Count);
        Assert.Equal(Target.Kind.Name(), result.Kind);
        Assert.NotNull(result.Cpu.ServerCpuSeconds);
    }

    [Fact]
    public async Task Chat_loses_nothing()
    {
        ChatResult result = await ChatScenario.RunAsync(new ChatOptions
        {
            Servers = [Target],
            Connections = 6,
            Rooms = 2,
            RatePerConnection = 5,
            Warmup = TimeSpan.FromSeconds(0.5),
            Duration = TimeSpan.FromSeconds(1.5),
            Drain = TimeSpan.FromSeconds(10),
        }, CancellationToken.None);

        Assert.Empty(result.Violations);
        Assert.Equal(0, result.Lost);
        Assert.Equal(result.MessagesSent * 3, result.DeliveriesExpected);
        Assert.True(result.Latency.Count > 0);
    }

    [Fact]
    public async Task Idle_ramp_counts_the_peers_sockets_and_times_closing_them()
    {
        ConnectionsResult result = await ConnectionsScenario.RunAsync(new ConnectionsOptions
        {
            Servers = [Target],
            Steps = [0, 10, 30],
            Rooms = 3,
            RoomPrefix = "peer-idle-",
            Sources = [IPAddress.Parse("127.0.0.5")],
            Workers = 0,
            SettleTimeout = TimeSpan.FromSeconds(10),
            PlotPath = null,
        }, CancellationToken.None);

        Assert.Empty(result.Violations);
        Assert.Equal([0, 10, 30], result.Steps.Select(s => s.Held));
        Assert.All(result.Steps, s => Assert.True(s.Settled));
        // Seen only from outside: the TCP connections its process holds, listeners not counted.
        Assert.Equal(30, result.Steps[^1].ServerConnections);
        Assert.NotNull(result.Steps[^1].RssBytes);
        Assert.Null(result.Steps[^1].GcHeapBytes);
        Assert.NotNull(result.CloseSeconds);
        Assert.NotNull(result.RssAfterCloseBytes);
    }
}

[Collection(ServerCollection.Name)]
public sealed class NodePeerScenarioTests(NodePeerFixture peer) : PeerScenarioTests, IClassFixture<NodePeerFixture>
{
    internal override ServerTarget Target => peer.Target;
}

[Collection(ServerCollection.Name)]
public sealed class SignalRPeerScenarioTests(SignalRPeerFixture peer) : PeerScenarioTests, IClassFixture<SignalRPeerFixture>
{
    internal override ServerTarget Target => peer.Target;
}
