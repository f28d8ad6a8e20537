using StackExchange.Redis;
using CloudScale.Testing;
using Npgsql;

namespace CloudScale.Notification.Tests;

/// <summary>A class fixture: a fresh database on the shared Postgres, the shared Redis, one Notification service on them, and a Redis client to observe it.</summary>
public sealed class NotificationServiceFixture(TestServers servers) : IAsyncLifetime
{
    private InProcessApp? _service;
    private ConnectionMultiplexer? _redis;

    public string Database { get; private set; } = "";

    public string RedisConnectionString { get; private set; } = "";

    public HttpClient Client => (_service ?? throw new InvalidOperationException("The service starts in InitializeAsync.")).Client;

    public IDatabase Redis => (_redis ?? throw new InvalidOperationException("Redis is connected in InitializeAsync.")).GetDatabase();

    public async ValueTask InitializeAsync()
    {
        Database = await servers.CreateDatabaseAsync();
        RedisConnectionString = (await servers.RedisAsync()).ConnectionString;
        _service = await NotificationService.StartAsync(Database, RedisConnectionString);
        _redis = await ConnectionMultiplexer.ConnectAsync(RedisConnectionString);
    }

    /// <summary>Another replica on the same database and Redis.</summary>
    internal Task<InProcessApp> StartReplicaAsync() => NotificationService.StartAsync(Database, RedisConnectionString);

    /// <summary>How many notifications the database holds for CloudEvent <paramref name="eventId"/>.</summary>
    public async Task<long> CountRowsForEventAsync(string eventId)
    {
        await using var dataSource = NpgsqlDataSource.Create(Database);
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM notifications WHERE event_id = @eventId");
        command.Parameters.AddWithValue("eventId", eventId);
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
    }
}
