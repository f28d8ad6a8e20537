using CloudScale.Testing;

namespace CloudScale.Booking.Tests;

/// <summary>A class fixture: a fresh database on the shared Postgres, the shared Redis, and one Booking service on them.</summary>
public class BookingServiceFixture(TestServers servers) : IAsyncLifetime
{
    private InProcessApp? _service;

    public TestServers Servers => servers;

    public string Database { get; private set; } = "";

    public HttpClient Client => (_service ?? throw new InvalidOperationException("The service starts in InitializeAsync.")).Client;

    public virtual async ValueTask InitializeAsync()
    {
        Database = await servers.CreateDatabaseAsync();
        _service = await BookingService.StartAsync(Database, (await servers.RedisAsync()).ConnectionString);
    }

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
