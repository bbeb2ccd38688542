using ChatHub.Server.Connections;
using ChatHub.Server.Protocol;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Security;

/// <summary>
/// One timer for every connection's token: once a second it closes, with 4001, the connections whose token
/// expired longer than <see cref="TokenOptions.ExpiryGrace"/> ago without an <c>auth</c> that renewed it.
/// Idle when tokens are off.
/// </summary>
internal sealed partial class TokenExpiryWatcher(
    ConnectionRegistry connections,
    TokenValidator tokens,
    IOptions<SecurityOptions> options,
    SecurityMetrics metrics,
    TimeProvider clock,
    ILogger<TokenExpiryWatcher> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!tokens.Enabled)
        {
            return;
        }

        var grace = options.Value.Token.ExpiryGrace;
        using var timer = new PeriodicTimer(Period, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var deadline = clock.GetUtcNow() - grace;
                foreach (var connection in connections.All)
                {
                    if (connection.Identity is { } identity && identity.Expires < deadline && !connection.IsClosing)
                    {
                        metrics.ExpiredClose();
                        LogExpired(logger, connection.Id, connection.Name);
                        connection.BeginClose(CloseCodes.TokenExpired, "token expired");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {ConnectionId} ({Name}): token expired without renewal, closing with 4001")]
    private static partial void LogExpired(ILogger logger, long connectionId, string name);
}
