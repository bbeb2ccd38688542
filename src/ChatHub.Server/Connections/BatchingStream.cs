namespace ChatHub.Server.Connections;

/// <summary>
/// Sits between a <see cref="System.Net.WebSockets.WebSocket"/> and the transport so that a burst of frames
/// leaves in one transport write (one flush, one syscall) instead of one per frame.
///
/// The WebSocket writes each frame with exactly one <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
/// and serializes its writes (its send lock), so this stream is never written concurrently. The write loop
/// marks its own frames with <see cref="CaptureNextWrite"/>: they are gathered, and the one marked as the last of
/// the burst sends the gathered bytes. Writes the WebSocket makes on its own (pongs, keep-alive pings, close frames)
/// are not captured and go out at once, behind whatever was gathered before them, so nothing waits for a flush.
/// </summary>
internal sealed class BatchingStream(Stream inner) : Stream
{
    /// <summary>Gathered bytes are sent once they pass this, even mid-burst, so a burst never grows a huge buffer.</summary>
    private const int MaxGatheredBytes = 64 * 1024;

    private byte[]? _gathered;
    private int _gatheredLength;
    private bool _captureNext;
    private bool _sendAfterCapture;

    /// <summary>The next write is one of the write loop's frames; <paramref name="last"/> sends the burst with it.</summary>
    public void CaptureNextWrite(bool last)
    {
        _captureNext = true;
        _sendAfterCapture = last;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_captureNext)
        {
            _captureNext = false;
            Gather(buffer.Span);
            if (_sendAfterCapture || _gatheredLength >= MaxGatheredBytes)
            {
                await SendGatheredAsync(cancellationToken);
            }

            return;
        }

        if (_gatheredLength > 0)
        {
            Gather(buffer.Span);
            await SendGatheredAsync(cancellationToken);
            return;
        }

        await inner.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    private void Gather(ReadOnlySpan<byte> bytes)
    {
        int needed = _gatheredLength + bytes.Length;
        if (_gathered is null || _gathered.Length < needed)
        {
            var larger = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
            if (_gathered is not null)
            {
                _gathered.AsSpan(0, _gatheredLength).CopyTo(larger);
                System.Buffers.ArrayPool<byte>.Shared.Return(_gathered);
            }

            _gathered = larger;
        }

        bytes.CopyTo(_gathered.AsSpan(_gatheredLength));
        _gatheredLength = needed;
    }

    private async ValueTask SendGatheredAsync(CancellationToken cancellationToken)
    {
        var gathered = _gathered!;
        int length = _gatheredLength;
        _gathered = null;
        _gatheredLength = 0;
        try
        {
            await inner.WriteAsync(gathered.AsMemory(0, length), cancellationToken);
        }
        finally
        {
            // An idle connection holds no write buffer.
            System.Buffers.ArrayPool<byte>.Shared.Return(gathered);
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
