using System.Globalization;

namespace ChatHub.LoadTests.Probes;

/// <summary>
/// Whole-machine CPU from the first line of /proc/stat: shows whether the box (server + generator +
/// kernel network work, which is not always charged to either process) was saturated.
/// </summary>
internal static class MachineCpu
{
    /// <summary>(busy, softirq, total) jiffies since boot; null off Linux.</summary>
    public static (long Busy, long SoftIrq, long Total)? Read()
    {
        try
        {
            string line = File.ReadLines("/proc/stat").First();
            long[] v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                .Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal
            long total = v.Sum();
            long idle = v[3] + v[4];
            // softirq: loopback TCP is processed there and is not charged to the server or the generator.
            return (total - idle, v[6], total);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
