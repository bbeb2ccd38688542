using ChatHub.LoadTests.Scenarios.Fanout;

namespace ChatHub.LoadTests.Tests;

[Collection(ServerCollection.Name)]
public sealed class FanoutSmokeTests(ServerFixture server)
{
    [Fact]
    public async Task Every_member_gets_every_message_in_seq_order()
    {
        FanoutResult result = await FanoutScenario.RunAsync(new FanoutOptions
        {
            Servers = server.Targets,
            Members = 5,
            Messages = 60,
            WarmupMessages = 10,
            Window = 4,
            MaxDuration = TimeSpan.FromSeconds(30),
        }, CancellationToken.None);

        Assert.Empty(result.Violations);
        Assert.Equal(0, result.Lost);
        Assert.Equal(60 * 5, result.DeliveriesReceived);
        Assert.Equal(50 * 5, result.Latency.Count);
        Assert.True(result.DeliveriesPerSecond > 0);
        Assert.NotNull(result.Cpu.ServerCpuSeconds);
        Assert.Contains("\"deliveriesPerSecond\"", result.ToJson());
    }
}
