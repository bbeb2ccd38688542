using System.Diagnostics;
using ChatHub.LoadTests.Measurement;

namespace ChatHub.LoadTests.Scenarios.Chat;

/// <summary>
/// One timing thread for every sender of an open-loop run. Each sender sends at <c>first + k × interval</c> until
/// <c>end</c>; the thread sleeps precisely (<see cref="PreciseWait"/>) until the next due send and starts it itself.
/// A <see cref="Task.Delay(TimeSpan)"/> per sender instead armed thousands of timers that fire on whole
/// milliseconds and then waited for a thread-pool thread, so the generator sent about a millisecond late at the
/// median, which the open-loop latency (counted from the schedule) charged to the server.
/// </summary>
/// <remarks>
/// A sender has at most one send in flight: a send due while the previous one has not completed is started
/// after it, so each connection's messages leave in schedule order (and a client that allows one send at a
/// time, such as <see cref="System.Net.WebSockets.ClientWebSocket"/>, is never asked for two). A sender whose
/// send throws is reported once and sends no more; the others go on.
/// </remarks>
internal sealed class SendScheduler
{
    private readonly long _interval;
    private readonly long _end;
    private readonly PriorityQueue<Sender, long> _due = new();
    private readonly List<Sender> _senders = [];

    /// <param name="interval">Stopwatch ticks between two sends of one sender.</param>
    /// <param name="end">Stopwatch timestamp: no send is scheduled at or after it.</param>
    public SendScheduler(long interval, long end)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(interval);
        _interval = interval;
        _end = end;
    }

    /// <summary>Called on the timing thread as each send starts: its scheduled and its actual start timestamp.</summary>
    public Action<long, long>? SendStarting { get; init; }

    /// <summary>
    /// Adds a sender whose first send is due at <paramref name="first"/>. <paramref name="send"/> gets the scheduled
    /// timestamp; <paramref name="sent"/> runs when a send completed; <paramref name="failed"/> once, when one threw.
    /// </summary>
    public void Add(long first, Func<long, ValueTask> send, Action sent, Action<Exception> failed)
    {
        var sender = new Sender(send, sent, failed);
        _senders.Add(sender);
        if (first < _end)
        {
            _due.Enqueue(sender, first);
        }
    }

    /// <summary>
    /// Runs the schedule on a thread of its own; completes when no send is due any more and every send started has
    /// completed or failed. Cancelling stops the schedule (the task is then cancelled).
    /// </summary>
    public Task RunAsync(CancellationToken ct)
    {
        var scheduled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Loop(ct);
                scheduled.TrySetResult();
            }
            catch (OperationCanceledException ex)
            {
                scheduled.TrySetCanceled(ex.CancellationToken);
            }
            catch (Exception ex)
            {
                scheduled.TrySetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "send scheduler",
        };
        thread.Start();
        return WhenAllSentAsync(scheduled.Task);
    }

    private async Task WhenAllSentAsync(Task scheduled)
    {
        await scheduled.ConfigureAwait(false);
        // Only the timing thread, now ended, assigned InFlight: reading it here is safe.
        await Task.WhenAll(_senders.Select(s => s.InFlight)).ConfigureAwait(false);
    }

    private void Loop(CancellationToken ct)
    {
        while (_due.TryPeek(out Sender? sender, out long due))
        {
            PreciseWait.Until(due, ct);
            _due.Dequeue();
            if (sender.Failed)
            {
                continue;
            }
            sender.InFlight = sender.InFlight.IsCompleted ? Start(sender, due) : StartAfterAsync(sender, due);
            long next = due + _interval;
            if (next < _end)
            {
                _due.Enqueue(sender, next);
            }
        }
    }

    private async Task StartAfterAsync(Sender sender, long scheduled)
    {
        await sender.InFlight.ConfigureAwait(false);
        if (!sender.Failed)
        {
            await Start(sender, scheduled).ConfigureAwait(false);
        }
    }

    private Task Start(Sender sender, long scheduled)
    {
        SendStarting?.Invoke(scheduled, Stopwatch.GetTimestamp());
        try
        {
            ValueTask send = sender.Send(scheduled);
            if (send.IsCompleted)
            {
                // The common case on loopback: the socket took the frame at once. GetResult also releases a pooled source.
                send.GetAwaiter().GetResult();
                sender.Sent();
                return Task.CompletedTask;
            }
            return AwaitSendAsync(sender, send);
        }
        catch (Exception ex)
        {
            sender.Fail(ex);
            return Task.CompletedTask;
        }
    }

    private static async Task AwaitSendAsync(Sender sender, ValueTask send)
    {
        try
        {
            await send.ConfigureAwait(false);
            sender.Sent();
        }
        catch (Exception ex)
        {
            sender.Fail(ex);
        }
    }

    private sealed class Sender(Func<long, ValueTask> send, Action sent, Action<Exception> failed)
    {
        private int _failed;

        public Func<long, ValueTask> Send { get; } = send;

        public Action Sent { get; } = sent;

        public Task InFlight { get; set; } = Task.CompletedTask;

        public bool Failed => Volatile.Read(ref _failed) != 0;

        public void Fail(Exception ex)
        {
            if (Interlocked.Exchange(ref _failed, 1) == 0)
            {
                failed(ex);
            }
        }
    }
}
