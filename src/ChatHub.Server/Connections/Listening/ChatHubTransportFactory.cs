using System.Net;
using System.Net.Sockets;
using ChatHub.Server.Observability;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Connections.Listening;

/// <summary>
/// Kestrel's transport for TCP endpoints when <c>ChatHub:Connections:AcceptOnTransport</c> is on: it binds and
/// listens as Kestrel's socket transport does (its <see cref="SocketTransportOptions"/>: the bound socket, IPv6
/// dual mode for <c>[::]</c>, the backlog, <c>NoDelay</c>) and gives each endpoint a
/// <see cref="ChatHubConnectionListener"/>. Registered after Kestrel's own transport, it is the one Kestrel asks
/// first; it claims only IP endpoints, so Unix sockets and handles stay with Kestrel's.
/// </summary>
internal sealed class ChatHubTransportFactory(
    SocketHandshake handshake,
    IOptions<SocketTransportOptions> socketOptions,
    IOptions<KestrelServerOptions> kestrel,
    ChatMetrics metrics,
    ILoggerFactory loggers) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var options = socketOptions.Value;
        Socket listenSocket;
        try
        {
            listenSocket = options.CreateBoundListenSocket(endpoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new AddressInUseException(e.Message, e);
        }

        listenSocket.Listen(options.Backlog);

        // Kestrel's own socket connections, with its options, for the sockets that are not ours.
        var kestrelConnections = new SocketConnectionContextFactory(
            new SocketConnectionFactoryOptions
            {
                IOQueueCount = options.IOQueueCount,
                WaitForDataBeforeAllocatingBuffer = options.WaitForDataBeforeAllocatingBuffer,
                MaxReadBufferSize = options.MaxReadBufferSize,
                MaxWriteBufferSize = options.MaxWriteBufferSize,
                UnsafePreferInlineScheduling = options.UnsafePreferInlineScheduling,
            },
            loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets"));

        return ValueTask.FromResult<IConnectionListener>(new ChatHubConnectionListener(
            listenSocket,
            handshake,
            kestrelConnections,
            metrics,
            options.NoDelay,
            kestrel.Value.Limits.MaxConcurrentConnections,
            loggers.CreateLogger<ChatHubConnectionListener>()));
    }
}
