using System.Runtime.InteropServices;

namespace ChatHub.Server.Hosting;

/// <summary>
/// Every socket is a file descriptor. A process that runs out of them fails in places that cannot recover (the
/// runtime aborts), so the server raises its soft limit to the hard one at start, as most servers do, and caps its
/// connections below it (<see cref="Configuration.LimitsOptions.MaxConnections"/>) with a reserve for everything else.
/// </summary>
internal static partial class OpenFileLimit
{
    private const int RlimitNoFile = 7; // Linux

    /// <summary>The soft open-files limit after raising it to the hard limit; null where it cannot be read.</summary>
    public static long? RaiseToHardLimit()
    {
        if (!OperatingSystem.IsLinux() || getrlimit(RlimitNoFile, out var limit) != 0)
        {
            return null;
        }

        if (limit.Current < limit.Max)
        {
            var raised = new RLimit { Current = limit.Max, Max = limit.Max };
            if (setrlimit(RlimitNoFile, ref raised) == 0)
            {
                limit = raised;
            }
        }

        return limit.Current > long.MaxValue ? long.MaxValue : (long)limit.Current;
    }

    /// <summary>How many connections to allow: the configured number, or the open-files limit less the reserve.</summary>
    public static int ConnectionCap(int configured, int reserve, long? openFiles)
    {
        if (configured > 0)
        {
            return configured;
        }

        return openFiles is { } files ? (int)Math.Clamp(files - reserve, 1, int.MaxValue) : int.MaxValue;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Max;
    }

#pragma warning disable SYSLIB1054 // plain DllImport: two blittable calls, no marshalling to generate
    [DllImport("libc", SetLastError = true)]
    private static extern int getrlimit(int resource, out RLimit limit);

    [DllImport("libc", SetLastError = true)]
    private static extern int setrlimit(int resource, ref RLimit limit);
#pragma warning restore SYSLIB1054
}
