using CloudScale.ServiceDefaults.Health;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CloudScale.ServiceDefaults.Telemetry;

public static class OpenTelemetryExtensions
{
    /// <summary>Prefix of the project's own activity sources and meters (<c>CloudScale.Booking</c>, <c>CloudScale.Workflow</c>, …).</summary>
    public const string ProjectSources = "CloudScale.*";

    /// <summary>
    /// Traces, metrics and logs through the OpenTelemetry SDK and its ASP.NET Core, HttpClient and runtime instrumentation,
    /// exported by OTLP as the standard <c>OTEL_*</c> variables say. Npgsql and Redis spans come from the Aspire client
    /// integrations (<c>AddNpgsqlDataSource</c>, <c>AddRedisClient</c>), which add themselves to this same builder.
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Console lines carry the trace id too, so a line in a terminal leads to its trace on the dashboard.
        builder.Logging.Configure(options => options.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        builder.Services.Configure<SimpleConsoleFormatterOptions>(options => options.IncludeScopes = true);
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME, when set, is applied by the SDK's own detector and must win.
                if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]))
                {
                    resource.AddService(builder.Environment.ApplicationName, autoGenerateServiceInstanceId: false);
                }
            })
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(ProjectSources))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName, ProjectSources)
                // Probes every few seconds would drown every trace view.
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !HealthEndpoints.IsProbe(context.Request.Path))
                .AddHttpClientInstrumentation());

        // Only the base endpoint switches exporting on, so a service started outside the AppHost never reaches for a collector.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }

        return builder;
    }
}
