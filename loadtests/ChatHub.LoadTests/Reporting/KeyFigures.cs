using System.Globalization;
using System.Text;
using System.Text.Json;
using ChatHub.LoadTests.Scenarios.Chat;
using ChatHub.LoadTests.Scenarios.Compare;
using ChatHub.LoadTests.Scenarios.Connections;
using ChatHub.LoadTests.Scenarios.Fanout;
using ChatHub.LoadTests.Scenarios.SlowConsumer;

namespace ChatHub.LoadTests.Reporting;

/// <summary>
/// The one-table summary at the top of the generated report, read back from the result JSON files so
/// the headline numbers can never disagree with the runs they come from.
/// </summary>
internal static class KeyFigures
{
    public static string Table(string resultsDirectory, IReadOnlyList<string> labels)
    {
        var sb = new StringBuilder("### Key figures\n\n| run | figure |\n|---|---|\n");
        foreach (string label in labels)
        {
            string path = Path.Combine(resultsDirectory, label + ".json");
            if (!File.Exists(path))
            {
                continue;
            }
            string json = File.ReadAllText(path);
            string scenario = JsonDocument.Parse(json).RootElement.GetProperty("run").GetProperty("scenario").GetString() ?? "";
            string? row = scenario switch
            {
                "connections" => Connections(JsonSerializer.Deserialize(json, ResultJsonContext.Default.ConnectionsResult)!),
                "fanout" => Fanout(JsonSerializer.Deserialize(json, ResultJsonContext.Default.FanoutResult)!),
                "chat" => Chat(JsonSerializer.Deserialize(json, ResultJsonContext.Default.ChatResult)!),
                "slow-consumer" => Slow(JsonSerializer.Deserialize(json, ResultJsonContext.Default.SlowConsumerResult)!),
                "compare" => Compare(JsonSerializer.Deserialize(json, ResultJsonContext.Default.CompareResult)!),
                _ => null,
            };
            if (row is not null)
            {
                sb.Append("| `").Append(label).Append("` | ").Append(row).Append(" |\n");
            }
        }
        return sb.Append('\n').ToString();
    }

    private static string Connections(ConnectionsResult r) => Invariant(
        $"{r.MaxHeld:N0} idle connections held on {r.Servers.Count} server process(es); **{Markdown.Num(r.RssBytesPerConnection / 1024, "F1")} KiB RSS per connection** (GC heap {Markdown.Num(r.GcHeapBytesPerConnection / 1024, "F1")} KiB)")
        + (r.StoppedBecause is null ? "" : "; stopped: " + Shorten(r.StoppedBecause))
        + (r.Violations.Count == 0 ? "" : " — FAIL");

    private static string Fanout(FanoutResult r) => Invariant(
        $"{r.Members} members, window {r.Window}: **{r.DeliveriesPerSecond:N0} deliveries/s**, server {Markdown.Num(r.Cpu.ServerCpuMicrosecondsPerUnit, "F2")} µs CPU per delivery, latency p50 {r.Latency.P50Ms:F1} / p99 {r.Latency.P99Ms:F1} ms, lost {r.Lost}; {Markdown.Num(r.Cpu.OtherProcessesCpuPercentOfOneCore, "F0")} % of a core went to other work on the box");

    private static string Chat(ChatResult r) => Invariant(
        $"{r.Connections:N0} connections × {r.RatePerConnection} msg/s in {r.Rooms} rooms ({r.SteadyDeliveriesPerSecond:N0} deliveries/s): **p50 {r.Latency.P50Ms:F1} / p99 {r.Latency.P99Ms:F1} / p99.9 {r.Latency.P999Ms:F1} / max {r.Latency.MaxMs:F1} ms**, lost {r.Lost}, server {Markdown.Num(r.Cpu.ServerCpuPercentOfOneCore, "F0")} % of a core ({Markdown.Num(r.Cpu.ServerCpuMicrosecondsPerUnit, "F1")} µs per delivery); {Markdown.Num(r.Cpu.OtherProcessesCpuPercentOfOneCore, "F0")} % of a core went to other work on the box");

    private static string Slow(SlowConsumerResult r) => Invariant(
        $"stalled reader closed after {Markdown.Num(r.SecondsUntilServerClosed, "F1")} s, its client read close status **{r.SlowClientCloseStatus?.ToString(CultureInfo.InvariantCulture) ?? "none"}**; others' p99 {r.OthersLatencyBefore.P99Ms:F1} → {r.OthersLatencyWhileStalled.P99Ms:F1} → {r.OthersLatencyAfterClose.P99Ms:F1} ms (before → stalled → after), lost {r.OthersLost}; server RSS {Markdown.Mib(r.ServerRssAtStartBytes)} → max {Markdown.Mib(r.ServerRssMaxBytes)} MiB");

    private static string Compare(CompareResult r) =>
        "idle RSS per connection " + string.Join(", ", r.Columns.Select(c => $"{c.Name} **{Markdown.Num(c.MarginalRssBytes(r.IdleFrom) / 1024, "F1")} KiB**"))
        + "; fan-out " + string.Join(", ", r.Columns.Select(c => $"{c.Name} {Markdown.Num(c.Fanout?.DeliveriesPerSecond, "N0")} deliveries/s"))
        + (r.Violations.Count == 0 ? "" : " — FAIL");

    // A '|' would end the table cell.
    private static string Shorten(string text) => (text.Length <= 140 ? text : text[..140] + "…").Replace('|', '/');

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
