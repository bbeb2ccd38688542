namespace ChatHub.LoadTests.Probes;

/// <summary>
/// CPU ticks of every process on the machine. The difference of two snapshots, minus the server(s) and
/// this generator, is what other work (builds, other test suites, kernel threads) took during a run:
/// per-process times are precise, unlike the tick-sampled /proc/stat totals in a VM.
/// </summary>
internal static class ProcessTable
{
    public static Dictionary<int, long> Snapshot()
    {
        var ticks = new Dictionary<int, long>();
        try
        {
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out int pid) && ProcessProbe.ReadCpuTicks(pid) is long t)
                {
                    ticks[pid] = t;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return ticks;
    }

    /// <summary>Ticks used between the snapshots by processes not in <paramref name="excluded"/>; processes that ended in between are missed.</summary>
    public static long OtherTicks(Dictionary<int, long> before, Dictionary<int, long> after, IReadOnlySet<int> excluded)
    {
        long total = 0;
        foreach ((int pid, long end) in after)
        {
            if (!excluded.Contains(pid))
            {
                total += Math.Max(0, end - before.GetValueOrDefault(pid));
            }
        }
        return total;
    }
}
