namespace ChatHub.Server.Connections;

/// <summary>
/// A connection's outbox: a FIFO of encoded frames bounded in frames and in bytes, with many writers (rooms, DMs,
/// the read loop's replies) and one drain that exists only while there is something to send. The writer that
/// finds the outbox idle is told to start the drain; the drain, finding it empty, goes idle under the same lock,
/// so a frame queued while a drain ends is never stranded. An idle connection holds no suspended write loop, no
/// channel and no waiter objects: this and a small queue.
/// </summary>
internal sealed class Outbox(int capacity, long maxBytes)
{
    /// <summary>A drained queue whose array grew past this gives it back, so a burst does not stay in memory.</summary>
    private const int KeptCapacity = 16;

    // Also the lock: one object fewer per connection than a separate Lock. Empty, it holds no array.
    private readonly Queue<OutboxFrame> _frames = new();
    private long _bytes; // queued plus the frame in the drain's hands: the second bound
    private bool _draining;
    private bool _completed;
    private int _holds; // while above zero, a frame that finds the outbox idle does not start the drain
    private bool _owed; // _draining was set by a frame that came while held: no drain runs yet, one is owed

    /// <summary>Frames waiting (not counting the one being sent). A racy read, for the outbox-depth gauge.</summary>
    public int Count => _frames.Count;

    /// <summary>
    /// Queues a frame. <see cref="EnqueueResult.StartDrain"/>: the caller must start the drain (nobody else will).
    /// A frame that finds the outbox empty is always taken, however large (a <c>joined</c> with a full history can be
    /// larger than the byte bound by itself); beyond that the bytes queued stay under the bound.
    /// </summary>
    public EnqueueResult TryEnqueue(OutboxFrame frame)
    {
        lock (_frames)
        {
            if (_completed)
            {
                return EnqueueResult.Closed;
            }

            if (_frames.Count >= capacity || (_bytes != 0 && _bytes + frame.Bytes.Length > maxBytes))
            {
                return EnqueueResult.Full;
            }

            _frames.Enqueue(frame);
            _bytes += frame.Bytes.Length;
            if (_draining)
            {
                return EnqueueResult.Queued;
            }

            _draining = true;
            if (_holds > 0)
            {
                _owed = true;
                return EnqueueResult.Queued;
            }

            return EnqueueResult.StartDrain;
        }
    }

    /// <summary>
    /// Holds the drain back: frames queue, but none starts the drain until every hold is released, so they leave
    /// together in one transport write. A drain already running is not held.
    /// </summary>
    public void Hold()
    {
        lock (_frames)
        {
            _holds++;
        }
    }

    /// <summary>Releases one <see cref="Hold"/>. True when the caller must start the drain: a frame came meanwhile.</summary>
    public bool Release()
    {
        lock (_frames)
        {
            if (--_holds > 0 || !_owed)
            {
                return false;
            }

            _owed = false;
            return true;
        }
    }

    /// <summary>
    /// No frame is taken after this. True when the caller must start the drain (to send the close frame): no drain
    /// was running.
    /// </summary>
    public bool Complete()
    {
        lock (_frames)
        {
            _completed = true;
            if (_owed)
            {
                // A close does not wait for holds: what is queued goes now, then the close frame.
                _owed = false;
                return true;
            }

            if (_draining)
            {
                return false;
            }

            _draining = true;
            return true;
        }
    }

    /// <summary>
    /// The drain's next step. <paramref name="sentBytes"/> are the bytes of the frame it sent last (0 at the
    /// start), released now. Returns <see cref="DrainStep.Frame"/> with the next frame (<paramref name="last"/>:
    /// nothing queued behind it right now), <see cref="DrainStep.Idle"/> when the outbox is empty (the drain is
    /// over; the next frame starts another), or <see cref="DrainStep.Close"/> when it is empty and completed (the
    /// drain sends the close frame and ends).
    /// </summary>
    public DrainStep TakeNext(int sentBytes, out OutboxFrame frame, out bool last)
    {
        lock (_frames)
        {
            _bytes -= sentBytes;
            if (_frames.TryDequeue(out frame))
            {
                last = _frames.Count == 0;
                return DrainStep.Frame;
            }

            last = true;
            if (_completed)
            {
                return DrainStep.Close;
            }

            if (_frames.EnsureCapacity(0) > KeptCapacity)
            {
                _frames.TrimExcess();
            }

            _draining = false;
            return DrainStep.Idle;
        }
    }
}

/// <summary>An outbox entry: the encoded frame and, for a chat message, when it was committed.</summary>
internal readonly record struct OutboxFrame(byte[] Bytes, long CommittedAt);

internal enum EnqueueResult
{
    /// <summary>Queued; a drain is already running and will send it.</summary>
    Queued,

    /// <summary>Queued, and the outbox was idle: the caller starts the drain.</summary>
    StartDrain,

    /// <summary>Refused: over the frame or byte bound.</summary>
    Full,

    /// <summary>Refused: the connection is closing.</summary>
    Closed,
}

internal enum DrainStep
{
    Frame,
    Idle,
    Close,
}
