using System.Globalization;
using System.Text;
using System.Text.Json;
using ChatHub.LoadTests.Measurement;
using ChatHub.LoadTests.Reporting;

namespace ChatHub.LoadTests.Scenarios.Fanout;

internal sealed class FanoutResult : IScenarioResult
{
    public RunInfo Run { get; set; } = new();
    public string Server { get; set; } = "";
    public string Room { get; set; } = "";
    /// <summary>What the server speaks: chathub, node-ws or signalr.</summary>
    public string Kind { get; set; } = "chathub";
    public int Members { get; set; }
    public int Messages { get; set; }
    public int WarmupMessages { get; set; }
    public int Window { get; set; }
    public int TextChars { get; set; }
    /// <summary>Steady phase only: (messages − warm-up) × members.</summary>
    public long SteadyDeliveries { get; set; }
    public long DeliveriesExpected { get; set; }
    public long DeliveriesReceived { get; set; }
    public long Lost { get; set; }
    public double SteadySeconds { get; set; }
    public double DeliveriesPerSecond { get; set; }
    public double MessagesPerSecond { get; set; }
    public LatencySummary Latency { get; set; } = new();
    public CpuUsage Cpu { get; set; } = new();
    public bool TimedOut { get; set; }
    public List<string> Violations { get; set; } = [];

    public IEnumerable<string> SummaryLines()
    {
        yield return $"fanout: {Members} members in {Room}, {Messages} messages ({WarmupMessages} warm-up), window {Window}, text {TextChars} chars";
        yield return string.Create(CultureInfo.InvariantCulture, $"  steady: {SteadyDeliveries} deliveries in {SteadySeconds:F2} s = {DeliveriesPerSecond:F0} deliveries/s ({MessagesPerSecond:F0} messages/s in)");
        yield return $"  latency send->member: {Latency}";
        yield return "  " + Markdown.Cpu(Cpu, "delivery");
        yield return $"  delivered {DeliveriesReceived}/{DeliveriesExpected}, lost {Lost}{(TimedOut ? ", TIMED OUT" : "")}";
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder(Markdown.Header(Run, "Fan-out"));
        sb.Append(CultureInfo.InvariantCulture, $"{Members} members in one fresh room, one sender, {Messages} messages ({WarmupMessages} warm-up, not timed), at most {Window} un-echoed, {TextChars}-char texts.\n\n");
        sb.Append("| deliveries/s | messages/s | steady deliveries | seconds | server CPU % (1 core) | server µs/delivery | generator CPU % | lost |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"| {DeliveriesPerSecond:F0} | {MessagesPerSecond:F0} | {SteadyDeliveries} | {SteadySeconds:F2} | {Markdown.Num(Cpu.ServerCpuPercentOfOneCore, "F0")} | {Markdown.Num(Cpu.ServerCpuMicrosecondsPerUnit, "F2")} | {Cpu.GeneratorCpuPercentOfOneCore:F0} | {Lost} |\n\n");
        sb.Append(Markdown.LatencyHeader).Append(Markdown.LatencyRow("send → each member", Latency)).Append('\n');
        sb.Append(Markdown.Cpu(Cpu, "delivery")).Append("\n\n");
        sb.Append(Markdown.Violations(Violations));
        return sb.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(this, ResultJsonContext.Default.FanoutResult);
}
