using System.Diagnostics.Metrics;
using ChatHub.Server.Observability;

namespace ChatHub.Server.Security;

/// <summary>Connections closed for an expired token. Same meter as <see cref="ChatMetrics"/>; refused upgrades are counted there.</summary>
internal sealed class SecurityMetrics
{
    private readonly Counter<long> _expired;

    public SecurityMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ChatMetrics.MeterName);
        _expired = meter.CreateCounter<long>("chathub.tokens.expired_closes", "{connection}", "Connections closed with 4001 because their token expired and no auth renewed it");
    }

    public void ExpiredClose() => _expired.Add(1);
}
