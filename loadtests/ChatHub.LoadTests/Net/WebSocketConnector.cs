using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace ChatHub.LoadTests.Net;

/// <summary>
/// Opens client WebSockets from a chosen local (source) address.
/// <para>
/// <see cref="ClientWebSocket"/> cannot bind a local address itself; a
/// <see cref="SocketsHttpHandler"/> with a <c>ConnectCallback</c> binds the socket (<see cref="SourceBoundSocket"/>) before connecting
/// and <c>ConnectAsync(uri, invoker, ct)</c> performs the upgrade over it.
/// </para>
/// </summary>
internal sealed class WebSocketConnector : IDisposable
{
    private readonly ConcurrentDictionary<string, HttpMessageInvoker> _invokers = new();
    private readonly int? _receiveBufferBytes;

    /// <param name="receiveBufferBytes">
    /// Fixed SO_RCVBUF for every socket (disables Linux autotuning, which can grow a loopback
    /// receive buffer to 32 MB and hide a slow reader from the server for a long time).
    /// </param>
    public WebSocketConnector(int? receiveBufferBytes = null)
    {
        _receiveBufferBytes = receiveBufferBytes;
    }

    public async Task<ClientWebSocket> ConnectAsync(Uri uri, IPAddress? source, TimeSpan timeout, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        // No client pings: an idle connection in a memory ramp should cost the server nothing but its state.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutCts.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(uri, Invoker(source), timeoutCts.Token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private HttpMessageInvoker Invoker(IPAddress? source) =>
        _invokers.GetOrAdd(source?.ToString() ?? "", _ => new HttpMessageInvoker(CreateHandler(source), disposeHandler: true));

    private SocketsHttpHandler CreateHandler(IPAddress? source) => new()
    {
        UseProxy = false,
        UseCookies = false,
        ConnectCallback = (context, ct) => ConnectSocketAsync(context.DnsEndPoint, source, ct),
    };

    private async ValueTask<Stream> ConnectSocketAsync(DnsEndPoint target, IPAddress? source, CancellationToken ct)
    {
        Socket socket = await SourceBoundSocket.ConnectAsync(SourceBoundSocket.Remote(target.Host, target.Port), source, _receiveBufferBytes, ct).ConfigureAwait(false);
        return new NetworkStream(socket, ownsSocket: true);
    }

    public void Dispose()
    {
        foreach (HttpMessageInvoker invoker in _invokers.Values)
        {
            invoker.Dispose();
        }
        _invokers.Clear();
    }
}
