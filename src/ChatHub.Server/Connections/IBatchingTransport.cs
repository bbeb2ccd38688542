namespace ChatHub.Server.Connections;

/// <summary>
/// The stream under a connection's WebSocket, told which writes are the write loop's frames so that a burst
/// leaves in one flush. The WebSocket writes each frame with exactly one WriteAsync, under its send lock, so the
/// mark applies to exactly the frame sent next; writes the WebSocket makes on its own (pongs, pings, close) are
/// not marked and go out at once, behind whatever was gathered before them.
/// </summary>
internal interface IBatchingTransport
{
    /// <summary>The next write is one of the write loop's frames; <paramref name="last"/> sends the burst with it.</summary>
    void CaptureNextWrite(bool last);
}
