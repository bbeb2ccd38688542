using ChatHub.Server.Configuration;
using ChatHub.Server.Connections.Sockets;
using ChatHub.Server.Observability;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Connections;

/// <summary>The shared services every connection needs, gathered once so a connection holds one reference, not five.</summary>
internal sealed class ConnectionServices(
    IOptions<ChatHubOptions> options,
    ChatMetrics metrics,
    RateLimitPolicy rateLimits,
    TimeProvider clock,
    ILogger<ChatConnection> logger) : IDisposable
{
    public ChatHubOptions Options { get; } = options.Value;
    public ChatMetrics Metrics { get; } = metrics;
    public RateLimitPolicy RateLimits { get; } = rateLimits;
    public TimeProvider Clock { get; } = clock;
    public ILogger Logger { get; } = logger;

    /// <summary>The server's one keep-alive clock for every <see cref="SocketWebSocket"/>; disposed with the server.</summary>
    public KeepAliveClock KeepAlive { get; } = new(options);

    public void Dispose() => KeepAlive.Dispose();
}
