using System.Threading.RateLimiting;
using ChatHub.Server.Configuration;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Connections;

/// <summary>
/// Builds each connection's token bucket. Buckets do not replenish themselves (that would be one timer per
/// connection); <see cref="RateLimitReplenisher"/> tops up all of them from one shared timer. Tokens are quarter
/// messages (<see cref="RequestCosts"/>): every request costs some.
/// </summary>
internal sealed class RateLimitPolicy
{
    private readonly TokenBucketRateLimiterOptions _options;

    public RateLimitPolicy(IOptions<ChatHubOptions> options)
    {
        var limits = options.Value.Limits;
        // Ten top-ups a second keep the refill smooth when the rate divides evenly; otherwise one a second is exact.
        bool tenths = limits.MessagesPerSecond % 10 == 0;
        ReplenishmentPeriod = tenths ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(1);
        _options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.MessageBurst * RequestCosts.PerMessage,
            TokensPerPeriod = (tenths ? limits.MessagesPerSecond / 10 : limits.MessagesPerSecond) * RequestCosts.PerMessage,
            ReplenishmentPeriod = ReplenishmentPeriod,
            AutoReplenishment = false,
            QueueLimit = 0,
        };
    }

    public TimeSpan ReplenishmentPeriod { get; }

    public TokenBucketRateLimiter Create() => new(_options);
}
