using ChatHub.Server.Hosting;
using ChatHub.Server.Backplane;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatHub.Server.Observability;

/// <summary><c>/readyz</c>: ready once started, while the store commits, and not while draining.</summary>
internal sealed class ReadinessCheck(ServerLifecycle lifecycle, IRoomLog store) : IHealthCheck
{
    public const string Tag = "ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            !lifecycle.IsStarted ? HealthCheckResult.Unhealthy("starting")
            : lifecycle.IsDraining ? HealthCheckResult.Unhealthy("draining")
            : !store.IsHealthy ? HealthCheckResult.Unhealthy("store commits are failing")
            : HealthCheckResult.Healthy());
}
