using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Resources;

namespace CloudScale.ServiceDefaults.Telemetry;

public static class OpenTelemetryExtensions
{
    /// <summary>
    /// Traces, metrics and logs through the OpenTelemetry SDK, configured only by the standard <c>OTEL_*</c>
    /// variables. The instrumentation packages do not restore here, so this subscribes directly to the
    /// activity sources and meters that ASP.NET Core, HttpClient, Npgsql and the runtime already emit.
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.Configure(options => options.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        builder.Services.Configure<SimpleConsoleFormatterOptions>(options => options.IncludeScopes = true);

        var telemetry = new ServiceTelemetryBuilder(builder.Services);
        telemetry.ConfigureResource(resource =>
        {
            // OTEL_SERVICE_NAME, when set, is applied by the SDK's own detector and must win.
            if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]))
            {
                resource.AddService(builder.Environment.ApplicationName, autoGenerateServiceInstanceId: false);
            }
        });
        telemetry.WithLogging(configureBuilder: null, configureOptions: options =>
        {
            options.IncludeFormattedMessage = true;
            options.IncludeScopes = true;
        });
        telemetry.WithMetrics(metrics => metrics.AddMeter([.. TelemetryNames.Meters]));
        telemetry.WithTracing(tracing => tracing
            .AddSource(builder.Environment.ApplicationName)
            .AddSource([.. TelemetryNames.ActivitySources]));

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }

        builder.Services.AddHostedService<TelemetryProvidersStarter>();
        return builder;
    }

    private sealed class ServiceTelemetryBuilder(IServiceCollection services) : IOpenTelemetryBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
