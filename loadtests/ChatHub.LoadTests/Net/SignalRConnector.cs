using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using ChatHub.LoadTests.Protocol;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatHub.LoadTests.Net;

/// <summary>
/// Clients of the SignalR reference hub (<c>/hub</c>, JSON hub protocol) through
/// <c>Microsoft.AspNetCore.SignalR.Client</c>: WebSockets only, no negotiate round trip. The WebSocket itself
/// comes from <see cref="WebSocketConnector"/>, so SignalR clients bind source addresses like the others.
/// </summary>
internal sealed class SignalRConnector : IChatConnector
{
    private readonly WebSocketConnector _sockets = new();

    public async Task<IChatConnection> OpenAsync(
        Uri baseUrl, IReadOnlyList<string> rooms, IPAddress? source, TimeSpan timeout, IFrameSink sink, int initialBufferBytes, CancellationToken ct)
    {
        var connection = new SignalRChatConnection(sink);
        connection.Hub = new HubConnectionBuilder()
            .WithUrl(ChatHubUris.Hub(baseUrl), HttpTransportType.WebSockets, o =>
            {
                o.SkipNegotiation = true;
                o.WebSocketFactory = async (context, token) =>
                {
                    ClientWebSocket socket = await _sockets.ConnectAsync(context.Uri, source, timeout, token).ConfigureAwait(false);
                    connection.Socket = socket;
                    return socket;
                };
            })
            .Build();
        connection.Hub.On<string, long, string, string, string>("message", connection.OnMessage);
        connection.Hub.Closed += connection.OnClosedAsync;
        try
        {
            using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeoutCts.CancelAfter(timeout);
            await connection.Hub.StartAsync(timeoutCts.Token).ConfigureAwait(false);
            sink.OnServerFrame(new ServerFrame { Type = "welcome", Name = connection.Hub.ConnectionId }, Stopwatch.GetTimestamp());
            foreach (string room in rooms)
            {
                // The hub's Join returns once the connection is in the room's group: SignalR's "joined".
                await connection.Hub.InvokeAsync("Join", room, timeoutCts.Token).ConfigureAwait(false);
                sink.OnServerFrame(new ServerFrame { Type = "joined", Room = room }, Stopwatch.GetTimestamp());
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public void Dispose() => _sockets.Dispose();

    /// <summary>One hub connection; its sink gets each <c>message</c> invocation as a ChatHub-shaped frame.</summary>
    private sealed class SignalRChatConnection(IFrameSink sink) : IChatConnection
    {
        private volatile bool _disposing;

        public HubConnection Hub { get; set; } = null!;

        public WebSocket? Socket { get; set; }

        public void OnMessage(string room, long seq, string from, string text, string ts) =>
            sink.OnServerFrame(new ServerFrame { Type = "message", Room = room, Seq = seq, From = from, Text = text, Ts = ts }, Stopwatch.GetTimestamp());

        public Task OnClosedAsync(Exception? error)
        {
            if (!_disposing)
            {
                sink.OnClosed(Socket?.CloseStatus, error is null ? "hub connection closed" : error.GetType().Name + ": " + error.Message);
            }
            return Task.CompletedTask;
        }

        public ValueTask SayAsync(string room, string text, CancellationToken ct) => new(Hub.SendAsync("Say", room, text, ct));

        public async ValueTask DisposeAsync()
        {
            _disposing = true;
            // Abort like the WebSocket clients do, so "close all" costs every server the same: the socket just ends.
            Socket?.Abort();
            await Hub.DisposeAsync().ConfigureAwait(false);
        }
    }
}
