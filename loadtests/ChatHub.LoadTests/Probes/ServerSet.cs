namespace ChatHub.LoadTests.Probes;

/// <summary>The servers a run targets; samples them all and sums, so several processes read as one.</summary>
internal sealed class ServerSet : IDisposable
{
    private readonly StatsClient _stats = new();

    public ServerSet(IReadOnlyList<ServerTarget> targets)
    {
        if (targets.Count == 0)
        {
            throw new ArgumentException("at least one server is needed", nameof(targets));
        }
        Targets = targets;
    }

    public IReadOnlyList<ServerTarget> Targets { get; }

    public StatsClient Stats => _stats;

    public IReadOnlySet<int> Pids => Targets.Where(t => t.Pid is not null).Select(t => t.Pid!.Value).ToHashSet();

    public async Task<IReadOnlyList<ServerSample>> SampleAsync(CancellationToken ct)
    {
        var samples = new ServerSample[Targets.Count];
        for (int i = 0; i < Targets.Count; i++)
        {
            ServerTarget target = Targets[i];
            var stats = target.Kind.HasStats() ? await _stats.GetStatsAsync(target.BaseUrl, ct).ConfigureAwait(false) : null;
            long? connections = stats?.Connections;
            if (!target.Kind.HasStats() && target.Pid is int socketPid)
            {
                // No stats endpoint: the TCP connections its process holds.
                connections = ProcessProbe.ReadHeldConnections(socketPid);
            }
            samples[i] = new ServerSample
            {
                Url = target.BaseUrl.ToString(),
                Pid = target.Pid,
                RssBytes = target.Pid is int pid ? ProcessProbe.ReadRssBytes(pid) : null,
                Connections = connections,
                WorkingSetBytes = stats?.WorkingSetBytes,
                GcHeapBytes = stats?.GcHeapBytes,
                MessagesOut = stats?.MessagesOut,
            };
        }
        return samples;
    }

    /// <summary>Sum of a field over all servers; null if any server did not report it.</summary>
    public static long? Sum(IReadOnlyList<ServerSample> samples, Func<ServerSample, long?> field)
    {
        long total = 0;
        foreach (ServerSample sample in samples)
        {
            if (field(sample) is not long value)
            {
                return null;
            }
            total += value;
        }
        return total;
    }

    /// <summary>utime+stime summed over every server with a pid; null when none has one.</summary>
    public long? ReadCpuTicks()
    {
        long? total = null;
        foreach (ServerTarget target in Targets)
        {
            if (target.Pid is int pid && ProcessProbe.ReadCpuTicks(pid) is long ticks)
            {
                total = (total ?? 0) + ticks;
            }
        }
        return total;
    }

    public void Dispose() => _stats.Dispose();
}
