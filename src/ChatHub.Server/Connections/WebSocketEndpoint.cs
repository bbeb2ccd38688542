using ChatHub.Server.Hosting;
using ChatHub.Server.Observability;
using ChatHub.Server.Security;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace ChatHub.Server.Connections;

/// <summary>
/// <c>GET /ws</c> through ASP.NET Core's HTTP pipeline: the path for upgrades the transport-level handshake did
/// not take (TLS, a /ws request on a keep-alive connection that served other requests first, or
/// <c>ChatHub:Connections:AcceptOnTransport=false</c>). The HTTP request stays alive for the life of the socket.
/// </summary>
internal sealed class WebSocketEndpoint(ConnectionRunner runner, ServerLifecycle lifecycle, UpgradeGate gate, ChatMetrics metrics)
{
    public async Task HandleAsync(HttpContext http)
    {
        var upgrade = http.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is not { IsUpgradableRequest: true })
        {
            await RefuseAsync(http, HandshakeRefusal.UpgradeRequired);
            return;
        }

        if (WebSocketHandshake.Check(UpgradeRequest.FromHttp(http.Request), out var connect, out string accept) is { } refusal)
        {
            await RefuseAsync(http, refusal);
            return;
        }

        // Wait for the store and rooms to load (first seconds after start); refuse once draining.
        await lifecycle.Started.WaitAsync(http.RequestAborted);
        if (lifecycle.IsDraining)
        {
            await RefuseAsync(http, HandshakeRefusal.ShuttingDown);
            return;
        }

        (connect, var denied) = await gate.AdmitAsync(UpgradeRequest.FromHttp(http.Request), connect!, http.Connection.RemoteIpAddress);
        if (denied is not null)
        {
            await RefuseAsync(http, denied);
            return;
        }

        using var slot = connect!.AddressSlot; // released by the connection too; this covers an upgrade that fails
        var headers = http.Response.Headers;
        headers.Connection = "Upgrade";
        headers.Upgrade = "websocket";
        headers.SecWebSocketAccept = accept;
        if (connect.Subprotocol is { } subprotocol)
        {
            headers.SecWebSocketProtocol = subprotocol;
        }

        runner.EnableTcpKeepAlive(http.Features.Get<IConnectionSocketFeature>()?.Socket);
        var stream = new BatchingStream(await upgrade.UpgradeAsync(), http.Abort);
        using var socket = runner.CreateSocket(stream, connect.Subprotocol);
        await runner.RunAsync(socket, stream, http.Abort, connect);
    }

    private Task RefuseAsync(HttpContext http, HandshakeRefusal refusal)
    {
        metrics.HandshakeRefused(refusal.Reason);
        http.Response.StatusCode = refusal.Status;
        if (refusal.Status == StatusCodes.Status400BadRequest)
        {
            http.Response.Headers.SecWebSocketVersion = "13";
        }

        return http.Response.WriteAsync(refusal.Message + "\n");
    }
}
