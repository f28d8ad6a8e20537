using Microsoft.Extensions.Logging;
using CloudScale.Testing;

namespace CloudScale.Booking.Tests;

/// <summary>A class fixture: a fresh database on the shared Postgres, the shared Redis, and one Booking service on them.</summary>
public class BookingServiceFixture(TestServers servers) : IAsyncLifetime
{
    private InProcessApp? _service;

    public TestServers Servers => servers;

    public string Database { get; private set; } = "";

    public InProcessApp Service => _service ?? throw new InvalidOperationException("The service starts in InitializeAsync.");

    public HttpClient Client => Service.Client;

    public string Redis { get; private set; } = "";

    public virtual async ValueTask InitializeAsync()
    {
        Database = await servers.CreateDatabaseAsync();
        Redis = (await servers.RedisAsync()).ConnectionString;
        _service = await BookingService.StartAsync(Database, Redis);
    }

    /// <summary>Another replica on the same database and Redis.</summary>
    public Task<InProcessApp> StartReplicaAsync(IReadOnlyDictionary<string, string?>? settings = null, ILoggerProvider? logs = null) =>
        BookingService.StartAsync(Database, Redis, settings, logs: logs);

    /// <summary>Every row of <paramref name="table"/>, to show that a rejected request changed nothing.</summary>
    public Task<string> SnapshotAsync(string table) => Sql.SnapshotAsync(Database, table);

    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
