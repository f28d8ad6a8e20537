using CloudScale.ServiceDefaults;
using CloudScale.ServiceDefaults.Errors;
using CloudScale.ServiceDefaults.Health;
using CloudScale.ServiceDefaults.Resilience;
using CloudScale.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The cross-cutting defaults every CloudScale service shares, shaped like the Aspire ServiceDefaults template
/// but production-safe: telemetry, health endpoints in every environment, resilience on every HttpClient,
/// problem details for every error, and a bounded graceful shutdown.
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

        builder.Services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler());
        builder.Services.AddTransient<IStartupFilter, ServiceDefaultsStartupFilter>();
        return builder;
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

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthEndpoints();
        return app;
    }
}
