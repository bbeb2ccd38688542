using ChatHub.LoadTests.Reporting;
using ChatHub.LoadTests.Scenarios.Connections;

namespace ChatHub.LoadTests.Tests;

public sealed class ReplotTests
{
    [Fact]
    public void Redraws_a_connections_plot_from_the_recorded_steps_and_points_the_result_at_it()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"chathub-replot-{Guid.NewGuid():N}");
        try
        {
            var result = new ConnectionsResult
            {
                Run = RunInfo.Create("connections", "ramp", "connections --plot scratch/ramp.png --out x"),
                Servers = ["http://127.0.0.1:1/"],
                Steps =
                [
                    new ConnectionStep { Target = 0, Held = 0, ServerConnections = 0, RssBytes = 80 << 20 },
                    new ConnectionStep { Target = 100, Held = 100, ServerConnections = 100, RssBytes = 81 << 20 },
                ],
                PlotPath = "scratch/ramp.png",
            };
            ResultWriter.Write(result, dir, TextWriter.Null);
            string plot = Path.Combine(dir, "ramp.png");

            Assert.Equal(0, ReplotCommand.Run(Path.Combine(dir, "ramp.json"), plot, TextWriter.Null));

            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(plot).Take(4));
            string md = File.ReadAllText(Path.Combine(dir, "ramp.md"));
            Assert.DoesNotContain("scratch/ramp.png", md);
            Assert.Contains("--plot " + plot.Replace('\\', '/'), md);
            Assert.Contains("plot redrawn from the recorded steps", md);
            Assert.Contains("| 100 | 100 |", md);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
