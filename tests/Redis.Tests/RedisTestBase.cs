using CloudScale.Testing;

namespace CloudScale.Redis.Tests;

/// <summary>A multiplexer of its own on the shared server; keys carry a unique suffix so that tests never collide.</summary>
public abstract class RedisTestBase(TestServers servers) : IAsyncLifetime
{
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    protected static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    protected RedisServer Server { get; private set; } = null!;

    protected ConnectionMultiplexer Redis { get; private set; } = null!;

    protected IDatabase Db => Redis.GetDatabase();

    public async ValueTask InitializeAsync()
    {
        Server = await servers.RedisAsync();
        Redis = await ConnectionMultiplexer.ConnectAsync(Server.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await Redis.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected static string Key(string name) => $"{name}:{Guid.NewGuid():N}";
}
