namespace ChatHub.Server.Connections;

/// <summary>
/// The marking half of <see cref="IBatchingTransport"/>, shared by both batching streams: the write loop marks
/// its next frame, and the stream asks, for each write it gets, which kind of write it is.
/// </summary>
internal abstract class BurstMarkingStream : DuplexStream, IBatchingTransport
{
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

    /// <summary>What the write now being made is; consumes the mark.</summary>
    protected WriteKind TakeWriteKind()
    {
        if (!_marked)
        {
            return WriteKind.Unmarked;
        }

        _marked = false;
        return _lastOfBurst ? WriteKind.EndOfBurst : WriteKind.MidBurst;
    }
}
