using Dapr;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

public static class DaprHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds <see cref="DaprSidecarHealthCheck"/> (it needs <c>AddDaprClient()</c>), tagged <c>ready</c> by default so that it
    /// counts for readiness (<c>/health</c>) and not liveness: a sidecar that restarts is no reason to restart the app.
    /// </summary>
    public static IHealthChecksBuilder AddDaprSidecar(
        this IHealthChecksBuilder builder, string name = "dapr", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<DaprSidecarHealthCheck>(name, failureStatus, tags ?? ["ready"], timeout);
    }
}
