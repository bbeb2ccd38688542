using System.Net;
using System.Net.Sockets;
using ChatHub.LoadTests.Protocol;

namespace ChatHub.LoadTests.Net;

/// <summary>
/// The idle ramp's connector for servers that speak plain WebSockets (ChatHub, the Node <c>ws</c> peer): a raw
/// socket from the chosen source address, the HTTP/1.1 upgrade written and checked by hand
/// (<see cref="WebSocketUpgrade"/>), then <see cref="RawWebSocketConnection"/>. Opening a connection through
/// <see cref="System.Net.WebSockets.ClientWebSocket"/> and <see cref="SocketsHttpHandler"/> cost the generator as much
/// CPU as the server spent accepting it, so on a shared box the ramp measured the client as much as the server.
/// Plain <c>ws://</c> only; TLS targets use <see cref="JsonWebSocketConnector"/>.
/// </summary>
internal sealed class RawWebSocketConnector(int? receiveBufferBytes = null) : IChatConnector
{
    public async Task<IChatConnection> OpenAsync(
        Uri baseUrl, IReadOnlyList<string> rooms, IPAddress? source, TimeSpan timeout, IFrameSink sink, int initialBufferBytes, CancellationToken ct)
    {
        Uri uri = ChatHubUris.WebSocket(baseUrl, null, rooms);
        if (uri.Scheme != "ws")
        {
            throw new NotSupportedException($"{nameof(RawWebSocketConnector)} speaks plain ws:// only, not {uri.Scheme}://");
        }
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutCts.CancelAfter(timeout);
        Socket socket = await SourceBoundSocket.ConnectAsync(SourceBoundSocket.Remote(uri.Host, uri.Port), source, receiveBufferBytes, timeoutCts.Token).ConfigureAwait(false);
        try
        {
            byte[] first = await WebSocketUpgrade.PerformAsync(socket, uri, timeoutCts.Token).ConfigureAwait(false);
            var connection = new RawWebSocketConnection(socket);
            connection.StartReceiving(sink, first, initialBufferBytes);
            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
    }
}
