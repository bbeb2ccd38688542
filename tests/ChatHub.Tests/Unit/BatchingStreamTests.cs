using ChatHub.Server.Connections;

namespace ChatHub.Tests.Unit;

/// <summary>The write-batching layer under each WebSocket: gathered writes leave in one transport write.</summary>
public sealed class BatchingStreamTests
{
    /// <summary>Records each write that reaches the transport.</summary>
    private sealed class RecordingStream : MemoryStream
    {
        public List<byte[]> Writes { get; } = [];

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes.Add(buffer.ToArray());
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task Captured_frames_leave_together_with_the_last_one()
    {
        var transport = new RecordingStream();
        var stream = new BatchingStream(transport);
        stream.CaptureNextWrite(last: false);
        await stream.WriteAsync(new byte[] { 0x81, 1, 2 });
        stream.CaptureNextWrite(last: false);
        await stream.WriteAsync(new byte[] { 0x81, 0, });
        Assert.Empty(transport.Writes);

        stream.CaptureNextWrite(last: true);
        await stream.WriteAsync(new byte[] { 0x81, 1, 5 });
        Assert.Equal([new byte[] { 0x81, 1, 2, 0x81, 0, 0x81, 1, 5 }], transport.Writes);
    }

    [Fact]
    public async Task Uncaptured_writes_go_out_at_once_behind_what_was_gathered()
    {
        var transport = new RecordingStream();
        var stream = new BatchingStream(transport);
        await stream.WriteAsync(new byte[] { 9 }); // e.g. a pong while nothing is gathered
        Assert.Equal([new byte[] { 9 }], transport.Writes);

        stream.CaptureNextWrite(last: false);
        await stream.WriteAsync(new byte[] { 0x81, 0 });
        await stream.WriteAsync(new byte[] { 0x88, 0 }); // e.g. a close frame mid-burst: order kept, nothing left behind
        Assert.Equal([new byte[] { 9 }, new byte[] { 0x81, 0, 0x88, 0 }], transport.Writes);
    }

    [Fact]
    public async Task A_close_the_WebSocket_sends_between_the_mark_and_the_marked_frame_goes_out_at_once()
    {
        // The write loop marks its next frame, and before its send takes the WebSocket's lock the WebSocket closes
        // on its own (the peer broke the protocol): the close must not be gathered to wait for a frame that will
        // never be sent, and the mark stays for the frame it was meant for.
        var transport = new RecordingStream();
        var stream = new BatchingStream(transport);
        stream.CaptureNextWrite(last: false);
        await stream.WriteAsync(new byte[] { 0x88, 2, 0x03, 0xEF });
        Assert.Equal([new byte[] { 0x88, 2, 0x03, 0xEF }], transport.Writes);

        await stream.WriteAsync(new byte[] { 0x81, 1, 7 });
        Assert.Single(transport.Writes); // the mark was still there: a mid-burst frame waits for the rest

        stream.CaptureNextWrite(last: true);
        await stream.WriteAsync(new byte[] { 0x81, 1, 8 });
        Assert.Equal(new byte[] { 0x81, 1, 7, 0x81, 1, 8 }, transport.Writes[1]);
    }

    [Fact]
    public async Task A_long_burst_is_sent_in_bounded_pieces()
    {
        var transport = new RecordingStream();
        var stream = new BatchingStream(transport);
        var frame = new byte[10_000];
        frame[0] = 0x81;
        for (int i = 0; i < 20; i++)
        {
            stream.CaptureNextWrite(last: i == 19);
            await stream.WriteAsync(frame);
        }

        Assert.Equal(200_000, transport.Writes.Sum(w => w.Length));
        Assert.True(transport.Writes.Count is > 1 and < 20, $"{transport.Writes.Count} transport writes");
    }
}
