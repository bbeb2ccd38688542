using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Scenarios.Connections;

/// <summary>One step of the ramp: how many connections are held and what the server(s) use for them.</summary>
internal sealed class ConnectionStep
{
    public int Target { get; set; }
    public int Held { get; set; }
    public int FailedThisStep { get; set; }
    public int DroppedSoFar { get; set; }
    public double ConnectSeconds { get; set; }
    public double ConnectsPerSecond { get; set; }
    /// <summary>
    /// CPU the servers (from /proc/PID/stat, 10 ms ticks) and the generator (this process or its workers) spent
    /// on the step's connects, per connect opened: which side's CPU the connect rate is made of.
    /// </summary>
    public double? ServerCpuMicrosecondsPerConnect { get; set; }
    public double? GeneratorCpuMicrosecondsPerConnect { get; set; }
    /// <summary>False when the server did not report the connections and go quiet within the settle timeout.</summary>
    public bool Settled { get; set; }
    public long? ServerConnections { get; set; }
    public long? RssBytes { get; set; }
    public long? WorkingSetBytes { get; set; }
    public long? GcHeapBytes { get; set; }
    /// <summary>Per connection added since the previous step.</summary>
    public double? MarginalRssBytes { get; set; }
    public double? MarginalWorkingSetBytes { get; set; }
    public double? MarginalGcHeapBytes { get; set; }
    public List<string> Errors { get; set; } = [];
    public List<ServerSample> PerServer { get; set; } = [];
}
