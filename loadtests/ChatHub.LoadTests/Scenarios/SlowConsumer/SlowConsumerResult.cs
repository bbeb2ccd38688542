using System.Globalization;
using System.Text;
using System.Text.Json;
using ChatHub.LoadTests.Measurement;
using ChatHub.LoadTests.Reporting;

namespace ChatHub.LoadTests.Scenarios.SlowConsumer;

internal sealed class SlowConsumerResult : IScenarioResult
{
    public RunInfo Run { get; set; } = new();
    public string Server { get; set; } = "";
    public int Members { get; set; }
    public int Senders { get; set; }
    public double RatePerSender { get; set; }
    public int TextChars { get; set; }
    public int SlowReceiveBufferBytes { get; set; }

    /// <summary>Seconds from "stopped reading" until the server was seen to drop the slow member (stats/metrics).</summary>
    public double? SecondsUntilServerClosed { get; set; }
    /// <summary>How the server's drop was seen: "metrics" (slow-consumer counter), "stats" (connection count) or null.</summary>
    public string? DetectedBy { get; set; }
    public double? SlowConsumerCounterDelta { get; set; }
    /// <summary>The close status the slow client read once it read again (1013 expected); null if the socket ended without one.</summary>
    public int? SlowClientCloseStatus { get; set; }
    public string? SlowClientCloseReason { get; set; }
    public long SlowClientMessagesRead { get; set; }
    public bool Observed1013 { get; set; }

    public long MessagesSent { get; set; }
    public long OthersDeliveriesExpected { get; set; }
    public long OthersDeliveriesReceived { get; set; }
    public long OthersLost { get; set; }

    public LatencySummary OthersLatencyBefore { get; set; } = new();
    public LatencySummary OthersLatencyWhileStalled { get; set; } = new();
    public LatencySummary OthersLatencyAfterClose { get; set; } = new();

    public long? ServerRssAtStartBytes { get; set; }
    public long? ServerRssMaxBytes { get; set; }
    public long? ServerRssAtEndBytes { get; set; }
    public List<SlowConsumerSample> Timeline { get; set; } = [];
    public List<string> Violations { get; set; } = [];

    public IEnumerable<string> SummaryLines()
    {
        yield return string.Create(CultureInfo.InvariantCulture, $"slow-consumer: {Members} members ({Senders} sending {RatePerSender} msg/s of {TextChars} chars) + 1 that stops reading (SO_RCVBUF {SlowReceiveBufferBytes})");
        yield return string.Create(CultureInfo.InvariantCulture, $"  server dropped it after {Markdown.Num(SecondsUntilServerClosed, "F2")} s (seen via {DetectedBy ?? "nothing"}; slow-consumer counter +{Markdown.Num(SlowConsumerCounterDelta, "F0")})");
        string seenBy = SlowClientCloseStatus == 1013 ? "by the client" : Observed1013 ? "only by the server's slow-consumer counter" : "no";
        yield return $"  slow client read {SlowClientMessagesRead} messages then close status {SlowClientCloseStatus?.ToString(CultureInfo.InvariantCulture) ?? "none"} ({SlowClientCloseReason}); 1013 observed: {seenBy}";
        yield return $"  others before:        {OthersLatencyBefore}";
        yield return $"  others while stalled: {OthersLatencyWhileStalled}";
        yield return $"  others after close:   {OthersLatencyAfterClose}";
        yield return $"  server RSS MiB start {Markdown.Mib(ServerRssAtStartBytes)}, max {Markdown.Mib(ServerRssMaxBytes)}, end {Markdown.Mib(ServerRssAtEndBytes)}";
        yield return $"  others delivered {OthersDeliveriesReceived}/{OthersDeliveriesExpected}, lost {OthersLost}";
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder(Markdown.Header(Run, "Slow consumer"));
        sb.Append(CultureInfo.InvariantCulture, $"{Members} members, {Senders} of them sending {RatePerSender} msg/s each of {TextChars}-char texts, plus one member (SO_RCVBUF {SlowReceiveBufferBytes} B) that stops reading after the warm-up.\n\n");
        sb.Append("| server dropped slow member after | seen via | slow-consumer counter Δ | slow client's close status | 1013 observed | others lost | server RSS MiB start / max / end |\n|---:|---|---:|---:|---|---:|---|\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"| {Markdown.Num(SecondsUntilServerClosed, "F2")} s | {DetectedBy ?? "–"} | {Markdown.Num(SlowConsumerCounterDelta, "F0")} | {SlowClientCloseStatus?.ToString(CultureInfo.InvariantCulture) ?? "none"} | {(Observed1013 ? "yes" : "no")} | {OthersLost} | {Markdown.Mib(ServerRssAtStartBytes)} / {Markdown.Mib(ServerRssMaxBytes)} / {Markdown.Mib(ServerRssAtEndBytes)} |\n\n");
        sb.Append(Markdown.LatencyHeader)
          .Append(Markdown.LatencyRow("others, before the stall", OthersLatencyBefore))
          .Append(Markdown.LatencyRow("others, while one member stalls", OthersLatencyWhileStalled))
          .Append(Markdown.LatencyRow("others, after its close", OthersLatencyAfterClose)).Append('\n');
        sb.Append(Markdown.Violations(Violations));
        return sb.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(this, ResultJsonContext.Default.SlowConsumerResult);
}

/// <summary>One point of the server's state during the run.</summary>
internal sealed class SlowConsumerSample
{
    public double Seconds { get; set; }
    public long? RssBytes { get; set; }
    public long? Connections { get; set; }
    public double? SlowConsumerCounter { get; set; }
}
