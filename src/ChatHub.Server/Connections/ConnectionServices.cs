using ChatHub.Server.Configuration;
using ChatHub.Server.Observability;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Connections;

/// <summary>The shared services every connection needs, gathered once so a connection holds one reference, not five.</summary>
internal sealed class ConnectionServices(
    IOptions<ChatHubOptions> options,
    ChatMetrics metrics,
    RateLimitPolicy rateLimits,
    TimeProvider clock,
    ILogger<ChatConnection> logger)
{
    public ChatHubOptions Options { get; } = options.Value;
    public ChatMetrics Metrics { get; } = metrics;
    public RateLimitPolicy RateLimits { get; } = rateLimits;
    public TimeProvider Clock { get; } = clock;
    public ILogger Logger { get; } = logger;
}
