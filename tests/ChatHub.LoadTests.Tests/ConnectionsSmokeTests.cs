using System.Net;
using ChatHub.LoadTests.Scenarios.Connections;

namespace ChatHub.LoadTests.Tests;

[Collection(ServerCollection.Name)]
public sealed class ConnectionsSmokeTests(ServerFixture server)
{
    [Fact]
    public async Task Ramp_in_process_records_memory_per_step_and_writes_a_png()
    {
        string plot = Path.Combine(Path.GetTempPath(), $"chathub-conn-{Guid.NewGuid():N}.png");
        try
        {
            ConnectionsResult result = await ConnectionsScenario.RunAsync(new ConnectionsOptions
            {
                Servers = server.Targets,
                Steps = [0, 10, 30],
                Rooms = 3,
                RoomPrefix = "smoke-conn-",
                Sources = [IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3")],
                Workers = 0,
                SettleTimeout = TimeSpan.FromSeconds(10),
                PlotPath = plot,
            }, CancellationToken.None);

            Assert.Empty(result.Violations);
            Assert.Equal(30, result.MaxHeld);
            Assert.Equal([0, 10, 30], result.Steps.Select(s => s.Held));
            Assert.All(result.Steps, s => Assert.True(s.Settled));
            Assert.Equal(30, result.Steps[^1].ServerConnections);
            Assert.NotNull(result.Steps[^1].RssBytes);
            Assert.NotNull(result.Steps[^1].GcHeapBytes);
            Assert.NotNull(result.Steps[^1].MarginalRssBytes);
            byte[] png = await File.ReadAllBytesAsync(plot);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png.Take(4));
            Assert.Contains("| 30 | 30 |", result.ToMarkdown());
        }
        finally
        {
            File.Delete(plot);
        }
    }

    [Fact]
    public async Task Ramp_through_worker_processes_holds_the_connections_there()
    {
        ConnectionsResult result = await ConnectionsScenario.RunAsync(new ConnectionsOptions
        {
            Servers = server.Targets,
            Steps = [0, 8],
            Rooms = 2,
            RoomPrefix = "smoke-worker-",
            Sources = [IPAddress.Parse("127.0.0.4")],
            Workers = 2,
            SettleTimeout = TimeSpan.FromSeconds(10),
            PlotPath = null,
        }, CancellationToken.None);

        Assert.Empty(result.Violations);
        Assert.Equal(8, result.MaxHeld);
        Assert.Equal(8, result.Steps[^1].ServerConnections);
    }
}
