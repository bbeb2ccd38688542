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
    /// TCP connections the process holds: its socket descriptors (<c>/proc/PID/fd</c> → <c>socket:[inode]</c>)
    /// less its listeners and its non-TCP sockets (Unix, UDP, netlink), as listed in its network namespace's
    /// tables. A connection the peer reset still counts until the server closes its descriptor, as it would in
    /// the server's own count: this is how a server without a stats endpoint is seen to hold or let go. Null
    /// when /proc cannot be read.
    /// </summary>
    public static long? ReadHeldConnections(int pid)
    {
        try
        {
            var sockets = new List<long>();
            foreach (string fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                try
                {
                    if (new FileInfo(fd).LinkTarget is string target && target.StartsWith("socket:[", StringComparison.Ordinal)
                        && long.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out long inode))
                    {
                        sockets.Add(inode);
                    }
                }
                catch (IOException)
                {
                    // The descriptor closed between listing and reading it.
                }
            }
            var notConnections = new HashSet<long>();
            AddInodes(notConnections, $"/proc/{pid}/net/tcp", inodeColumn: 9, onlyState: "0A");
            AddInodes(notConnections, $"/proc/{pid}/net/tcp6", inodeColumn: 9, onlyState: "0A");
            AddInodes(notConnections, $"/proc/{pid}/net/udp", inodeColumn: 9, onlyState: null);
            AddInodes(notConnections, $"/proc/{pid}/net/udp6", inodeColumn: 9, onlyState: null);
            AddInodes(notConnections, $"/proc/{pid}/net/unix", inodeColumn: 6, onlyState: null);
            AddInodes(notConnections, $"/proc/{pid}/net/netlink", inodeColumn: 9, onlyState: null);
            return sockets.Count(i => !notConnections.Contains(i));
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>Inodes from one /proc/net table (header line skipped); TCP rows only in <paramref name="onlyState"/> (hex, 0A = LISTEN).</summary>
    private static void AddInodes(HashSet<long> inodes, string table, int inodeColumn, string? onlyState)
    {
        if (!File.Exists(table))
        {
            return;
        }
        foreach (string line in File.ReadLines(table).Skip(1))
        {
            string[] columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length > inodeColumn
                && (onlyState is null || columns[3] == onlyState)
                && long.TryParse(columns[inodeColumn], NumberStyles.None, CultureInfo.InvariantCulture, out long inode))
            {
                inodes.Add(inode);
            }
        }
    }
}
