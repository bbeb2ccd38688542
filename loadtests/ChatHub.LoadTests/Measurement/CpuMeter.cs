using System.Diagnostics;
using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Measurement;

/// <summary>CPU used by the server(s) and by this load generator over one measured phase.</summary>
internal sealed class CpuMeter
{
    private readonly ServerSet _servers;
    private readonly long? _serverTicksAtStart;
    private readonly TimeSpan _selfAtStart;
    private readonly long _startTimestamp;
    private readonly (long Busy, long SoftIrq, long Total)? _machineAtStart;
    private readonly TimeSpan _gcPauseAtStart;
    private readonly int _gen2AtStart;
    private readonly Dictionary<int, long> _processesAtStart;

    private CpuMeter(ServerSet servers)
    {
        _servers = servers;
        _serverTicksAtStart = servers.ReadCpuTicks();
        _selfAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        _startTimestamp = Stopwatch.GetTimestamp();
        _machineAtStart = MachineCpu.Read();
        _gcPauseAtStart = GC.GetTotalPauseDuration();
        _gen2AtStart = GC.CollectionCount(2);
        _processesAtStart = ProcessTable.Snapshot();
    }

    public static CpuMeter Start(ServerSet servers) => new(servers);

    public CpuUsage Stop(long work)
    {
        double elapsed = Stopwatch.GetElapsedTime(_startTimestamp).TotalSeconds;
        var excluded = new HashSet<int>(_servers.Pids) { Environment.ProcessId };
        long otherTicks = ProcessTable.OtherTicks(_processesAtStart, ProcessTable.Snapshot(), excluded);
        long? serverTicks = _servers.ReadCpuTicks() - _serverTicksAtStart;
        double selfSeconds = (Process.GetCurrentProcess().TotalProcessorTime - _selfAtStart).TotalSeconds;
        double? serverSeconds = serverTicks / (double)ProcessProbe.ClockTicksPerSecond;
        (double? machineBusy, double? machineSoftIrq) = MachineShares(_machineAtStart, MachineCpu.Read());
        return new CpuUsage
        {
            ElapsedSeconds = elapsed,
            ServerCpuSeconds = serverSeconds,
            ServerCpuPercentOfOneCore = serverSeconds * 100 / elapsed,
            ServerCpuMicrosecondsPerUnit = work > 0 ? serverSeconds * 1e6 / work : null,
            GeneratorCpuSeconds = selfSeconds,
            GeneratorCpuPercentOfOneCore = selfSeconds * 100 / elapsed,
            Cores = Environment.ProcessorCount,
            MachineBusyPercent = machineBusy,
            MachineSoftIrqPercent = machineSoftIrq,
            OtherProcessesCpuPercentOfOneCore = otherTicks * 100.0 / ProcessProbe.ClockTicksPerSecond / elapsed,
            GeneratorGcPauseMilliseconds = (GC.GetTotalPauseDuration() - _gcPauseAtStart).TotalMilliseconds,
            GeneratorGen2Collections = GC.CollectionCount(2) - _gen2AtStart,
        };
    }

    /// <summary>Busy and softirq shares of all cores between two /proc/stat readings, in %.</summary>
    private static (double? Busy, double? SoftIrq) MachineShares((long Busy, long SoftIrq, long Total)? start, (long Busy, long SoftIrq, long Total)? end)
    {
        if (start is not { } a || end is not { } b || b.Total <= a.Total)
        {
            return (null, null);
        }
        double total = b.Total - a.Total;
        return (100.0 * (b.Busy - a.Busy) / total, 100.0 * (b.SoftIrq - a.SoftIrq) / total);
    }
}
