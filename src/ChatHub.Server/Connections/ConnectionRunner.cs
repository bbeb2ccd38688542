using System.Net.WebSockets;
using ChatHub.Server.Configuration;
using ChatHub.Server.Hosting;
using ChatHub.Server.Observability;
using ChatHub.Server.Protocol;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Connections;

/// <summary>Runs an accepted WebSocket as a chat connection until it ends, whichever path accepted it.</summary>
internal sealed partial class ConnectionRunner(
    ConnectionRegistry connections,
    RequestDispatcher dispatcher,
    ConnectionServices context,
    ServerLifecycle lifecycle,
    IOptions<ChatHubOptions> options,
    ChatMetrics metrics,
    ILogger<ConnectionRunner> logger)
{
    /// <summary>
    /// .NET's own framing over our stream. With a keep-alive timeout the WebSocket sends a ping every interval and
    /// aborts itself when no pong follows within the timeout: a vanished peer ends its connection. Without one it
    /// sends an unsolicited pong that awaits nothing (keeps proxies open, finds nobody dead).
    /// </summary>
    public WebSocket CreateSocket(Stream stream, string? subprotocol) => WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
    {
        IsServer = true,
        SubProtocol = subprotocol,
        KeepAliveInterval = options.Value.Connections.KeepAliveInterval,
        KeepAliveTimeout = options.Value.Connections.KeepAliveTimeout > TimeSpan.Zero
            ? options.Value.Connections.KeepAliveTimeout
            : Timeout.InfiniteTimeSpan,
    });

    /// <summary>
    /// The WebSocket for a socket the listener accepted itself: our own framing straight over the socket
    /// (<see cref="Sockets.SocketWebSocket"/>, kept as strict as .NET's by its differential tests), which is also its
    /// batching transport, with keep-alive on the server's one shared clock. Aborting it shuts the socket down, so a
    /// read or send pending on it ends; the listener disposes the socket when the connection is over. The one place
    /// that decides how a raw socket is framed.
    /// </summary>
    public (WebSocket WebSocket, IBatchingTransport Transport, Action Abort) CreateSocket(System.Net.Sockets.Socket socket, string? subprotocol)
    {
        var settings = options.Value.Connections;
        var webSocket = new Sockets.SocketWebSocket(
            socket,
            subprotocol,
            settings.KeepAliveInterval,
            settings.KeepAliveTimeout > TimeSpan.Zero ? settings.KeepAliveTimeout : Timeout.InfiniteTimeSpan,
            context.KeepAlive);
        return (webSocket, webSocket, webSocket.Abort);
    }

    public void EnableTcpKeepAlive(System.Net.Sockets.Socket? socket) => TcpKeepAlive.Enable(socket, options.Value.Connections);

    // One delegate each for every connection, not two new ones per connection.
    private readonly Func<ChatConnection, ReadOnlyMemory<byte>, ValueTask> _onFrame = dispatcher.OnFrame;
    private readonly Action<ChatConnection> _onDisconnected = dispatcher.OnDisconnected;

    /// <summary>
    /// Not async itself, so the request (its query's name and rooms) is not kept for the life of the connection by
    /// a suspended state machine: only its address slot is.
    /// </summary>
    public Task RunAsync(WebSocket socket, IBatchingTransport transport, Action abortTransport, ConnectRequest connect)
    {
        var connection = new ChatConnection(connections.NextId(), socket, transport, abortTransport, connect.Format, context)
        {
            // A verified token's user may hold several connections; without tokens names stay one per connection.
            SharesName = connect.Identity is not null,
            Identity = connect.Identity,
            PresenceBatches = connect.PresenceBatches,
        };
        connections.Add(connection);
        metrics.ConnectionOpened();
        LogConnected(logger, connection.Id, connect.Format);
        var connected = dispatcher.OnConnectedAsync(connection, connect.Name, connect.Rooms);
        if (!connected.IsCompletedSuccessfully && socket is Sockets.SocketWebSocket raw)
        {
            // The listener's 101 waits to leave with the welcome (SocketHandshake.Start); a welcome that waits on a
            // store (a name claimed in a cluster) must not keep the client from its 101 meanwhile.
            raw.SendUpgradeResponseNow();
        }

        return RunAsync(connection, connected, connect.AddressSlot);
    }

    private async Task RunAsync(ChatConnection connection, Task connected, IDisposable? addressSlot)
    {
        try
        {
            await connected;
            // A shutdown that began while this one was being accepted must still reach it.
            if (lifecycle.IsDraining)
            {
                connection.BeginClose(CloseCodes.ShuttingDown, "server shutting down");
            }

            await connection.RunAsync(_onFrame, _onDisconnected);
        }
        finally
        {
            addressSlot?.Dispose();
            connections.Remove(connection);
            metrics.ConnectionClosed(connection.SentCloseStatus);
            LogDisconnected(logger, connection.Id, connection.Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} accepted ({Format})")]
    private static partial void LogConnected(ILogger logger, long connectionId, WireFormat format);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} ({Name}) ended")]
    private static partial void LogDisconnected(ILogger logger, long connectionId, string name);
}
