namespace ChatHub.Server.Connections;

/// <summary>
/// The marking half of <see cref="IBatchingTransport"/>, shared by both batching streams: the write loop marks
/// its next frame, and the stream asks, for each write it gets, which kind of write it is.
/// </summary>
internal abstract class BurstMarkingStream : DuplexStream, IBatchingTransport
{
    /// <summary>FIN and the text opcode: the first byte of every frame the write loop sends.</summary>
    private const byte CompleteTextFrame = 0x81;

    private bool _marked;
    private bool _lastOfBurst;

    protected enum WriteKind
    {
        /// <summary>Not the write loop's: a pong, keep-alive or close frame the WebSocket sends on its own.</summary>
        Unmarked,

        /// <summary>A frame of a burst with more to come: hold it back.</summary>
        MidBurst,

        /// <summary>The last frame of a burst: send everything now.</summary>
        EndOfBurst,
    }

    public void CaptureNextWrite(bool last)
    {
        _marked = true;
        _lastOfBurst = last;
    }

    /// <summary>
    /// What the write now being made is; a marked frame consumes the mark. The mark is set before the write loop's
    /// send takes the WebSocket's send lock, so a frame the WebSocket sends on its own can still come first (the
    /// close it sends when the peer broke the protocol, a pong): such a write is told by its first byte, which is
    /// never a complete text frame's (0x81, the only frame the write loop sends), and leaves the mark for the frame it
    /// was meant for. Were it taken as part of the burst, it would wait for a write that may never come.
    /// </summary>
    protected WriteKind TakeWriteKind(ReadOnlySpan<byte> write)
    {
        if (!_marked || write.IsEmpty || write[0] != CompleteTextFrame)
        {
            return WriteKind.Unmarked;
        }

        _marked = false;
        return _lastOfBurst ? WriteKind.EndOfBurst : WriteKind.MidBurst;
    }
}
