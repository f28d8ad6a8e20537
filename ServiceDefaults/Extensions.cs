using CloudScale.ServiceDefaults.Errors;
using CloudScale.ServiceDefaults.Health;
using CloudScale.ServiceDefaults.Overload;
using CloudScale.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The cross-cutting defaults every CloudScale service shares, in the shape of the Aspire ServiceDefaults template
/// but production-safe: telemetry, service discovery and the standard resilience handler on every HttpClient, health
/// endpoints in every environment, problem details that leak nothing for every error, and a bounded graceful shutdown.
/// </summary>
public static class Extensions
{
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.AddProblemDetailsDefaults();
        builder.ConfigureGracefulShutdown();
        builder.ConfigureRequestLimits();
        builder.AddLoadShedding();
        // Services add their schemes and policies (AddDaprSidecar: the sidecar's token); the middleware is placed by MapDefaultEndpoints.
        builder.Services.AddAuthentication();
        builder.Services.AddAuthorization();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // Under ConfigureHttpClientDefaults every client shares one pipeline; keyed by authority, a failing payment
            // provider opens its own circuit breaker and not the one in front of the sidecar.
            http.AddStandardResilienceHandler().SelectPipelineByAuthority();
            // After the resilience handler, so that each retry resolves the name again and may reach another replica.
            http.AddServiceDiscovery();
        });
        return builder;
    }

    /// <summary>
    /// Gives this client its own standard resilience pipeline with <paramref name="configure"/> applied, instead of the
    /// shared default one. It runs inside service discovery, so the retries of one call go to the endpoint first resolved.
    /// </summary>
    public static IHttpClientBuilder WithStandardResilience(this IHttpClientBuilder builder, Action<HttpStandardResilienceOptions> configure)
    {
        builder.WithoutResilience().AddStandardResilienceHandler(configure);
        return builder;
    }

    /// <summary>Takes the shared default resilience pipeline off this client, for a caller that owns its retries itself.</summary>
    public static IHttpClientBuilder WithoutResilience(this IHttpClientBuilder builder)
    {
        // The package's documented way to replace the default handler for one client; it is marked for evaluation only.
#pragma warning disable EXTEXP0001
        return builder.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
    }

    public static TBuilder ConfigureGracefulShutdown<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Kestrel stops accepting, then drains in-flight requests for at most this long before the host gives up.
        var drain = builder.Configuration.GetValue("ServiceDefaults:ShutdownTimeout", TimeSpan.FromSeconds(15));
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = drain);
        return builder;
    }

    public static TBuilder ConfigureRequestLimits<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // The services take small JSON bodies: anything larger than this is refused (413 problem) before it is read,
        // instead of Kestrel's 30 MB default letting one client tie up memory.
        var maxBody = builder.Configuration.GetValue("ServiceDefaults:MaxRequestBodySize", 1024L * 1024);
        builder.Services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = maxBody);
        return builder;
    }

    /// <summary>
    /// The error handling, load shedding, authentication and authorization, and the health endpoints. Call it first after <c>Build()</c>:
    /// in Development WebApplication puts its developer exception page (which echoes stack traces and request headers) in
    /// front of everything the app adds, and only a handler placed before any other middleware catches every exception
    /// before that page sees it. Authorization comes after the status-code pages, so that a refused call (401, 403) gets
    /// a problem body; left to itself WebApplication would put it in front of them.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // Before authentication: a request that is shed costs as little as possible.
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHealthEndpoints();
        return app;
    }
}
