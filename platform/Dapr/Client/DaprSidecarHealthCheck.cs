using Dapr.Client;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Dapr;

/// <summary>Ready when the sidecar is (<c>GET /v1.0/healthz</c>: its components are loaded and it reaches this app).</summary>
public sealed class DaprSidecarHealthCheck(DaprClient dapr) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return await dapr.CheckHealthAsync(cancellationToken)
            ? HealthCheckResult.Healthy("The Dapr sidecar is ready.")
            : new HealthCheckResult(context.Registration.FailureStatus, "The Dapr sidecar is not ready or cannot be reached.");
    }
}
