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

    private CpuMeter(ServerSet servers)
    {
        _servers = servers;
        _serverTicksAtStart = servers.ReadCpuTicks();
        _selfAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        _startTimestamp = Stopwatch.GetTimestamp();
    }

    public static CpuMeter Start(ServerSet servers) => new(servers);

    public CpuUsage Stop(long work)
    {
        double elapsed = Stopwatch.GetElapsedTime(_startTimestamp).TotalSeconds;
        long? serverTicks = _servers.ReadCpuTicks() - _serverTicksAtStart;
        double selfSeconds = (Process.GetCurrentProcess().TotalProcessorTime - _selfAtStart).TotalSeconds;
        double? serverSeconds = serverTicks / (double)ProcessProbe.ClockTicksPerSecond;
        return new CpuUsage
        {
            ElapsedSeconds = elapsed,
            ServerCpuSeconds = serverSeconds,
            ServerCpuPercentOfOneCore = serverSeconds * 100 / elapsed,
            ServerCpuMicrosecondsPerUnit = work > 0 ? serverSeconds * 1e6 / work : null,
            GeneratorCpuSeconds = selfSeconds,
            GeneratorCpuPercentOfOneCore = selfSeconds * 100 / elapsed,
            Cores = Environment.ProcessorCount,
        };
    }
}
