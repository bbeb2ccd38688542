using System.Net;
using ChatHub.LoadTests.Protocol;

namespace ChatHub.LoadTests.Net;

/// <summary>
/// ChatHub's JSON format over a plain WebSocket at <c>/ws</c>, rooms joined in the handshake's query. The Node
/// <c>ws</c> peer speaks a subset of the same format, so it is driven by this connector too.
/// </summary>
internal sealed class JsonWebSocketConnector(int? receiveBufferBytes = null) : IChatConnector
{
    private readonly WebSocketConnector _sockets = new(receiveBufferBytes);

    public async Task<IChatConnection> OpenAsync(
        Uri baseUrl, IReadOnlyList<string> rooms, IPAddress? source, TimeSpan timeout, IFrameSink sink, int initialBufferBytes, CancellationToken ct)
    {
        LoadConnection connection = await LoadConnection.OpenAsync(_sockets, ChatHubUris.WebSocket(baseUrl, null, rooms), source, timeout, initialBufferBytes, ct).ConfigureAwait(false);
        connection.StartReceiving(sink);
        return connection;
    }

    public void Dispose() => _sockets.Dispose();
}
