using System.Net.WebSockets;
using ChatHub.LoadTests.Protocol;

namespace ChatHub.LoadTests.Net;

/// <summary>What a scenario does with the frames one connection receives.</summary>
internal interface IFrameSink
{
    /// <param name="utf8">One complete text frame; only valid during the call.</param>
    /// <param name="receivedTimestamp"><see cref="System.Diagnostics.Stopwatch"/> ticks when the last fragment arrived.</param>
    void OnFrame(ReadOnlySpan<byte> utf8, long receivedTimestamp);

    /// <summary>
    /// One frame already decoded, or made up from another protocol's event (SignalR's <c>message</c>
    /// invocation, its completed <c>Join</c>), so every target kind feeds the same scenario logic.
    /// </summary>
    void OnServerFrame(ServerFrame frame, long receivedTimestamp);

    /// <summary>The socket ended: a close frame (status set) or an error (status null, reason = the exception).</summary>
    void OnClosed(WebSocketCloseStatus? status, string? reason);
}
