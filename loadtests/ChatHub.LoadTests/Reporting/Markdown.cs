using System.Globalization;
using System.Text;
using ChatHub.LoadTests.Measurement;

namespace ChatHub.LoadTests.Reporting;

/// <summary>Small helpers shared by the results' Markdown sections.</summary>
internal static class Markdown
{
    public static string Header(RunInfo run, string title)
    {
        var sb = new StringBuilder();
        sb.Append("### ").Append(title).Append(" (`").Append(run.Label).Append("`)\n\n");
        sb.Append("Command: `").Append(run.Command).Append("`  \n");
        sb.Append("Run at ").Append(run.StartedUtc.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))
          .Append(" on ").Append(run.Cores).Append(" cores, ").Append(run.Runtime).Append('.');
        if (run.Commit is not null)
        {
            sb.Append(run.DirtyTree
                ? $" Measured with local changes on top of commit `{run.Commit}`: not reproducible, not for the docs."
                : $" Measured at commit `{run.Commit}`.");
        }
        if (run.Note is not null)
        {
            sb.Append(' ').Append(run.Note).Append('.');
        }
        sb.Append("\n\n");
        return sb.ToString();
    }

    public static string LatencyRow(string name, LatencySummary l) =>
        string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {l.Count} | {l.P50Ms:F2} | {l.P90Ms:F2} | {l.P99Ms:F2} | {l.P999Ms:F2} | {l.MaxMs:F2} |\n");

    public const string LatencyHeader = "| latency | samples | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n|---|---:|---:|---:|---:|---:|---:|\n";

    public static string Cpu(CpuUsage cpu, string unit) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Server CPU: {Num(cpu.ServerCpuPercentOfOneCore, "F0")} % of one core ({Num(cpu.ServerCpuMicrosecondsPerUnit, "F1")} µs per {unit}); load generator: {cpu.GeneratorCpuPercentOfOneCore:F0} % of one core (GC paused it {cpu.GeneratorGcPauseMilliseconds:F0} ms); whole machine {Num(cpu.MachineBusyPercent, "F0")} % busy over all cores, {Num(cpu.MachineSoftIrqPercent, "F0")} % in softirq (loopback TCP); other processes on the box used {Num(cpu.OtherProcessesCpuPercentOfOneCore, "F0")} % of one core; {cpu.Cores} cores shared by all; {cpu.ElapsedSeconds:F1} s.");

    public static string Num(double? value, string format) =>
        value is double v ? v.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    public static string Mib(long? bytes) =>
        bytes is long b ? (b / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) : "n/a";

    public static string Violations(List<string> violations) =>
        violations.Count == 0
            ? "Result: **pass** (no protocol violation, nothing lost).\n\n"
            : "Result: **FAIL**: " + string.Join("; ", violations.Take(10)) + "\n\n";
}
