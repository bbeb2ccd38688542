using System.Runtime.InteropServices;

namespace ChatHub.Server.Hosting;

/// <summary>
/// Every socket is a file descriptor. A process that runs out of them fails in places that cannot recover (the
/// runtime aborts), so the server raises its soft limit to the hard one at start, as most servers do, and caps its
/// connections below it (<see cref="Configuration.LimitsOptions.MaxConnections"/>): the limit less what is open at
/// start (counted, not guessed: a framework-dependent process holds a few hundred for its loaded assemblies, the
/// Native AOT binary a dozen) less a measured reserve for what the server opens later.
/// </summary>
internal static partial class OpenFileLimit
{
    private const int RlimitNoFile = 7; // Linux

    /// <summary>
    /// The default reserve for files the server opens after start, measured (docs/performance.md): the Native AOT
    /// binary opens about a dozen more (listening sockets, the SQLite files of the writer and of at most
    /// <see cref="Storage.SqliteHistoryStore.MaxReaders"/> readers, Redis sockets), so 128 leaves ten times that; under
    /// the JIT (<c>dotnet run</c>, tests) the runtime also opens each assembly it loads later, two files apiece,
    /// about a hundred more.
    /// </summary>
    public static int DefaultReserve => System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported ? 256 : 128;

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

    /// <summary>The file descriptors this process has open now; null where that cannot be read (not Linux).</summary>
    public static int? CountOpen()
    {
        const string fds = "/proc/self/fd";
        if (!OperatingSystem.IsLinux() || !Directory.Exists(fds))
        {
            return null;
        }

        // The listing itself holds one descriptor (the directory) while it runs; it is not the server's.
        return Math.Max(0, Directory.EnumerateFileSystemEntries(fds).Count() - 1);
    }

    /// <summary>
    /// How many connections to allow: the configured number, or the open-files limit less the descriptors open at
    /// start less the reserve for those opened later.
    /// </summary>
    public static int ConnectionCap(int configured, int reserve, long? openFiles, int openAtStart)
    {
        if (configured > 0)
        {
            return configured;
        }

        return openFiles is { } files ? (int)Math.Clamp(files - openAtStart - reserve, 1, int.MaxValue) : int.MaxValue;
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
