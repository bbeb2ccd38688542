using System.Runtime.InteropServices;

namespace ChatHub.LoadTests.Reporting;

/// <summary>What every result file carries: which scenario, the exact command, where and when.</summary>
internal sealed class RunInfo
{
    public string Scenario { get; set; } = "";
    public string Label { get; set; } = "";
    public string Command { get; set; } = "";
    public DateTime StartedUtc { get; set; }
    public int Cores { get; set; }
    public string Os { get; set; } = "";
    public string Runtime { get; set; } = "";
    /// <summary>Free text from <c>--note</c>, e.g. which server build was measured.</summary>
    public string? Note { get; set; }
    /// <summary>Short hash of the commit the measured code was built from (null: not run from a git work tree).</summary>
    public string? Commit { get; set; }
    /// <summary>The measured sources had local changes: the figures name no reproducible commit and stay out of the docs.</summary>
    public bool DirtyTree { get; set; }

    public static RunInfo Create(string scenario, string? label, string? command) => new()
    {
        Scenario = scenario,
        Label = label ?? scenario,
        Command = command ?? "(called in-process)",
        StartedUtc = DateTime.UtcNow,
        Cores = Environment.ProcessorCount,
        Os = RuntimeInformation.OSDescription,
        Runtime = RuntimeInformation.FrameworkDescription,
    };
}
