using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CloudScale.ServiceDefaults.Telemetry;

/// <summary>
/// Builds the tracer and meter providers when the host starts (the job of OpenTelemetry.Extensions.Hosting,
/// which does not restore here); otherwise nothing would listen until something resolved them.
/// The container disposes them on shutdown, which flushes what is still buffered.
/// </summary>
internal sealed class TelemetryProvidersStarter(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetService<TracerProvider>();
        _ = services.GetService<MeterProvider>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
