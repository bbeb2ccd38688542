namespace ChatHub.Server.Connections;

/// <summary>One timer tops up every connection's token bucket, instead of one timer per connection.</summary>
internal sealed class RateLimitReplenisher(ConnectionRegistry connections, RateLimitPolicy policy, TimeProvider clock) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(policy.ReplenishmentPeriod, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (var connection in connections.All)
                {
                    connection.ReplenishRateLimiter();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }
}
