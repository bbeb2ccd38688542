using System.Text;
using System.Text.Json;
using ChatHub.LoadTests.Scenarios.Connections;

namespace ChatHub.LoadTests.Reporting;

/// <summary>
/// <c>replot</c>: draws a connections result's plot again from the steps its JSON recorded, to a new path, and
/// rewrites the result's JSON and Markdown to point there. For a run whose plot went to a scratch folder: the
/// figures stay the run's own, and the note says the plot was redrawn.
/// </summary>
internal static class ReplotCommand
{
    public static int Run(string resultJson, string plotPath, TextWriter console)
    {
        ConnectionsResult result = JsonSerializer.Deserialize(File.ReadAllText(resultJson), ResultJsonContext.Default.ConnectionsResult)
            ?? throw new InvalidDataException(resultJson + " holds no connections result");
        string title = $"{Probes.TargetKinds.DisplayName(result.Kind)}: idle connections vs memory ({result.Servers.Count} server process{(result.Servers.Count > 1 ? "es, summed" : "")})";
        MemoryPlot.Save(result.Steps, title, plotPath);
        string plot = plotPath.Replace('\\', '/');
        if (result.PlotPath is string old && old != plot)
        {
            // The recorded command named the old path; it now names the file that exists, and the note says why.
            result.Run.Command = result.Run.Command.Replace(old, plot, StringComparison.Ordinal);
            result.Run.Note = (result.Run.Note is null ? "" : result.Run.Note + "; ") + $"plot redrawn from the recorded steps into {plot} (the run had written it to a scratch folder outside the repository)";
        }
        result.PlotPath = plot;
        string directory = Path.GetDirectoryName(resultJson) ?? ".";
        File.WriteAllText(resultJson, result.ToJson() + "\n", new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(directory, result.Run.Label + ".md"), result.ToMarkdown(), new UTF8Encoding(false));
        console.WriteLine($"replot: wrote {plotPath}, {resultJson} and its Markdown");
        return 0;
    }
}
