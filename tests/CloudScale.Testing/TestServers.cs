namespace CloudScale.Testing;

/// <summary>
/// The servers one test assembly shares, started on first use. Register it with
/// <c>[assembly: AssemblyFixture(typeof(TestServers))]</c> and take it in a test class constructor.
/// Tests that stop or kill a server start their own with <see cref="RedisServer.StartNewAsync"/> or
/// <see cref="PostgresServer.StartNewAsync"/> instead of disturbing the shared ones.
/// </summary>
public sealed class TestServers : IAsyncDisposable
{
    private readonly Lazy<Task<RedisServer>> _redis = new(() => RedisServer.StartNewAsync());
    private readonly Lazy<Task<PostgresServer>> _postgres = new(PostgresServer.StartNewAsync);

    public Task<RedisServer> RedisAsync() => _redis.Value;

    public Task<PostgresServer> PostgresAsync() => _postgres.Value;

    /// <summary>A new, empty database on the shared server; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null) => await (await PostgresAsync()).CreateDatabaseAsync(name);

    public async ValueTask DisposeAsync()
    {
        if (_redis.IsValueCreated)
        {
            await (await _redis.Value).DisposeAsync();
        }

        if (_postgres.IsValueCreated)
        {
            await (await _postgres.Value).DisposeAsync();
        }

        TestServerRoot.Shared.Dispose();
    }
}
