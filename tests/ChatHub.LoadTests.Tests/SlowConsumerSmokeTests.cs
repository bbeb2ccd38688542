using ChatHub.LoadTests.Scenarios.SlowConsumer;

namespace ChatHub.LoadTests.Tests;

[Collection(ServerCollection.Name)]
public sealed class SlowConsumerSmokeTests(ServerFixture server)
{
    [Fact]
    public async Task A_member_that_stops_reading_is_closed_with_1013_and_the_others_lose_nothing()
    {
        SlowConsumerResult result = await SlowConsumerScenario.RunAsync(new SlowConsumerOptions
        {
            Servers = server.Targets,
            Members = 3,
            Senders = 1,
            RatePerSender = 400,
            TextChars = 4000,
            SlowReceiveBufferBytes = 16 * 1024,
            Warmup = TimeSpan.FromSeconds(0.5),
            StallTimeout = TimeSpan.FromSeconds(25),
            After = TimeSpan.FromSeconds(0.5),
            Drain = TimeSpan.FromSeconds(10),
            SampleInterval = TimeSpan.FromMilliseconds(100),
        }, CancellationToken.None);

        Assert.True(result.Observed1013, string.Join(Environment.NewLine, result.SummaryLines()));
        Assert.Empty(result.Violations);
        Assert.Equal(0, result.OthersLost);
        Assert.NotNull(result.SecondsUntilServerClosed);
        Assert.True(result.OthersLatencyBefore.Count > 0);
    }
}
