using System.Net.WebSockets;

namespace ChatHub.LoadTests.Net;

/// <summary>What a scenario does with the frames one connection receives.</summary>
internal interface IFrameSink
{
    /// <param name="utf8">One complete text frame; only valid during the call.</param>
    /// <param name="receivedTimestamp"><see cref="System.Diagnostics.Stopwatch"/> ticks when the last fragment arrived.</param>
    void OnFrame(ReadOnlySpan<byte> utf8, long receivedTimestamp);

    /// <summary>The socket ended: a close frame (status set) or an error (status null, reason = the exception).</summary>
    void OnClosed(WebSocketCloseStatus? status, string? reason);
}
