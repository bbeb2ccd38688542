using ChatHub.LoadTests.Scenarios.Compare;
using ScottPlot;

namespace ChatHub.LoadTests.Reporting;

/// <summary>Idle connections against server RSS, one line per compared target (PNG, ScottPlot).</summary>
internal static class ComparePlot
{
    public static void Save(IReadOnlyList<CompareColumn> columns, string title, string path)
    {
        var plot = new Plot();
        double top = 1;
        foreach (CompareColumn column in columns)
        {
            var points = column.Idle?.Steps.Where(s => s.RssBytes is not null).ToList() ?? [];
            if (points.Count == 0)
            {
                continue;
            }
            var scatter = plot.Add.Scatter(points.Select(s => (double)s.Held).ToArray(), points.Select(s => s.RssBytes!.Value / 1048576.0).ToArray());
            scatter.LegendText = column.Name;
            scatter.MarkerSize = 7;
            scatter.LineWidth = 2;
            top = Math.Max(top, points.Max(s => s.RssBytes!.Value / 1048576.0));
        }
        plot.Title(title);
        plot.XLabel("open WebSocket connections (idle, each joined to one room)");
        plot.YLabel("server RSS, MiB");
        plot.Axes.SetLimitsY(0, top * 1.1);
        plot.ShowLegend(Alignment.UpperLeft);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        plot.SavePng(path, 900, 540);
    }
}
