using System.Net.WebSockets;
using ChatHub.Server.Configuration;
using ChatHub.Server.Hosting;
using ChatHub.Server.Observability;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Connections;

/// <summary><c>GET /ws</c>: checks and accepts the upgrade, then runs the connection until it ends.</summary>
internal sealed partial class WebSocketEndpoint(
    ConnectionRegistry connections,
    RequestDispatcher dispatcher,
    ConnectionContext context,
    ServerLifecycle lifecycle,
    IOptions<ChatHubOptions> options,
    ChatMetrics metrics,
    ILogger<WebSocketEndpoint> logger)
{
    public async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        var upgrade = http.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is not { IsUpgradableRequest: true } || !WebSocketHandshake.IsWebSocketRequest(request))
        {
            await RefuseAsync(http, StatusCodes.Status426UpgradeRequired, "expected a WebSocket upgrade");
            return;
        }

        if (!WebSocketHandshake.HasSupportedVersion(request) || !WebSocketHandshake.TryGetKey(request, out string key))
        {
            http.Response.Headers.SecWebSocketVersion = "13";
            await RefuseAsync(http, StatusCodes.Status400BadRequest, "expected Sec-WebSocket-Version 13 and a valid Sec-WebSocket-Key");
            return;
        }

        if (ConnectRequest.Parse(request, out string? error) is not { } connect)
        {
            await RefuseAsync(http, StatusCodes.Status400BadRequest, error!);
            return;
        }

        // Wait for the store and rooms to load (first seconds after start); refuse once draining.
        await lifecycle.Started.WaitAsync(http.RequestAborted);
        if (lifecycle.IsDraining)
        {
            await RefuseAsync(http, StatusCodes.Status503ServiceUnavailable, "the server is shutting down");
            return;
        }

        WebSocketHandshake.WriteAcceptHeaders(http.Response, key, connect.Subprotocol);
        var stream = new BatchingStream(await upgrade.UpgradeAsync());
        using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = connect.Subprotocol,
            KeepAliveInterval = options.Value.Connections.KeepAliveInterval,
        });

        var connection = new ChatConnection(connections.NextId(), socket, stream, http.Abort, connect.Format, context);
        connections.Add(connection);
        metrics.ConnectionOpened();
        LogConnected(logger, connection.Id, connect.Format);
        try
        {
            dispatcher.OnConnected(connection, connect.Name, connect.Rooms);
            // A shutdown that began while this one was being accepted must still reach it.
            if (lifecycle.IsDraining)
            {
                connection.BeginClose(Protocol.CloseCodes.ShuttingDown, "server shutting down");
            }

            await connection.RunAsync(dispatcher.OnFrame, dispatcher.OnDisconnected);
        }
        finally
        {
            connections.Remove(connection);
            metrics.ConnectionClosed();
            LogDisconnected(logger, connection.Id, connection.Name);
        }
    }

    private static Task RefuseAsync(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsync(message + "\n");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} accepted ({Format})")]
    private static partial void LogConnected(ILogger logger, long connectionId, Protocol.WireFormat format);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} ({Name}) ended")]
    private static partial void LogDisconnected(ILogger logger, long connectionId, string name);
}
