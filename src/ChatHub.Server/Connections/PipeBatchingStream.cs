using System.Buffers;
using System.IO.Pipelines;

namespace ChatHub.Server.Connections;

/// <summary>
/// The stream under a WebSocket accepted on the transport path: reads come from the connection's input pipe,
/// writes go straight into its output pipe, and the pipe is flushed once per burst (the last marked frame, or
/// any unmarked write) instead of once per frame. No copy and no buffer of our own. See <see cref="IBatchingTransport"/>.
/// </summary>
internal sealed class PipeBatchingStream(IDuplexPipe transport) : BurstMarkingStream
{
    /// <summary>Unflushed bytes are flushed past this even mid-burst, so a burst never piles up in the pipe.</summary>
    private const int MaxUnflushedBytes = 64 * 1024;

    private readonly Stream _input = transport.Input.AsStream(leaveOpen: true);
    private readonly PipeWriter _output = transport.Output;
    private int _unflushed;

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _output.Write(buffer.Span);
        _unflushed += buffer.Length;
        if (TakeWriteKind(buffer.Span) != WriteKind.MidBurst || _unflushed >= MaxUnflushedBytes)
        {
            _unflushed = 0;
            var result = await _output.FlushAsync(cancellationToken);
            if (result.IsCanceled || result.IsCompleted)
            {
                throw new IOException("the connection's output is closed");
            }
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _input.ReadAsync(buffer, cancellationToken);

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        _unflushed = 0;
        await _output.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// The WebSocket disposes its stream when it aborts itself (a keep-alive ping without a pong); a read pending
    /// on the pipe would not notice, so it is cancelled and the read loop ends.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            transport.Input.CancelPendingRead();
        }

        base.Dispose(disposing);
    }
}
