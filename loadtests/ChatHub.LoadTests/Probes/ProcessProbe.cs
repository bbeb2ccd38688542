using System.Globalization;

namespace ChatHub.LoadTests.Probes;

/// <summary>Reads a local process's memory and CPU time from /proc (Linux).</summary>
internal static class ProcessProbe
{
    /// <summary>USER_HZ: the unit of utime/stime in /proc/PID/stat; 100 on every mainstream Linux.</summary>
    public const int ClockTicksPerSecond = 100;

    /// <summary>VmRSS from /proc/PID/status, in bytes; null when the process or /proc is not there.</summary>
    public static long? ReadRssBytes(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>utime + stime from /proc/PID/stat, in clock ticks.</summary>
    public static long? ReadCpuTicks(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may contain spaces; the fields after its closing ')' are fixed.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state); utime is field 14, stime field 15.
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>
    /// Sockets the process has open (entries of /proc/PID/fd that link to <c>socket:[inode]</c>): how a server
    /// without a stats endpoint is seen to hold or to have let go of its connections. Null when unreadable.
    /// </summary>
    public static long? ReadSocketCount(int pid)
    {
        try
        {
            long sockets = 0;
            foreach (string fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                try
                {
                    if (new FileInfo(fd).LinkTarget is string target && target.StartsWith("socket:", StringComparison.Ordinal))
                    {
                        sockets++;
                    }
                }
                catch (IOException)
                {
                    // The descriptor closed between listing and reading it.
                }
            }
            return sockets;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}
