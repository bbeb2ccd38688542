namespace ChatHub.LoadTests.Reporting;

/// <summary>A finished scenario: pass/fail, readable lines, a Markdown section and its JSON.</summary>
internal interface IScenarioResult
{
    RunInfo Run { get; }

    /// <summary>Protocol violations, losses and failures; empty means the run passed.</summary>
    List<string> Violations { get; }

    bool Passed => Violations.Count == 0;

    IEnumerable<string> SummaryLines();

    string ToMarkdown();

    string ToJson();
}
