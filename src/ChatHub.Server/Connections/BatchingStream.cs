namespace ChatHub.Server.Connections;

/// <summary>
/// Batching over any stream (the HTTP path: Kestrel's upgraded request stream, where every write is a flush):
/// the frames of a burst are gathered in a pooled buffer and written once. See <see cref="IBatchingTransport"/>.
/// </summary>
internal sealed class BatchingStream(Stream inner) : BurstMarkingStream
{
    /// <summary>Gathered bytes are sent once they pass this, even mid-burst, so a burst never grows a huge buffer.</summary>
    private const int MaxGatheredBytes = 64 * 1024;

    private byte[]? _gathered;
    private int _gatheredLength;
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var kind = TakeWriteKind();
        if (kind != WriteKind.Unmarked)
        {
            Gather(buffer.Span);
            if (kind == WriteKind.EndOfBurst || _gatheredLength >= MaxGatheredBytes)
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

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

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

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
