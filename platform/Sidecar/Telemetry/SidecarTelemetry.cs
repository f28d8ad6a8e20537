using System.Diagnostics;
using CloudScale.Sidecar.Configuration;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CloudScale.Sidecar.Telemetry;

internal static class SidecarTelemetry
{
    public const string Name = "CloudScale.Sidecar";

    /// <summary>The spans the sidecar starts itself: one per published event and one per delivery to the app.</summary>
    public static readonly ActivitySource Source = new(Name);

    /// <summary>
    /// Traces always (the spans are what carries <c>traceparent</c> through invocation and into CloudEvents);
    /// export of spans, metrics and logs over OTLP only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
    /// </summary>
    public static WebApplicationBuilder AddSidecarTelemetry(this WebApplicationBuilder builder, SidecarOptions options)
    {
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        var telemetry = new SidecarTelemetryBuilder(builder.Services);
        telemetry.ConfigureResource(resource =>
        {
            if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME")))
            {
                resource.AddService($"{options.AppId}-dapr", autoGenerateServiceInstanceId: false);
            }
        });
        telemetry.WithTracing(tracing => tracing.AddSource("Microsoft.AspNetCore", "System.Net.Http", "Npgsql", "CloudScale.*"));
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            telemetry.WithMetrics(metrics => metrics.AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime", "CloudScale.*"));
            telemetry.WithLogging(configureBuilder: null, configureOptions: logging => logging.IncludeFormattedMessage = true);
            telemetry.UseOtlpExporter();
        }

        builder.Services.AddHostedService<TelemetryStarter>();
        return builder;
    }

    /// <summary>
    /// Names each API request's server span as daprd does, by its path (<c>/v1.0/state/statestore/k</c>,
    /// <c>/dapr.proto.runtime.v1.Dapr/GetState</c>), instead of ASP.NET Core's "Microsoft.AspNetCore.Hosting.HttpRequestIn";
    /// health probes are not recorded, as daprd does not trace them.
    /// </summary>
    public static IApplicationBuilder UseDaprSpanNames(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (Activity.Current is { } span && span.OperationName == HostingRequestOperation)
        {
            var path = context.Request.Path.Value ?? "/";
            if (path.StartsWith("/v1.0/healthz", StringComparison.Ordinal))
            {
                span.IsAllDataRequested = false;
                span.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            }
            else
            {
                span.DisplayName = path;
                span.SetTag("http.request.method", context.Request.Method);
                span.SetTag("url.path", path);
            }
        }

        return next(context);
    });

    private const string HostingRequestOperation = "Microsoft.AspNetCore.Hosting.HttpRequestIn";

    private sealed class SidecarTelemetryBuilder(IServiceCollection services) : IOpenTelemetryBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    /// <summary>Builds the providers at start (OpenTelemetry.Extensions.Hosting's job, which does not restore here).</summary>
    private sealed class TelemetryStarter(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetService<TracerProvider>();
            _ = services.GetService<MeterProvider>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
