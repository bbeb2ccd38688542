using System.Diagnostics.Metrics;
using ChatHub.Server.Observability;

namespace ChatHub.Server.Security;

/// <summary>Refused upgrades by reason, and connections closed for an expired token. Same meter as <see cref="ChatMetrics"/>.</summary>
internal sealed class SecurityMetrics
{
    private readonly Counter<long> _refused;
    private readonly Counter<long> _expired;

    public SecurityMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ChatMetrics.MeterName);
        _refused = meter.CreateCounter<long>("chathub.upgrades.refused", "{upgrade}", "WebSocket upgrades refused by the security gate, by reason (origin, token, rate, per_ip_cap)");
        _expired = meter.CreateCounter<long>("chathub.tokens.expired_closes", "{connection}", "Connections closed with 4001 because their token expired and no auth renewed it");
    }

    public void Refused(string reason) => _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void ExpiredClose() => _expired.Add(1);
}
