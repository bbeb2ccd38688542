using ChatHub.LoadTests.Scenarios.Connections;
using ScottPlot;

namespace ChatHub.LoadTests.Reporting;

/// <summary>The connections-against-memory chart (PNG), drawn with ScottPlot.</summary>
internal static class MemoryPlot
{
    public static void Save(IReadOnlyList<ConnectionStep> steps, string title, string path)
    {
        var plot = new Plot();
        AddSeries(plot, steps, s => s.RssBytes, "RSS (/proc VmRSS)", LinePattern.Solid);
        // Dashed: on Linux the working set is RSS, so this line lies on top of the first.
        AddSeries(plot, steps, s => s.WorkingSetBytes, "working set (/api/stats)", LinePattern.Dashed);
        AddSeries(plot, steps, s => s.GcHeapBytes, "GC heap incl. uncollected garbage (/api/stats)", LinePattern.Solid);
        plot.Title(title);
        plot.XLabel("open WebSocket connections (idle, each in one room)");
        plot.YLabel("server memory, MiB");
        plot.Axes.SetLimitsY(0, Math.Max(1, steps.Max(s => (s.RssBytes ?? s.WorkingSetBytes ?? 0) / 1048576.0)) * 1.1);
        plot.ShowLegend(Alignment.UpperLeft);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        plot.SavePng(path, 900, 540);
    }

    private static void AddSeries(Plot plot, IReadOnlyList<ConnectionStep> steps, Func<ConnectionStep, long?> field, string legend, LinePattern pattern)
    {
        var points = steps.Where(s => field(s) is not null && s.ServerConnections is not null).ToList();
        if (points.Count == 0)
        {
            return;
        }
        var scatter = plot.Add.Scatter(
            points.Select(s => (double)s.ServerConnections!.Value).ToArray(),
            points.Select(s => field(s)!.Value / 1048576.0).ToArray());
        scatter.LegendText = legend;
        scatter.MarkerSize = 7;
        scatter.LineWidth = 2;
        scatter.LinePattern = pattern;
    }
}
