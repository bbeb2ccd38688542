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
    /// <summary>
    /// Busy share of all cores (100 % = every core busy), from /proc/stat. Approximate: tick-sampled in
    /// this VM, it under-counts light, bursty loads badly; trust the per-process figures first.
    /// </summary>
    public double? MachineBusyPercent { get; set; }
    /// <summary>Share of all cores spent in softirq: mostly loopback TCP, charged to neither process.</summary>
    public double? MachineSoftIrqPercent { get; set; }
    /// <summary>Time the load generator's own GC paused it: a pause delays receipts and sends alike.</summary>
    /// <summary>
    /// CPU that every other process on the box (builds, other test suites, kernel threads) used during the
    /// phase, in % of one core. A large figure means the run was disturbed.
    /// </summary>
    public double? OtherProcessesCpuPercentOfOneCore { get; set; }
    public double GeneratorGcPauseMilliseconds { get; set; }
    public int GeneratorGen2Collections { get; set; }
}
