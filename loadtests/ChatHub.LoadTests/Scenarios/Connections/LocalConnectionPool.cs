using ChatHub.LoadTests.Net;
using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Scenarios.Connections;

/// <summary>Idle connections held by this process (at most ~19,900: the per-process open-file limit).</summary>
internal sealed class LocalConnectionPool : IConnectionPool
{
    private readonly ConnectionPlan _plan;
    private readonly IChatConnector _connector;
    private readonly List<IChatConnection> _open = [];
    private readonly IdleSink _sink;
    private int _next;
    private int _dropped;
    private string? _lastDrop;
    private volatile bool _disposing;

    public LocalConnectionPool(ConnectionPlan plan, int firstIndex = 0)
    {
        _plan = plan;
        _connector = ChatConnectors.ForMessaging(TargetKinds.Parse(plan.Kind), plan.Urls.Select(u => new Uri(u)));
        _next = firstIndex;
        _sink = new IdleSink(this);
    }

    public Task<BatchResult> AddAsync(int count, CancellationToken ct)
    {
        int first = _next;
        _next += count;
        return AddRangeAsync(first, count, ct);
    }

    /// <summary>Opens connections number <paramref name="first"/> .. first+count-1 of the plan.</summary>
    public async Task<BatchResult> AddRangeAsync(int first, int count, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        TimeSpan cpuAtStart = Environment.CpuUsage.TotalTime;
        int opened = 0, failed = 0;
        var errors = new HashSet<string>();
        var timeout = TimeSpan.FromMilliseconds(_plan.ConnectTimeoutMs);
        await Parallel.ForEachAsync(
            Enumerable.Range(first, count),
            new ParallelOptions { MaxDegreeOfParallelism = _plan.Concurrency, CancellationToken = ct },
            async (index, token) =>
            {
                try
                {
                    // A small first buffer: idle members mostly get presence lines; it grows if a frame is bigger.
                    IChatConnection connection = await _connector.OpenAsync(_plan.BaseUrlFor(index), [_plan.RoomFor(index)], _plan.SourceFor(index), timeout, _sink, 512, token).ConfigureAwait(false);
                    lock (_open)
                    {
                        _open.Add(connection);
                    }
                    Interlocked.Increment(ref opened);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    Interlocked.Increment(ref failed);
                    lock (errors)
                    {
                        if (errors.Count < 5)
                        {
                            errors.Add(Describe(ex));
                        }
                    }
                }
            }).ConfigureAwait(false);
        int held;
        lock (_open)
        {
            held = _open.Count;
        }
        var result = new BatchResult
        {
            Opened = opened,
            Failed = failed,
            Dropped = Volatile.Read(ref _dropped),
            Held = held - Volatile.Read(ref _dropped),
            Seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
            GeneratorCpuSeconds = (Environment.CpuUsage.TotalTime - cpuAtStart).TotalSeconds,
            Errors = errors.ToList(),
        };
        if (_lastDrop is string drop)
        {
            result.Errors.Add("dropped: " + drop);
        }
        return result;
    }

    internal void OnDropped(System.Net.WebSockets.WebSocketCloseStatus? status, string? reason)
    {
        if (!_disposing)
        {
            Interlocked.Increment(ref _dropped);
            _lastDrop = $"{(status is null ? "no close frame" : ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture))} {reason}";
        }
    }

    private static string Describe(Exception ex)
    {
        // The innermost message names the real cause (EMFILE, EADDRNOTAVAIL, connection refused, ...).
        Exception inner = ex;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }
        return inner == ex ? $"{ex.GetType().Name}: {ex.Message}" : $"{ex.GetType().Name}: {ex.Message} <- {inner.GetType().Name}: {inner.Message}";
    }

    public async ValueTask DisposeAsync()
    {
        _disposing = true;
        IChatConnection[] open;
        lock (_open)
        {
            open = _open.ToArray();
            _open.Clear();
        }
        // In parallel: a SignalR client's dispose waits for its stop to finish, one after another would take minutes at 10k.
        await Parallel.ForEachAsync(open, new ParallelOptions { MaxDegreeOfParallelism = 64 }, (connection, _) => connection.DisposeAsync()).ConfigureAwait(false);
        _connector.Dispose();
    }
}
