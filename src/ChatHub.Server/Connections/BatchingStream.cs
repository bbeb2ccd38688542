namespace ChatHub.Server.Connections;

/// <summary>
/// Batching over any stream (the HTTP path: Kestrel's upgraded request stream, where every write is a flush):
/// the frames of a burst are gathered in a pooled buffer and written once. See <see cref="IBatchingTransport"/>.
/// <paramref name="abortTransport"/> ends the connection under <paramref name="inner"/> (the HTTP path: the request's Abort).
/// </summary>
internal sealed class BatchingStream(Stream inner, Action? abortTransport = null) : BurstMarkingStream
{
    /// <summary>Gathered bytes are sent once they pass this, even mid-burst, so a burst never grows a huge buffer.</summary>
    private const int MaxGatheredBytes = 64 * 1024;

    private byte[]? _gathered;
    private int _gatheredLength;
    private int _reading;
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var kind = TakeWriteKind(buffer.Span);
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

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Volatile.Write(ref _reading, 1);
        try
        {
            return await inner.ReadAsync(buffer, cancellationToken);
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }

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
            // The WebSocket disposes its stream when it aborts itself (a keep-alive ping without a pong); a read
            // pending on the upgraded request would not notice, so the connection is aborted and the read loop ends.
            // After a normal close nothing is reading, and the connection ends as usual.
            if (Volatile.Read(ref _reading) != 0)
            {
                abortTransport?.Invoke();
            }

            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
