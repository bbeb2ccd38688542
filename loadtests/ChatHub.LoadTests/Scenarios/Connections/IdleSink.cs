using System.Net.WebSockets;
using ChatHub.LoadTests.Net;
using ChatHub.LoadTests.Protocol;

namespace ChatHub.LoadTests.Scenarios.Connections;

/// <summary>
/// Reads and discards what an idle member receives (welcome, joined, other members' presence):
/// an idle connection must still read, or its outbox fills and the server closes it with 1013.
/// </summary>
internal sealed class IdleSink(LocalConnectionPool pool) : IFrameSink
{
    public void OnFrame(ReadOnlySpan<byte> utf8, long receivedTimestamp)
    {
    }

    public void OnServerFrame(ServerFrame frame, long receivedTimestamp)
    {
    }

    public void OnClosed(WebSocketCloseStatus? status, string? reason) => pool.OnDropped(status, reason);
}
