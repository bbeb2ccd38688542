namespace ChatHub.LoadTests.Measurement;

/// <summary>
/// CPU over a phase. Percentages are of one core (200 % = both cores of a 2-core box); the server
/// figure comes from /proc/PID/stat in 10 ms ticks, so short phases are coarse.
/// </summary>
internal sealed class CpuUsage
{
    public double ElapsedSeconds { get; set; }
    public double? ServerCpuSeconds { get; set; }
    public double? ServerCpuPercentOfOneCore { get; set; }
    /// <summary>Server CPU per unit of work (a delivery, for fan-out and chat).</summary>
    public double? ServerCpuMicrosecondsPerUnit { get; set; }
    public double GeneratorCpuSeconds { get; set; }
    public double GeneratorCpuPercentOfOneCore { get; set; }
    public int Cores { get; set; }
    /// <summary>Busy share of all cores of the machine (100 % = every core busy), from /proc/stat.</summary>
    public double? MachineBusyPercent { get; set; }
    /// <summary>Share of all cores spent in softirq: mostly loopback TCP, charged to neither process.</summary>
    public double? MachineSoftIrqPercent { get; set; }
    /// <summary>Time the load generator's own GC paused it: a pause delays receipts and sends alike.</summary>
    /// <summary>
    /// Machine CPU charged to neither the server(s) nor this generator, in % of one core: kernel network
    /// work (softirq) and any other process on the box. A large figure means the run was disturbed.
    /// </summary>
    public double? UnattributedCpuPercentOfOneCore { get; set; }
    public double GeneratorGcPauseMilliseconds { get; set; }
    public int GeneratorGen2Collections { get; set; }
}
