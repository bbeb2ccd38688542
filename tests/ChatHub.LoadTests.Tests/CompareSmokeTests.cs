using System.Net;
using ChatHub.LoadTests.Probes;
using ChatHub.LoadTests.Reporting;
using ChatHub.LoadTests.Scenarios.Compare;
using ChatHub.LoadTests.Targets;

namespace ChatHub.LoadTests.Tests;

/// <summary>
/// The comparison end to end, tiny: the in-process ChatHub, and the Node and SignalR peers started as real
/// processes by the comparison itself (fresh for each scenario), into a table, a plot and the report.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class CompareSmokeTests(ServerFixture server, NodePeerFixture node) : IClassFixture<NodePeerFixture>
{
    [Fact]
    public async Task Compares_chathub_node_and_signalr_side_by_side_into_the_report()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"chathub-compare-{Guid.NewGuid():N}");
        string plot = Path.Combine(dir, "compare-memory.png");
        try
        {
            CompareResult result = await CompareScenario.RunAsync(new CompareOptions
            {
                Targets =
                [
                    new CompareTarget { Name = "ChatHub (in-process)", Kind = TargetKind.ChatHub, StartAsync = _ => Task.FromResult<IRunningServer>(new ExistingServer(server.Target)) },
                    CompareTarget.Launched("Node ws", () => ServerLaunch.NodeWs(node.Directory)),
                    CompareTarget.Launched("SignalR", () => ServerLaunch.SignalR(RepositoryPaths.SignalRPeerDll)),
                ],
                IdleSteps = [0, 10, 30],
                IdleFrom = 10,
                IdleRooms = 3,
                IdleWorkers = 0,
                IdleSources = [IPAddress.Parse("127.0.0.6")],
                IdleSettleTimeout = TimeSpan.FromSeconds(10),
                FanoutMembers = 4,
                FanoutMessages = 40,
                FanoutWarmupMessages = 10,
                FanoutWindow = 4,
                ChatConnections = 6,
                ChatRooms = 2,
                ChatRate = 5,
                ChatWarmup = TimeSpan.FromSeconds(0.5),
                ChatDuration = TimeSpan.FromSeconds(1),
                ChatDrain = TimeSpan.FromSeconds(10),
                PlotPath = plot,
                PlotLink = "img/compare-memory.png",
                Label = "compare",
            }, CancellationToken.None);

            Assert.True(result.Violations.Count == 0, string.Join("\n", result.Violations) + "\n" + result.ToMarkdown() + string.Join("\n", result.Columns.SelectMany(c => c.Idle?.SummaryLines() ?? [])));
            Assert.Equal(["ChatHub (in-process)", "Node ws", "SignalR"], result.Columns.Select(c => c.Name));
            Assert.All(result.Columns, c =>
            {
                Assert.Empty(c.Failures);
                Assert.Equal(30, c.Idle!.MaxHeld);
                Assert.NotNull(c.MarginalRssBytes(10));
                Assert.NotNull(c.Idle.CloseSeconds);
                Assert.NotNull(c.Idle.RssAfterCloseBytes);
                Assert.Equal(40 * 4, c.Fanout!.DeliveriesReceived);
                Assert.NotNull(c.Fanout.Cpu.ServerCpuMicrosecondsPerUnit);
                Assert.Equal(0, c.Chat!.Lost);
                Assert.True(c.Chat.Latency.Count > 0);
            });
            // The peers ran in processes of their own, started per scenario: three different pids each.
            Assert.NotEqual(result.Columns[1].Idle!.Steps[0].PerServer[0].Pid, Environment.ProcessId);

            byte[] png = await File.ReadAllBytesAsync(plot);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png.Take(4));
            string md = result.ToMarkdown();
            Assert.Contains("| | ChatHub (in-process) | Node ws | SignalR |", md);
            Assert.Contains("| idle: marginal RSS per connection, 10 → 30 |", md);
            Assert.Contains("| chat: latency p50 / p99 / p99.9", md);
            Assert.Contains("![idle connections against server RSS, every target](img/compare-memory.png)", md);
            Assert.DoesNotContain("| n/a", md.Split("RSS (MiB) at each idle step")[0]);

            // Through its JSON into the generated block of the doc.
            ResultWriter.Write(result, dir, TextWriter.Null);
            string doc = Path.Combine(dir, "benchmarks.md");
            await File.WriteAllTextAsync(doc, "# Benchmarks\n\n<!-- results:begin -->\n<!-- results:end -->\n");
            Assert.Equal(0, ReportCommand.Run(dir, doc, ["compare"], TextWriter.Null));
            string text = await File.ReadAllTextAsync(doc);
            Assert.Contains("### Side by side: ChatHub, Node ws, SignalR (`compare`)", text);
            Assert.Contains("| `compare` | idle RSS per connection ChatHub (in-process) **", text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_capacity_ramp_answers_how_many_connections_one_process_holds()
    {
        CompareResult result = await CompareScenario.RunAsync(new CompareOptions
        {
            Targets = [new CompareTarget { Name = "ChatHub (in-process)", Kind = TargetKind.ChatHub, StartAsync = _ => Task.FromResult<IRunningServer>(new ExistingServer(server.Target)) }],
            IdleSteps = [0, 5, 10],
            IdleFrom = 5,
            IdleRooms = 2,
            IdleWorkers = 0,
            IdleSources = [IPAddress.Parse("127.0.0.7")],
            IdleSettleTimeout = TimeSpan.FromSeconds(10),
            CapacitySteps = [0, 25],
            FanoutMembers = 2,
            FanoutMessages = 10,
            FanoutWarmupMessages = 2,
            FanoutWindow = 2,
            ChatConnections = 2,
            ChatRooms = 1,
            ChatRate = 5,
            ChatWarmup = TimeSpan.FromSeconds(0.2),
            ChatDuration = TimeSpan.FromSeconds(0.5),
            ChatDrain = TimeSpan.FromSeconds(10),
        }, CancellationToken.None);

        Assert.Empty(result.Violations);
        Assert.Equal(25, result.Columns[0].Capacity!.MaxHeld);
        Assert.Contains("| joined connections one process holds (ramp to 25) | 25 (all tried) |", result.ToMarkdown());
    }
}
