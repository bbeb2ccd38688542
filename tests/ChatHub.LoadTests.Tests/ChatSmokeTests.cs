using ChatHub.LoadTests.Scenarios.Chat;

namespace ChatHub.LoadTests.Tests;

[Collection(ServerCollection.Name)]
public sealed class ChatSmokeTests(ServerFixture server)
{
    [Fact]
    public async Task Open_loop_chat_loses_nothing_and_times_the_steady_phase()
    {
        ChatResult result = await ChatScenario.RunAsync(new ChatOptions
        {
            Servers = server.Targets,
            Connections = 6,
            Rooms = 2,
            RatePerConnection = 5,
            Warmup = TimeSpan.FromSeconds(0.5),
            Duration = TimeSpan.FromSeconds(1.5),
            Drain = TimeSpan.FromSeconds(10),
        }, CancellationToken.None);

        Assert.Empty(result.Violations);
        Assert.Equal(0, result.Lost);
        Assert.True(result.MessagesSent >= 6 * 5 * 2 - 6, $"sent only {result.MessagesSent}");
        Assert.Equal(result.MessagesSent * 3, result.DeliveriesExpected);
        Assert.True(result.Latency.Count > 0);
        // Every steady send was timed against its schedule by the one timing thread.
        Assert.InRange(result.SendLag.Count, 6 * 5, result.MessagesSent);
        Assert.True(result.Latency.P99Ms > 0);
    }
}
