using StackExchange.Redis;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Tests;

/// <summary>
/// One sidecar (and, if the class needs one, a subscriber app) started once for all the tests of a class; the tests of
/// a class run one after another, and each uses keys and topics of its own.
/// </summary>
public abstract class SidecarFixture(string appId) : IAsyncLifetime
{
    internal string AppId { get; } = appId;

    internal DaprSidecar Sidecar { get; private set; } = null!;

    internal SubscriberApp? App { get; private set; }

    public async ValueTask InitializeAsync()
    {
        App = await StartAppAsync();
        Sidecar = await Sidecars.StartAsync(AppId, SidecarResources.Folder(await ResourcesAsync()), App?.Port);
    }

    public async ValueTask DisposeAsync()
    {
        await Sidecar.DisposeAsync();
        if (App is not null)
        {
            await App.DisposeAsync();
        }

        await DisposeMoreAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>A name no other class uses, for topics and streams on the shared Redis.</summary>
    internal string Unique(string name) => $"{name}-{AppId}";

    private protected abstract Task<(string File, string Yaml)[]> ResourcesAsync();

    /// <summary>The app the sidecar delivers to, if the class needs one.</summary>
    private protected virtual Task<SubscriberApp?> StartAppAsync() => Task.FromResult<SubscriberApp?>(null);

    /// <summary>Releases what a derived fixture holds, after the sidecar has stopped.</summary>
    private protected virtual ValueTask DisposeMoreAsync() => ValueTask.CompletedTask;
}

/// <summary>A <see cref="SidecarFixture"/> on the shared Redis, with a direct connection to read what the sidecar wrote; its app id is unique.</summary>
public abstract class RedisSidecarFixture(TestServers servers, string appIdPrefix) : SidecarFixture($"{appIdPrefix}-{Guid.NewGuid().ToString("N")[..8]}")
{
    private ConnectionMultiplexer? _redis;

    internal IDatabase Redis => _redis!.GetDatabase();

    private protected override ValueTask DisposeMoreAsync() => _redis?.DisposeAsync() ?? ValueTask.CompletedTask;

    private protected sealed override async Task<(string File, string Yaml)[]> ResourcesAsync()
    {
        var redis = await servers.RedisAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        return Resources(redis.ConnectionString);
    }

    /// <summary>The resource files, given the Redis <c>host:port</c>.</summary>
    private protected abstract (string File, string Yaml)[] Resources(string redisHost);
}
