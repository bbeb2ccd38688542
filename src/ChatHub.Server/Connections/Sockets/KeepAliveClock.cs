using System.Buffers;
using ChatHub.Server.Configuration;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Connections.Sockets;

/// <summary>
/// One timer for every <see cref="SocketWebSocket"/> of the server (a timer per socket would cost each idle
/// connection ~240 bytes): each tick it finds the sockets whose ping or pong is due, or whose pong is overdue, and
/// lets each act. Sockets join and leave an intrusive list under a lock, O(1) and without allocating; the tick only
/// collects the due ones under that lock and acts on them outside it, so a tick over many sockets never holds up a
/// connection being accepted or closed. The timer runs only while a socket is registered.
/// </summary>
internal sealed class KeepAliveClock : IDisposable
{
    private readonly Lock _lock = new();
    private readonly TimeSpan _period;
    private SocketWebSocket? _head;
    private int _count;
    private Timer? _timer;
    private int _ticking;
    private bool _disposed;

    /// <summary>Ticks every <paramref name="period"/>: the finest a keep-alive interval or timeout is kept to.</summary>
    public KeepAliveClock(TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        _period = period;
    }

    /// <summary>
    /// The server's: a quarter of the shorter of <c>Connections:KeepAliveInterval</c> and
    /// <c>Connections:KeepAliveTimeout</c> (as .NET's WebSocket checks its ping), at most a second and at least 10 ms.
    /// </summary>
    public KeepAliveClock(IOptions<ChatHubOptions> options)
        : this(PeriodFor(options.Value.Connections))
    {
    }

    /// <summary>Sockets registered now (for tests and diagnostics).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    internal static TimeSpan PeriodFor(ConnectionOptions connections)
    {
        var shortest = connections.KeepAliveInterval;
        if (connections.KeepAliveTimeout > TimeSpan.Zero && connections.KeepAliveTimeout < shortest)
        {
            shortest = connections.KeepAliveTimeout;
        }

        var quarter = shortest / 4;
        return quarter > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1)
            : quarter < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10)
            : quarter;
    }

    internal void Register(SocketWebSocket socket)
    {
        lock (_lock)
        {
            if (socket.KeepAliveRegistered || _disposed)
            {
                return;
            }

            socket.KeepAliveRegistered = true;
            socket.KeepAliveNext = _head;
            if (_head is not null)
            {
                _head.KeepAlivePrevious = socket;
            }

            _head = socket;
            // The timer runs only while some socket is registered: a server without any costs no ticks.
            if (++_count == 1)
            {
                _timer ??= new Timer(static s => ((KeepAliveClock)s!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _timer.Change(_period, _period);
            }
        }
    }

    /// <summary>Idempotent: every way a socket ends calls it, and a removed socket is no longer referenced.</summary>
    internal void Unregister(SocketWebSocket socket)
    {
        lock (_lock)
        {
            if (!socket.KeepAliveRegistered)
            {
                return;
            }

            socket.KeepAliveRegistered = false;
            if (socket.KeepAlivePrevious is not null)
            {
                socket.KeepAlivePrevious.KeepAliveNext = socket.KeepAliveNext;
            }
            else
            {
                _head = socket.KeepAliveNext;
            }

            if (socket.KeepAliveNext is not null)
            {
                socket.KeepAliveNext.KeepAlivePrevious = socket.KeepAlivePrevious;
            }

            socket.KeepAliveNext = null;
            socket.KeepAlivePrevious = null;
            if (--_count == 0)
            {
                _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>One tick: the timer's callback (internal so that its cost can be measured alone).</summary>
    internal void Tick()
    {
        // A tick that overruns the period is not overlapped by the next one.
        if (Interlocked.Exchange(ref _ticking, 1) != 0)
        {
            return;
        }

        SocketWebSocket[]? due = null;
        int dueCount = 0;
        try
        {
            long now = Environment.TickCount64;
            lock (_lock)
            {
                for (var socket = _head; socket is not null; socket = socket.KeepAliveNext)
                {
                    if (socket.IsKeepAliveDue(now))
                    {
                        if (due is null || dueCount == due.Length)
                        {
                            var larger = ArrayPool<SocketWebSocket>.Shared.Rent(Math.Max(16, dueCount * 2));
                            due?.AsSpan(0, dueCount).CopyTo(larger);
                            if (due is not null)
                            {
                                ArrayPool<SocketWebSocket>.Shared.Return(due, clearArray: true);
                            }

                            due = larger;
                        }

                        due[dueCount++] = socket;
                    }
                }
            }

            for (int i = 0; i < dueCount; i++)
            {
                due![i].OnKeepAliveTick(now);
            }
        }
        finally
        {
            if (due is not null)
            {
                ArrayPool<SocketWebSocket>.Shared.Return(due, clearArray: true);
            }

            Volatile.Write(ref _ticking, 0);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer?.Dispose();
            _timer = null;
        }
    }
}
