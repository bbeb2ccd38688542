using System.Globalization;
using System.Text;
using System.Text.Json;
using ChatHub.LoadTests.Reporting;
using ChatHub.LoadTests.Scenarios.Connections;

namespace ChatHub.LoadTests.Scenarios.Compare;

/// <summary>The side-by-side table: one column per target, the rows the performance comparison asks for.</summary>
internal sealed class CompareResult : IScenarioResult
{
    public RunInfo Run { get; set; } = new();
    public List<int> IdleSteps { get; set; } = [];
    public List<int> CapacitySteps { get; set; } = [];
    public int IdleFrom { get; set; }
    public int IdleRooms { get; set; }
    public int FanoutMembers { get; set; }
    public int FanoutMessages { get; set; }
    public int FanoutWindow { get; set; }
    public int ChatConnections { get; set; }
    public int ChatRooms { get; set; }
    public double ChatRate { get; set; }
    public double ChatSeconds { get; set; }
    public string? PlotPath { get; set; }
    public string? PlotLink { get; set; }
    public List<CompareColumn> Columns { get; set; } = [];
    public List<string> Violations { get; set; } = [];

    private int IdleTo => IdleSteps.Count == 0 ? 0 : IdleSteps.Max();

    /// <summary>(row name, one cell per column), in the order of the comparison's table.</summary>
    public IEnumerable<(string Row, string[] Cells)> Rows()
    {
        yield return ($"idle: marginal RSS per connection, {IdleFrom:N0} → {IdleTo:N0}", Cells(c => Kib(c.MarginalRssBytes(IdleFrom))));
        yield return ($"idle: RSS holding {IdleTo:N0}", Cells(c => Mib(Top(c)?.RssBytes)));
        yield return ($"idle: RSS 2 s after all {IdleTo:N0} closed", Cells(c => Mib(c.Idle?.RssAfterCloseBytes)));
        yield return ($"idle: connect rate, last step to {IdleTo:N0}", Cells(c => Top(c) is { } s ? Invariant($"{s.ConnectsPerSecond:N0}/s") : "n/a"));
        yield return ($"idle: time to close all {IdleTo:N0}", Cells(c => c.Idle?.CloseSeconds is double s ? Invariant($"{s:F2} s") : "n/a"));
        if (CapacitySteps.Count > 0)
        {
            yield return ($"joined connections one process holds (ramp to {CapacitySteps.Max():N0})", Cells(c => c.Capacity is { } r
                ? Invariant($"{r.MaxHeld:N0}") + (r.StoppedBecause is null ? " (all tried)" : r.Steps.Any(s => s.DroppedSoFar > 0) ? " (then connects failed, held ones dropped)" : " (then connects failed)")
                : "n/a"));
        }
        else
        {
            yield return ($"idle: joined connections held (of {IdleTo:N0} tried)", Cells(c => c.Idle is { } r ? Invariant($"{r.MaxHeld:N0}") + (r.StoppedBecause is null ? "" : " (stopped)") : "n/a"));
        }
        yield return ($"fan-out: server CPU per delivery ({FanoutMembers:N0} members × {FanoutMessages:N0} messages, window {FanoutWindow})", Cells(c => c.Fanout?.Cpu.ServerCpuMicrosecondsPerUnit is double us ? Invariant($"{us:F2} µs") : "n/a"));
        yield return ("fan-out: deliveries/s", Cells(c => c.Fanout is { } f ? Invariant($"{f.DeliveriesPerSecond:N0}") + Lost(f.Lost) : "n/a"));
        yield return ($"chat: latency p50 / p99 / p99.9 ({ChatConnections:N0} connections in {ChatRooms} rooms, {ChatRate} msg/s each, {ChatSeconds:F0} s)",
            Cells(c => c.Chat is { } r ? Invariant($"{r.Latency.P50Ms:F1} / {r.Latency.P99Ms:F1} / {r.Latency.P999Ms:F1} ms") + Lost(r.Lost) : "n/a"));
        yield return ("chat: server CPU per delivery", Cells(c => c.Chat?.Cpu.ServerCpuMicrosecondsPerUnit is double us ? Invariant($"{us:F1} µs") : "n/a"));
    }

    public IEnumerable<string> SummaryLines()
    {
        yield return "compare: " + string.Join(" | ", Columns.Select(c => c.Name));
        foreach ((string row, string[] cells) in Rows())
        {
            yield return $"  {row}: {string.Join(" | ", cells)}";
        }
        if (PlotPath is not null)
        {
            yield return "  plot: " + PlotPath;
        }
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder(Markdown.Header(Run, "Side by side: ChatHub, Node ws, SignalR"));
        sb.Append(CultureInfo.InvariantCulture,
            $"Every server started fresh for each scenario, one server at a time, on the machine that ran the load (they share its cores). Idle: connections ramped over {string.Join(", ", IdleSteps.Select(s => s.ToString("N0", CultureInfo.InvariantCulture)))}, each joined to one of {IdleRooms} rooms; memory is the server process's RSS. Fan-out: one sender, {FanoutMembers:N0} members, {FanoutMessages:N0} messages, window {FanoutWindow}. Chat: {ChatConnections:N0} connections in {ChatRooms} rooms at {ChatRate} msg/s each for {ChatSeconds:F0} s, latency from the scheduled send. Node `ws` and SignalR have no stats endpoint: their connections are the TCP connections their process holds (socket descriptors less listeners). The reference servers are in `loadtests/peers/`.\n\n");
        sb.Append("| | ").Append(string.Join(" | ", Columns.Select(c => c.Name))).Append(" |\n|---|").Append(string.Concat(Columns.Select(_ => "---:|"))).Append('\n');
        foreach ((string row, string[] cells) in Rows())
        {
            sb.Append("| ").Append(row).Append(" | ").Append(string.Join(" | ", cells)).Append(" |\n");
        }
        sb.Append('\n');
        if (PlotLink is not null)
        {
            sb.Append("![idle connections against server RSS, every target](").Append(PlotLink).Append(")\n\n");
        }
        sb.Append("RSS (MiB) at each idle step:\n\n| connections | ").Append(string.Join(" | ", Columns.Select(c => c.Name))).Append(" |\n|---:|").Append(string.Concat(Columns.Select(_ => "---:|"))).Append('\n');
        foreach (int step in IdleSteps)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {step:N0} | ")
              .Append(string.Join(" | ", Columns.Select(c => Markdown.Mib(c.Idle?.Steps.FirstOrDefault(s => s.Target == step)?.RssBytes))))
              .Append(" |\n");
        }
        sb.Append('\n').Append(Markdown.Violations(Violations));
        return sb.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(this, ResultJsonContext.Default.CompareResult);

    private string[] Cells(Func<CompareColumn, string> cell) => Columns.Select(c => c.Failures.Count > 0 && cell(c) == "n/a" ? "failed" : cell(c)).ToArray();

    private static ConnectionStep? Top(CompareColumn c) => c.Idle?.Steps.LastOrDefault();

    private static string Kib(double? bytes) => bytes is double b ? Invariant($"{b / 1024:F1} KiB") : "n/a";

    private static string Mib(long? bytes) => bytes is null ? "n/a" : Markdown.Mib(bytes) + " MiB";

    private static string Lost(long lost) => lost == 0 ? "" : Invariant($" (lost {lost:N0})");

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
