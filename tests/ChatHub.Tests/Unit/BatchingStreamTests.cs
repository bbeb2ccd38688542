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
        await stream.WriteAsync(new byte[] { 1, 2 });
        stream.CaptureNextWrite(last: false);
        await stream.WriteAsync(new byte[] { 3 });
        Assert.Empty(transport.Writes);

        stream.CaptureNextWrite(last: true);
        await stream.WriteAsync(new byte[] { 4, 5 });
        Assert.Equal([new byte[] { 1, 2, 3, 4, 5 }], transport.Writes);
    }

    [Fact]
    public async Task Uncaptured_writes_go_out_at_once_behind_what_was_gathered()
    {
        var transport = new RecordingStream();
        var stream = new BatchingStream(transport);
        await stream.WriteAsync(new byte[] { 9 }); // e.g. a pong while nothing is gathered
        Assert.Equal([new byte[] { 9 }], transport.Writes);

        stream.CaptureNextWrite(last: false);
        await stream.WriteAsync(new byte[] { 1 });
        await stream.WriteAsync(new byte[] { 0x88, 0 }); // e.g. a close frame mid-burst: order kept, nothing left behind
        Assert.Equal([new byte[] { 9 }, new byte[] { 1, 0x88, 0 }], transport.Writes);
    }

    [Fact]
    public async Task A_long_burst_is_sent_in_bounded_pieces()
    {
        var transport = new RecordingStream();
        var stream = new BatchingStream(transport);
        var frame = new byte[10_000];
        for (int i = 0; i < 20; i++)
        {
            stream.CaptureNextWrite(last: i == 19);
            await stream.WriteAsync(frame);
        }

        Assert.Equal(200_000, transport.Writes.Sum(w => w.Length));
        Assert.True(transport.Writes.Count is > 1 and < 20, $"{transport.Writes.Count} transport writes");
    }
}
