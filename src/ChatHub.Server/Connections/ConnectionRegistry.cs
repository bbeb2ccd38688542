using System.Collections.Concurrent;
using ChatHub.Server.Observability;

namespace ChatHub.Server.Connections;

/// <summary>Every open connection, for the shared timers and for the graceful shutdown.</summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<long, ChatConnection> _connections = new();
    private readonly Lock _emptyGate = new();
    private TaskCompletionSource? _emptied;
    private long _nextId;
    private int _highWater; // the most open at once since the last TakeHighWater

    public ConnectionRegistry(ChatMetrics metrics) => metrics.ObserveOutboxes(MaxQueuedFrames);

    public long NextId() => Interlocked.Increment(ref _nextId);

    public int Count => _connections.Count;

    /// <summary>
    /// A live walk, no snapshot: connections added or removed meanwhile may or may not be seen. (The dictionary's
    /// <c>Values</c> would copy every connection into a fresh array, a large-object-heap allocation per call at
    /// 20,000 connections, and the rate-limit timer walks them ten times a second.)
    /// </summary>
    public IEnumerable<ChatConnection> All
    {
        get
        {
            foreach (var pair in _connections)
            {
                yield return pair.Value;
            }
        }
    }

    /// <summary>The deepest outbox right now; a walk over every connection, done only when metrics are scraped.</summary>
    public int MaxQueuedFrames()
    {
        int max = 0;
        foreach (var connection in All)
        {
            max = Math.Max(max, connection.QueuedFrames);
        }

        return max;
    }

    public void Add(ChatConnection connection)
    {
        _connections[connection.Id] = connection;
        int count = _connections.Count;
        for (int seen = Volatile.Read(ref _highWater); count > seen; seen = Volatile.Read(ref _highWater))
        {
            if (Interlocked.CompareExchange(ref _highWater, count, seen) == seen)
            {
                break;
            }
        }
    }

    /// <summary>The most connections open at once since the last call (at least those open now); starts over from now.</summary>
    public int TakeHighWater()
    {
        int now = _connections.Count;
        return Math.Max(now, Interlocked.Exchange(ref _highWater, now));
    }

    public void Remove(ChatConnection connection)
    {
        _connections.TryRemove(connection.Id, out _);
        lock (_emptyGate)
        {
            if (_connections.IsEmpty)
            {
                _emptied?.TrySetResult();
                _emptied = null;
            }
        }
    }

    /// <summary>Completes when no connection is left (at once if none is open).</summary>
    public Task WhenEmpty()
    {
        lock (_emptyGate)
        {
            if (_connections.IsEmpty)
            {
                return Task.CompletedTask;
            }

            _emptied ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _emptied.Task;
        }
    }
}
