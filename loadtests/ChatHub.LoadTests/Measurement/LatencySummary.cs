using HdrHistogram;

namespace ChatHub.LoadTests.Measurement;

/// <summary>Percentiles of one latency histogram, in milliseconds.</summary>
internal sealed class LatencySummary
{
    public long Count { get; set; }
    public double MeanMs { get; set; }
    public double P50Ms { get; set; }
    public double P90Ms { get; set; }
    public double P99Ms { get; set; }
    public double P999Ms { get; set; }
    public double MaxMs { get; set; }

    public static LatencySummary From(HistogramBase histogram)
    {
        if (histogram.TotalCount == 0)
        {
            return new LatencySummary();
        }
        return new LatencySummary
        {
            Count = histogram.TotalCount,
            MeanMs = histogram.GetMean() / 1000.0,
            P50Ms = histogram.GetValueAtPercentile(50) / 1000.0,
            P90Ms = histogram.GetValueAtPercentile(90) / 1000.0,
            P99Ms = histogram.GetValueAtPercentile(99) / 1000.0,
            P999Ms = histogram.GetValueAtPercentile(99.9) / 1000.0,
            MaxMs = histogram.GetMaxValue() / 1000.0,
        };
    }

    public override string ToString() =>
        Count == 0
            ? "no samples"
            : $"n={Count} p50={P50Ms:F2}ms p90={P90Ms:F2}ms p99={P99Ms:F2}ms p99.9={P999Ms:F2}ms max={MaxMs:F2}ms mean={MeanMs:F2}ms";
}
