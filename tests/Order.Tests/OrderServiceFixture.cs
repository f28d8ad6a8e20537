using Dapr.Workflow;
using Microsoft.Extensions.DependencyInjection;

namespace CloudScale.Order.Tests;

/// <summary>
/// A class fixture: a fresh database on the shared Postgres, the shared Redis, and one Order service on them with its
/// sidecar, which keeps the sagas it starts (no other app is reachable through it).
/// </summary>
public class OrderServiceFixture(TestServers servers) : IAsyncLifetime
{
    private DaprSidecar? _sidecar;
    private InProcessApp? _service;

    public string Database { get; private set; } = "";

    public HttpClient Client => (_service ?? throw new InvalidOperationException("The service starts in InitializeAsync.")).Client;

    public virtual async ValueTask InitializeAsync()
    {
        Database = await servers.CreateDatabaseAsync();
        var redis = (await servers.RedisAsync()).ConnectionString;
        _sidecar = await OrderService.StartSidecarAsync(redis);
        _service = await OrderService.StartOrderAsync(Database, redis, _sidecar.Settings, Settings, RunsSagas, Logs);
    }

    /// <summary>Everything the service logged.</summary>
    public ListLoggerProvider Logs { get; } = new();

    /// <summary>The service's workflow client, to drive its sagas as an operator would.</summary>
    public DaprWorkflowClient Workflows => Services.GetRequiredService<DaprWorkflowClient>();

    /// <summary>The running service's own services, to call one of its parts directly.</summary>
    public IServiceProvider Services => (_service ?? throw new InvalidOperationException("The service starts in InitializeAsync.")).App.Services;

    /// <summary>Configuration beyond <see cref="OrderService"/>'s test defaults.</summary>
    protected virtual IReadOnlyDictionary<string, string?>? Settings => null;

    /// <summary>Whether the service's workflow worker runs the sagas it schedules (Booking and the provider unreachable).</summary>
    protected virtual bool RunsSagas => false;

    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
