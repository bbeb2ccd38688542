using System.Globalization;
using System.Text;
using System.Text.Json;
using ChatHub.LoadTests.Measurement;
using ChatHub.LoadTests.Reporting;

namespace ChatHub.LoadTests.Scenarios.Chat;

internal sealed class ChatResult : IScenarioResult
{
    public RunInfo Run { get; set; } = new();
    public string Server { get; set; } = "";
    /// <summary>What the server speaks: chathub, node-ws or signalr.</summary>
    public string Kind { get; set; } = "chathub";
    public int Connections { get; set; }
    public int Rooms { get; set; }
    public double RatePerConnection { get; set; }
    public int TextChars { get; set; }
    public double WarmupSeconds { get; set; }
    public double SteadySeconds { get; set; }
    public long MessagesSent { get; set; }
    public long SendFailures { get; set; }
    public long DeliveriesExpected { get; set; }
    public long DeliveriesReceived { get; set; }
    public long Lost { get; set; }
    public double DrainSeconds { get; set; }
    /// <summary>Messages/s offered in the steady phase (scheduled, whether or not the sender kept up).</summary>
    public double OfferedMessagesPerSecond { get; set; }
    public double SteadyDeliveriesPerSecond { get; set; }
    /// <summary>From the scheduled send time to each member's receipt, steady phase only.</summary>
    public LatencySummary Latency { get; set; } = new();
    /// <summary>How late senders were against their schedule when the send call started (generator health).</summary>
    public LatencySummary SendLag { get; set; } = new();
    public CpuUsage Cpu { get; set; } = new();
    public List<string> Violations { get; set; } = [];

    public IEnumerable<string> SummaryLines()
    {
        yield return string.Create(CultureInfo.InvariantCulture, $"chat: {Connections} connections in {Rooms} rooms, {RatePerConnection} msg/s each (open loop), {TextChars}-char texts, {WarmupSeconds:F0} s warm-up + {SteadySeconds:F0} s steady");
        yield return string.Create(CultureInfo.InvariantCulture, $"  offered {OfferedMessagesPerSecond:F0} msg/s, {SteadyDeliveriesPerSecond:F0} deliveries/s; sent {MessagesSent} (failed {SendFailures})");
        yield return $"  latency scheduled->member: {Latency}";
        yield return $"  sender lag behind schedule: {SendLag}";
        yield return "  " + Markdown.Cpu(Cpu, "delivery");
        yield return string.Create(CultureInfo.InvariantCulture, $"  delivered {DeliveriesReceived}/{DeliveriesExpected} after {DrainSeconds:F2} s drain, lost {Lost}");
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder(Markdown.Header(Run, "Chat (open loop)"));
        sb.Append(CultureInfo.InvariantCulture, $"{Connections} connections in {Rooms} fresh rooms ({Connections / Rooms} members each), each sending {RatePerConnection} msg/s on its own timer, {TextChars}-char texts; {WarmupSeconds:F0} s warm-up, {SteadySeconds:F0} s measured.\n\n");
        sb.Append("| offered msg/s | deliveries/s | sent | expected deliveries | delivered | lost | server CPU % (1 core) | server µs/delivery | generator CPU % |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"| {OfferedMessagesPerSecond:F0} | {SteadyDeliveriesPerSecond:F0} | {MessagesSent} | {DeliveriesExpected} | {DeliveriesReceived} | {Lost} | {Markdown.Num(Cpu.ServerCpuPercentOfOneCore, "F0")} | {Markdown.Num(Cpu.ServerCpuMicrosecondsPerUnit, "F2")} | {Cpu.GeneratorCpuPercentOfOneCore:F0} |\n\n");
        sb.Append(Markdown.LatencyHeader)
          .Append(Markdown.LatencyRow("scheduled send → member", Latency))
          .Append(Markdown.LatencyRow("sender lag vs schedule", SendLag)).Append('\n');
        sb.Append(Markdown.Cpu(Cpu, "delivery")).Append("\n\n");
        sb.Append(Markdown.Violations(Violations));
        return sb.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(this, ResultJsonContext.Default.ChatResult);
}
