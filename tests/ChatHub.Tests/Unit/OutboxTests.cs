using ChatHub.Server.Connections;

namespace ChatHub.Tests.Unit;

/// <summary>
/// The outbox whose drain exists only while there is something to send: exactly one caller is told to start it,
/// it goes idle only when nothing is queued, and the bounds hold.
/// </summary>
public sealed class OutboxTests
{
    private static OutboxFrame Frame(int length, long tag = 0) => new(new byte[length], tag);

    [Fact]
    public void Only_the_frame_that_finds_it_idle_starts_the_drain()
    {
        var outbox = new Outbox(capacity: 8, maxBytes: 1 << 20);
        Assert.Equal(EnqueueResult.StartDrain, outbox.TryEnqueue(Frame(10)));
        Assert.Equal(EnqueueResult.Queued, outbox.TryEnqueue(Frame(10)));
        Assert.Equal(2, outbox.Count);

        Assert.Equal(DrainStep.Frame, outbox.TakeNext(0, out _, out bool last));
        Assert.False(last);
        Assert.Equal(DrainStep.Frame, outbox.TakeNext(10, out _, out last));
        Assert.True(last);
        // A frame queued while the drain sends the last one is picked up by the same drain, not stranded.
        Assert.Equal(EnqueueResult.Queued, outbox.TryEnqueue(Frame(10)));
        Assert.Equal(DrainStep.Frame, outbox.TakeNext(10, out _, out _));
        Assert.Equal(DrainStep.Idle, outbox.TakeNext(10, out _, out _));

        // Idle again: the next frame starts the next drain.
        Assert.Equal(EnqueueResult.StartDrain, outbox.TryEnqueue(Frame(10)));
    }

    [Fact]
    public void Frames_and_bytes_are_bounded_and_a_lone_large_frame_is_taken()
    {
        var outbox = new Outbox(capacity: 2, maxBytes: 100);
        Assert.Equal(EnqueueResult.StartDrain, outbox.TryEnqueue(Frame(500))); // alone: taken however large
        Assert.Equal(EnqueueResult.Full, outbox.TryEnqueue(Frame(1)));

        Assert.Equal(DrainStep.Frame, outbox.TakeNext(0, out _, out _));
        // The frame in the drain's hands still counts against the bytes until it is sent.
        Assert.Equal(EnqueueResult.Full, outbox.TryEnqueue(Frame(1)));
        Assert.Equal(DrainStep.Idle, outbox.TakeNext(500, out _, out _));

        Assert.Equal(EnqueueResult.StartDrain, outbox.TryEnqueue(Frame(60)));
        Assert.Equal(EnqueueResult.Queued, outbox.TryEnqueue(Frame(40)));
        Assert.Equal(EnqueueResult.Full, outbox.TryEnqueue(Frame(1))); // third frame: over the frame bound
    }

    [Fact]
    public void Complete_sends_the_close_after_what_is_queued_and_refuses_more()
    {
        var outbox = new Outbox(capacity: 8, maxBytes: 1 << 20);
        Assert.Equal(EnqueueResult.StartDrain, outbox.TryEnqueue(Frame(10)));
        Assert.False(outbox.Complete()); // a drain is running: it sends the close
        Assert.Equal(EnqueueResult.Closed, outbox.TryEnqueue(Frame(10)));
        Assert.Equal(DrainStep.Frame, outbox.TakeNext(0, out _, out _));
        Assert.Equal(DrainStep.Close, outbox.TakeNext(10, out _, out _));
    }

    [Fact]
    public void Complete_while_idle_starts_a_drain_for_the_close()
    {
        var outbox = new Outbox(capacity: 8, maxBytes: 1 << 20);
        Assert.True(outbox.Complete());
        Assert.False(outbox.Complete());
        Assert.Equal(DrainStep.Close, outbox.TakeNext(0, out _, out _));
        Assert.Equal(EnqueueResult.Closed, outbox.TryEnqueue(Frame(1)));
    }

    [Fact]
    public void Held_frames_start_no_drain_until_the_last_hold_is_released()
    {
        var outbox = new Outbox(capacity: 8, maxBytes: 1 << 20);
        outbox.Hold();
        outbox.Hold();
        Assert.Equal(EnqueueResult.Queued, outbox.TryEnqueue(Frame(10))); // idle, but held: nobody starts the drain
        Assert.Equal(EnqueueResult.Queued, outbox.TryEnqueue(Frame(10)));
        Assert.False(outbox.Release()); // one hold is left
        Assert.Equal(EnqueueResult.Queued, outbox.TryEnqueue(Frame(10)));
        Assert.True(outbox.Release()); // the last: the caller starts the one drain, which finds all three
        Assert.Equal(DrainStep.Frame, outbox.TakeNext(0, out _, out bool last));
        Assert.False(last);
        Assert.Equal(DrainStep.Frame, outbox.TakeNext(10, out _, out _));
        Assert.Equal(DrainStep.Frame, outbox.TakeNext(10, out _, out last));
        Assert.True(last);
        Assert.Equal(DrainStep.Idle, outbox.TakeNext(10, out _, out _));
        Assert.Equal(EnqueueResult.StartDrain, outbox.TryEnqueue(Frame(10))); // no hold left
    }

    [Fact]
    public void A_hold_with_nothing_queued_owes_no_drain_and_does_not_hold_a_running_one()
    {
        var outbox = new Outbox(capacity: 8, maxBytes: 1 << 20);
        outbox.Hold();
        Assert.False(outbox.Release());
        Assert.Equal(EnqueueResult.StartDrain, outbox.TryEnqueue(Frame(10)));

        outbox.Hold(); // a drain runs already: it goes on sending what comes
        Assert.Equal(EnqueueResult.Queued, outbox.TryEnqueue(Frame(10)));
        Assert.Equal(DrainStep.Frame, outbox.TakeNext(0, out _, out _));
        Assert.Equal(DrainStep.Frame, outbox.TakeNext(10, out _, out _));
        Assert.Equal(DrainStep.Idle, outbox.TakeNext(10, out _, out _));
        Assert.False(outbox.Release());
    }

    [Fact]
    public void A_close_does_not_wait_for_a_hold()
    {
        var outbox = new Outbox(capacity: 8, maxBytes: 1 << 20);
        outbox.Hold();
        Assert.Equal(EnqueueResult.Queued, outbox.TryEnqueue(Frame(10)));
        Assert.True(outbox.Complete()); // held frames and the close go now
        Assert.False(outbox.Release()); // the drain is started already
        Assert.Equal(DrainStep.Frame, outbox.TakeNext(0, out _, out _));
        Assert.Equal(DrainStep.Close, outbox.TakeNext(10, out _, out _));
    }

    /// <summary>
    /// Writers race drains that keep ending: every frame is sent exactly once, in each writer's order, never by two
    /// drains at once, and nothing is left queued when the last drain went idle.
    /// </summary>
    [Fact]
    public async Task Under_racing_writers_no_frame_is_stranded_or_sent_twice()
    {
        const int writers = 4;
        const int perWriter = 20_000;
        var outbox = new Outbox(capacity: 1_000_000, maxBytes: long.MaxValue);
        var received = new List<long>[writers];
        for (int w = 0; w < writers; w++)
        {
            received[w] = [];
        }

        int running = 0;
        int overlaps = 0;
        var drains = new System.Collections.Concurrent.ConcurrentBag<Task>();

        void Drain()
        {
            if (Interlocked.Increment(ref running) != 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            int sent = 0;
            while (outbox.TakeNext(sent, out var frame, out _) == DrainStep.Frame)
            {
                int writer = (int)(frame.CommittedAt >> 32);
                received[writer].Add(frame.CommittedAt & 0xFFFFFFFF);
                sent = frame.Bytes.Length;
                Interlocked.Decrement(ref running); // between frames, as a drain does while it awaits a send
                Thread.Yield();
                if (Interlocked.Increment(ref running) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }
            }

            Interlocked.Decrement(ref running);
        }

        var frameBytes = new byte[1];
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() =>
        {
            for (long i = 0; i < perWriter; i++)
            {
                if (outbox.TryEnqueue(new OutboxFrame(frameBytes, ((long)w << 32) | i)) == EnqueueResult.StartDrain)
                {
                    drains.Add(Task.Run(Drain));
                }
            }
        })));

        // Every drain started has ended (Idle): if one had left a frame behind, nobody would ever send it.
        while (drains.Any(d => !d.IsCompleted))
        {
            await Task.WhenAll(drains.ToArray());
        }

        Assert.Equal(0, overlaps);
        Assert.Equal(0, outbox.Count);
        for (int w = 0; w < writers; w++)
        {
            Assert.Equal(Enumerable.Range(0, perWriter).Select(i => (long)i), received[w]);
        }

        Assert.Equal(EnqueueResult.StartDrain, outbox.TryEnqueue(Frame(1)));
    }
}
