using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using CloudScale.Testing.Otlp;

namespace CloudScale.EndToEnd.Tests;

/// <summary>
/// CloudScale's AppHost, started once for a test class through Aspire's testing builder with throwaway data, exporting
/// telemetry to a test collector. Order waits only <see cref="PaymentConfirmationTimeout"/> for the provider, and retries
/// it briefly, so that the failure journeys end in seconds; everything else runs as in <c>./run.sh</c>.
/// </summary>
public class CloudScaleSystem : IAsyncLifetime
{
    // Short for the timeout journey, yet far beyond the 100 ms callback of the others on a loaded machine.
    public static readonly TimeSpan PaymentConfirmationTimeout = TimeSpan.FromSeconds(8);

    private static int _instances;

    private readonly string _dataDirectory = DataDirectory();
    private DistributedApplication? _app;
    private AppHostLog? _log;

    public OtlpCollector Telemetry { get; private set; } = null!;

    public HttpClient Booking { get; private set; } = null!;

    public HttpClient Order { get; private set; } = null!;

    public HttpClient Notification { get; private set; } = null!;

    public HttpClient Payments { get; private set; } = null!;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The system starts in InitializeAsync.");

    /// <summary>Aspire's dashboard, off unless a test class asks for it (the testing builder's default).</summary>
    protected virtual bool WithDashboard => false;

    /// <summary>Throwaway data in a directory of this fixture's own.</summary>
    protected virtual IEnumerable<string> AppHostArguments => ["--AppHost:EphemeralData=true", $"--AppHost:DataDirectory={_dataDirectory}"];

    protected static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Telemetry = await OtlpCollector.StartAsync();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [.. AppHostArguments],
            (options, _) => options.DisableDashboard = !WithDashboard,
            Cancellation);
        if (!WithDashboard)
        {
            // Without the dashboard, every resource exports to the test's collector (OTLP over HTTP).
            builder.Configuration["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = null;
            builder.Configuration["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = Telemetry.Endpoint;
        }

        builder.CreateResourceBuilder((ProjectResource)builder.Resources.Single(resource => resource.Name == "order"))
            .WithEnvironment("BookingSaga__PaymentConfirmationTimeout", PaymentConfirmationTimeout.ToString())
            .WithEnvironment("PaymentProvider__Resilience__Retry__Delay", "00:00:00.100")
            .WithEnvironment("PaymentProvider__Resilience__CircuitBreaker__BreakDuration", "00:00:01");
        _app = await builder.BuildAsync(Cancellation);
        // One log per fixture instance: every test class starts a system of its own.
        _log = AppHostLog.Start(_app, $"{GetType().Name}-{Interlocked.Increment(ref _instances)}");
        await _app.StartAsync(Cancellation);
        // Parameters have no health, and Aspire's own hidden resources (a project's rebuilder) never run.
        foreach (var resource in builder.Resources.Where(resource => resource is not ParameterResource && !IsHidden(resource)))
        {
            try
            {
                await _app.ResourceNotifications.WaitForResourceHealthyAsync(resource.Name, Cancellation).WaitAsync(TimeSpan.FromSeconds(180), Cancellation)
                    .ConfigureAwait(false);
            }
            catch (TimeoutException timeout)
            {
                throw new TimeoutException($"{resource.Name} was not healthy after 180 s: {HealthOf(resource.Name)}; its log: {_log.Path}", timeout);
            }
        }

        Booking = _app.CreateHttpClient("booking");
        Order = _app.CreateHttpClient("order");
        Notification = _app.CreateHttpClient("notification");
        Payments = _app.CreateHttpClient("payments");
    }

    /// <summary>What the resource's health checks said last, for a failure message.</summary>
    private string HealthOf(string resourceName) =>
        App.ResourceNotifications.TryGetCurrentState(resourceName, out var current)
            ? $"{current.Snapshot.State?.Text} " + string.Join(", ", current.Snapshot.HealthReports.Select(report => $"{report.Name}: {report.Status} {report.Description} {report.ExceptionText}".TrimEnd()))
            : "no state";

    private bool IsHidden(IResource resource) =>
        App.ResourceNotifications.TryGetCurrentState(resource.Name, out var current) && current.Snapshot.IsHidden;

    /// <summary>Sets how the simulated payment provider behaves from now on.</summary>
    public async Task SetPaymentBehaviourAsync(int latencyMs = 100, double declineRate = 0, double errorRate = 0)
    {
        using var response = await Payments.PutAsJsonAsync("/admin/behaviour", new { latencyMs, declineRate, errorRate }, Cancellation);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A throwaway data root that Postgres, run as its own user when the tests run as root, can enter.</summary>
    private static string DataDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("cloudscale-e2e-");
        directory.UnixFileMode |= UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return directory.FullName;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_log is not null)
        {
            await _log.DisposeAsync();
        }

        await Telemetry.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
        GC.SuppressFinalize(this);
    }
}
