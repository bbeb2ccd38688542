using ChatHub.LoadTests.Scenarios.Connections;
using ScottPlot;

namespace ChatHub.LoadTests.Reporting;

/// <summary>The connections-against-memory chart (PNG), drawn with ScottPlot.</summary>
internal static class MemoryPlot
{
    public static void Save(IReadOnlyList<ConnectionStep> steps, string title, string path)
    {
        var plot = new Plot();
        AddSeries(plot, steps, s => s.RssBytes, "RSS (/proc VmRSS)");
        AddSeries(plot, steps, s => s.WorkingSetBytes, "working set (/api/stats)");
        AddSeries(plot, steps, s => s.GcHeapBytes, "GC heap (/api/stats)");
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

    private static void AddSeries(Plot plot, IReadOnlyList<ConnectionStep> steps, Func<ConnectionStep, long?> field, string legend)
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
    }
}
