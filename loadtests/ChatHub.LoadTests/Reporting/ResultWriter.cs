using System.Text;

namespace ChatHub.LoadTests.Reporting;

/// <summary>Prints a result and writes it as <c>&lt;label&gt;.json</c> and <c>&lt;label&gt;.md</c>.</summary>
internal static class ResultWriter
{
    public static (string JsonPath, string MarkdownPath) Write(IScenarioResult result, string outDirectory, TextWriter console)
    {
        foreach (string line in result.SummaryLines())
        {
            console.WriteLine(line);
        }
        console.WriteLine(result.Passed ? "RESULT: PASS" : "RESULT: FAIL — " + string.Join("; ", result.Violations.Take(10)));

        Directory.CreateDirectory(outDirectory);
        string json = Path.Combine(outDirectory, result.Run.Label + ".json");
        string md = Path.Combine(outDirectory, result.Run.Label + ".md");
        File.WriteAllText(json, result.ToJson() + "\n", new UTF8Encoding(false));
        File.WriteAllText(md, result.ToMarkdown(), new UTF8Encoding(false));
        console.WriteLine($"wrote {json} and {md}");
        return (json, md);
    }
}
