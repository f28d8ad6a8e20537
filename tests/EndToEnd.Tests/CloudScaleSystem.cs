using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using CloudScale.Testing.Otlp;

namespace CloudScale.EndToEnd.Tests;

/// <summary>
/// CloudScale's AppHost, started once for a test class through the testing builder, exporting telemetry to a test
/// collector. Order waits only <see cref="PaymentConfirmationTimeout"/> for the provider, and retries it briefly, so that
/// the failure journeys end in seconds; everything else runs as in <c>./run.sh</c>.
/// </summary>
public sealed class CloudScaleSystem : IAsyncLifetime
{
    // Short for the timeout journey, yet far beyond the 100 ms callback of the others on a loaded machine.
    public static readonly TimeSpan PaymentConfirmationTimeout = TimeSpan.FromSeconds(8);

    private IDistributedApplicationTestingBuilder? _builder;
    private DistributedApplication? _app;

    public OtlpCollector Telemetry { get; private set; } = null!;

    public HttpClient Booking { get; private set; } = null!;

    public HttpClient Order { get; private set; } = null!;

    public HttpClient Notification { get; private set; } = null!;

    public HttpClient Payments { get; private set; } = null!;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The system starts in InitializeAsync.");

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Telemetry = await OtlpCollector.StartAsync();
        _builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(Cancellation);
        _builder.Configuration["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = Telemetry.Endpoint;
        _builder.CreateResourceBuilder((ProjectResource)_builder.Resources.Single(resource => resource.Name == "order"))
            .WithEnvironment("BookingSaga__PaymentConfirmationTimeout", PaymentConfirmationTimeout.ToString())
            .WithEnvironment("PaymentProvider__Resilience__Retry__Delay", "00:00:00.100")
            .WithEnvironment("PaymentProvider__Resilience__CircuitBreaker__BreakDuration", "00:00:01");
        _app = await _builder.BuildAsync(Cancellation);
        await _app.StartAsync(Cancellation);
        foreach (var resource in _builder.Resources.Where(resource => resource is not ParameterResource))
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(resource.Name, Cancellation).WaitAsync(TimeSpan.FromSeconds(120), Cancellation);
        }

        Booking = _app.CreateHttpClient("booking");
        Order = _app.CreateHttpClient("order");
        Notification = _app.CreateHttpClient("notification");
        Payments = _app.CreateHttpClient("payments");
    }

    /// <summary>Sets how the simulated payment provider behaves from now on.</summary>
    public async Task SetPaymentBehaviourAsync(int latencyMs = 100, double declineRate = 0, double errorRate = 0)
    {
        using var response = await Payments.PutAsJsonAsync("/admin/behaviour", new { latencyMs, declineRate, errorRate }, Cancellation);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        if (_builder is not null)
        {
            await _builder.DisposeAsync();
        }

        await Telemetry.DisposeAsync();
    }
}
