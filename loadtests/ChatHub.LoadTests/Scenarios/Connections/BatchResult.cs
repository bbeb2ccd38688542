namespace ChatHub.LoadTests.Scenarios.Connections;

/// <summary>The outcome of opening one batch of idle connections (also the worker's reply).</summary>
internal sealed class BatchResult
{
    public int Opened { get; set; }
    public int Failed { get; set; }
    /// <summary>Connections the server ended while they were held, since the start (cumulative).</summary>
    public int Dropped { get; set; }
    public int Held { get; set; }
    public double Seconds { get; set; }
    /// <summary>CPU the generator process(es) spent on the batch: with the server's, whose CPU bounds the connect rate.</summary>
    public double GeneratorCpuSeconds { get; set; }
    public List<string> Errors { get; set; } = [];

    public static BatchResult Sum(IReadOnlyList<BatchResult> parts) => new()
    {
        Opened = parts.Sum(p => p.Opened),
        Failed = parts.Sum(p => p.Failed),
        Dropped = parts.Sum(p => p.Dropped),
        Held = parts.Sum(p => p.Held),
        Seconds = parts.Count == 0 ? 0 : parts.Max(p => p.Seconds),
        GeneratorCpuSeconds = parts.Sum(p => p.GeneratorCpuSeconds),
        Errors = parts.SelectMany(p => p.Errors).Distinct().Take(5).ToList(),
    };
}
