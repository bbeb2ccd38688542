using ChatHub.LoadTests.Reporting;
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

        // The result round-trips through its JSON into the report's key-figures table, text around the block kept.
        string dir = Path.Combine(Path.GetTempPath(), $"chathub-report-{Guid.NewGuid():N}");
        try
        {
            ResultWriter.Write(result, dir, TextWriter.Null);
            string doc = Path.Combine(dir, "benchmarks.md");
            await File.WriteAllTextAsync(doc, "# Title\n\nhand-written\n\n<!-- results:begin -->\nold\n<!-- results:end -->\n\ntail\n");
            ReportCommand.Run(dir, doc, ["fanout"], TextWriter.Null);
            string text = await File.ReadAllTextAsync(doc);
            Assert.Contains("hand-written", text);
            Assert.EndsWith("tail\n", text);
            Assert.DoesNotContain("old", text);
            Assert.Contains("| `fanout` | 5 members, window 4:", text);
            Assert.Contains("### Fan-out (`fanout`)", text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
