using CloudScale.ServiceDefaults.Health;
using Dapr;
using Dapr.Client;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>How a service works with its Dapr sidecar, through the Dapr SDK (Dapr.Client, Dapr.AspNetCore).</summary>
public static partial class DaprSidecarExtensions
{
    /// <summary>The authorization policy of the routes only the sidecar may call (subscriptions, invoked methods).</summary>
    public const string SidecarPolicy = "Dapr";

    /// <summary>
    /// The SDK's <see cref="DaprClient"/> (state and pub/sub over the sidecar's gRPC API; <c>DAPR_GRPC_ENDPOINT</c>,
    /// <c>DAPR_HTTP_ENDPOINT</c> and <c>DAPR_API_TOKEN</c> read from configuration, then the environment), the readiness
    /// check <c>dapr</c>, and the check of <c>APP_API_TOKEN</c> on calls from the sidecar behind policy <see cref="SidecarPolicy"/>.
    /// The client calls the sidecar with its own HttpClient and gRPC channel, outside IHttpClientFactory, so no standard
    /// resilience handler retries a state write or a publish behind the caller's back.
    /// </summary>
    public static TBuilder AddDaprSidecar<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddDaprClient();
        builder.Services.AddHealthChecks().AddCheck<DaprSidecarHealthCheck>("dapr", tags: [HealthEndpoints.ReadyTag]);

        // The SDK's handler reads APP_API_TOKEN from the environment only; configuration first, as for the client.
        var appApiToken = DaprDefaults.GetDefaultAppApiToken(builder.Configuration);
        if (string.IsNullOrEmpty(appApiToken))
        {
            // daprd sends no token when it has none (Azure Container Apps' managed Dapr cannot be given one), and the SDK's
            // handler would then refuse the sidecar itself: the policy admits every caller, and start-up says so.
            builder.Services.AddAuthorization(options => options.AddPolicy(SidecarPolicy, policy => policy.RequireAssertion(_ => true)));
            builder.Services.AddHostedService<UnauthenticatedSidecarWarning>();
            return builder;
        }

        builder.Services.AddAuthentication().AddDapr(options => options.Token = appApiToken);
        builder.Services.AddAuthorization(options => options.AddDapr(SidecarPolicy));
        return builder;
    }

    private sealed partial class UnauthenticatedSidecarWarning(ILogger<UnauthenticatedSidecarWarning> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LogNoAppApiToken(logger, SidecarPolicy);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Warning, Message = "APP_API_TOKEN is not set: routes under policy '{Policy}' accept any caller, not only the Dapr sidecar; keep this service off public ingress.")]
        private static partial void LogNoAppApiToken(ILogger logger, string policy);
    }

    /// <summary>
    /// Ready when the sidecar can serve the app's calls (<c>GET /v1.0/healthz/outbound</c>: components loaded). Not
    /// <c>/v1.0/healthz</c>, which also waits for the sidecar to have reached this app: the app's readiness would then wait
    /// on itself, and fail every first probe. Not part of liveness.
    /// </summary>
    private sealed class DaprSidecarHealthCheck(DaprClient dapr) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            await dapr.CheckOutboundHealthAsync(cancellationToken)
                ? HealthCheckResult.Healthy("The Dapr sidecar is ready.")
                : new HealthCheckResult(context.Registration.FailureStatus, "The Dapr sidecar is not ready or cannot be reached.");
    }
}
