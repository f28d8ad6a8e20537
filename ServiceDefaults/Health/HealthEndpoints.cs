using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace CloudScale.ServiceDefaults.Health;

/// <summary>
/// <c>/alive</c> answers whether the process runs (checks tagged <see cref="LiveTag"/>); <c>/health</c> whether it can
/// serve (every check). Unlike the Aspire template they are mapped in every environment: orchestrators
/// probe production, and the body carries statuses and durations only, never connection details.
/// </summary>
public static class HealthEndpoints
{
    public const string LivenessPath = "/alive";
    public const string ReadinessPath = "/health";
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var timeout = builder.Configuration.GetValue("ServiceDefaults:HealthCheckTimeout", TimeSpan.FromSeconds(3));

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag])
            .AddCheck<ShutdownHealthCheck>("shutdown", tags: [ReadyTag]);

        // A check that hangs must not hang the probe: every registration without its own timeout gets this one, and is
        // given up on when it passes, as not every client honours cancellation (StackExchange.Redis waits out its own timeout).
        builder.Services.PostConfigure<HealthCheckServiceOptions>(options =>
        {
            foreach (var registration in options.Registrations)
            {
                if (registration.Timeout == Timeout.InfiniteTimeSpan)
                {
                    registration.Timeout = timeout;
                }

                var factory = registration.Factory;
                registration.Factory = services => new AbandonedOnCancellation(factory(services));
            }
        });
        return builder;
    }

    public static bool IsProbe(PathString path) =>
        path.StartsWithSegments(ReadinessPath, StringComparison.OrdinalIgnoreCase) ||
        path.StartsWithSegments(LivenessPath, StringComparison.OrdinalIgnoreCase);

    internal static void MapHealthEndpoints(this WebApplication app)
    {
        var probes = app.MapGroup("").ExcludeFromDescription();
        probes.MapHealthChecks(ReadinessPath, new HealthCheckOptions { ResponseWriter = HealthReportWriter.WriteAsync });
        probes.MapHealthChecks(LivenessPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
            ResponseWriter = HealthReportWriter.WriteAsync,
        });
    }

    private sealed class AbandonedOnCancellation(IHealthCheck check) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            check.CheckHealthAsync(context, cancellationToken).WaitAsync(cancellationToken);
    }
}
