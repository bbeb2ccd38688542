using System.Globalization;
using System.Text;
using System.Text.Json;
using ChatHub.LoadTests.Reporting;

namespace ChatHub.LoadTests.Scenarios.Connections;

internal sealed class ConnectionsResult : IScenarioResult
{
    public RunInfo Run { get; set; } = new();
    public List<string> Servers { get; set; } = [];
    public List<string> Sources { get; set; } = [];
    public int Workers { get; set; }
    public int Rooms { get; set; }
    /// <summary>What the servers speak: chathub, node-ws or signalr.</summary>
    public string Kind { get; set; } = "chathub";
    /// <summary>From the start of closing every held connection until the servers counted none of them.</summary>
    public double? CloseSeconds { get; set; }
    /// <summary>Server memory 2 s after every connection closed.</summary>
    public long? RssAfterCloseBytes { get; set; }
    public List<ConnectionStep> Steps { get; set; } = [];
    public int MaxHeld { get; set; }
    /// <summary>Least-squares slope of memory over connections, over every step with connections held.</summary>
    public double? RssBytesPerConnection { get; set; }
    public double? WorkingSetBytesPerConnection { get; set; }
    public double? GcHeapBytesPerConnection { get; set; }
    /// <summary>Why the ramp ended before its last step, if it did.</summary>
    public string? StoppedBecause { get; set; }
    public string? PlotPath { get; set; }
    public List<string> Violations { get; set; } = [];

    public IEnumerable<string> SummaryLines()
    {
        yield return $"connections: {Servers.Count} server(s) {string.Join(" ", Servers)}, {Workers} worker process(es), sources {string.Join(",", Sources)}, {Rooms} rooms";
        yield return "   target    held  failed  dropped  conn/s   server-conns  RSS MiB  WS MiB  heap MiB  ΔRSS B/conn  Δheap B/conn";
        foreach (ConnectionStep s in Steps)
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"  {s.Target,7} {s.Held,7} {s.FailedThisStep,7} {s.DroppedSoFar,8} {s.ConnectsPerSecond,7:F0} {s.ServerConnections,14} {Markdown.Mib(s.RssBytes),8} {Markdown.Mib(s.WorkingSetBytes),7} {Markdown.Mib(s.GcHeapBytes),9} {Markdown.Num(s.MarginalRssBytes, "F0"),12} {Markdown.Num(s.MarginalGcHeapBytes, "F0"),13}{(s.Settled ? "" : "  (not settled)")}");
        }
        yield return $"  slope: RSS {Markdown.Num(RssBytesPerConnection, "F0")} B/conn, working set {Markdown.Num(WorkingSetBytesPerConnection, "F0")} B/conn, GC heap {Markdown.Num(GcHeapBytesPerConnection, "F0")} B/conn; max held {MaxHeld}";
        if (CloseSeconds is not null)
        {
            yield return $"  closing all: {Markdown.Num(CloseSeconds, "F2")} s until the servers held none; RSS 2 s later {Markdown.Mib(RssAfterCloseBytes)} MiB";
        }
        if (StoppedBecause is not null)
        {
            yield return "  stopped: " + StoppedBecause;
        }
        if (PlotPath is not null)
        {
            yield return "  plot: " + PlotPath;
        }
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder(Markdown.Header(Run, "Connections against memory"));
        sb.Append(CultureInfo.InvariantCulture, $"{Servers.Count} server process(es) ({string.Join(", ", Servers)}), connections from {Workers} worker process(es) over source addresses {string.Join(", ", Sources)}, each joined to one of {Rooms} rooms at connect. Memory figures are summed over the servers.\n\n");
        sb.Append("| target | held | failed | dropped | connects/s | server connections | RSS MiB | working set MiB | GC heap MiB | Δ RSS B/conn | Δ working set B/conn | Δ GC heap B/conn |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (ConnectionStep s in Steps)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"| {s.Target} | {s.Held} | {s.FailedThisStep} | {s.DroppedSoFar} | {s.ConnectsPerSecond:F0} | {s.ServerConnections?.ToString(CultureInfo.InvariantCulture) ?? "n/a"}{(s.Settled ? "" : " (not settled)")} | {Markdown.Mib(s.RssBytes)} | {Markdown.Mib(s.WorkingSetBytes)} | {Markdown.Mib(s.GcHeapBytes)} | {Markdown.Num(s.MarginalRssBytes, "F0")} | {Markdown.Num(s.MarginalWorkingSetBytes, "F0")} | {Markdown.Num(s.MarginalGcHeapBytes, "F0")} |\n");
        }
        sb.Append(CultureInfo.InvariantCulture,
            $"\nLeast-squares slope over the steps: **RSS {Markdown.Num(RssBytesPerConnection, "F0")} B per connection**, working set {Markdown.Num(WorkingSetBytesPerConnection, "F0")} B, GC heap {Markdown.Num(GcHeapBytesPerConnection, "F0")} B. Most connections held at once: **{MaxHeld}**.{(CloseSeconds is null ? "" : $" Closing them all took {Markdown.Num(CloseSeconds, "F2")} s until the servers held none; RSS 2 s later: {Markdown.Mib(RssAfterCloseBytes)} MiB.")}\n\n");
        if (StoppedBecause is not null)
        {
            sb.Append("Stopped before the last step: ").Append(StoppedBecause).Append("\n\n");
        }
        foreach (string error in Steps.SelectMany(s => s.Errors).Distinct().Take(5))
        {
            sb.Append("- error seen: `").Append(error).Append("`\n");
        }
        sb.Append('\n').Append(Markdown.Violations(Violations));
        return sb.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(this, ResultJsonContext.Default.ConnectionsResult);
}
