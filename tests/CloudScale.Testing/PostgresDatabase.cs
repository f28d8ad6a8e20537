using Xunit;

namespace CloudScale.Testing;

/// <summary>A class fixture: one fresh database on the shared Postgres server for the test class that uses it.</summary>
public sealed class PostgresDatabase(TestServers servers) : IAsyncLifetime
{
    private string? _connectionString;

    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("The database is created in InitializeAsync.");

    public async ValueTask InitializeAsync() => _connectionString = await servers.CreateDatabaseAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
