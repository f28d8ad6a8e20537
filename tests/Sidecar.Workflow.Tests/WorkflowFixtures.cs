using CloudScale.Testing;

namespace CloudScale.Sidecar.Workflow.Tests;

/// <summary>A sidecar whose actor state store is <paramref name="store"/>'s, and one worker app on it.</summary>
public abstract class WorkflowFixture(TestServers servers) : IAsyncLifetime
{
    internal TestServers Servers { get; } = servers;

    internal string AppId { get; } = $"wf-{Guid.NewGuid().ToString("N")[..8]}";

    internal DaprSidecar Sidecar { get; private set; } = null!;

    internal WorkerHost Worker { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Sidecar = await DaprSidecar.StartAsync(new SidecarSettings(AppId, SidecarResources.Folder(("workflowstore.yaml", await WorkflowStoreAsync()))));
        Worker = await WorkerHost.StartAsync(Sidecar, "worker");
    }

    /// <summary>The component YAML of the workflow store, marked <c>actorStateStore: "true"</c>.</summary>
    private protected abstract Task<string> WorkflowStoreAsync();

    public async ValueTask DisposeAsync()
    {
        await Worker.DisposeAsync();
        await Sidecar.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class RedisWorkflowFixture(TestServers servers) : WorkflowFixture(servers)
{
    private protected override async Task<string> WorkflowStoreAsync() =>
        WorkflowStores.Redis((await Servers.RedisAsync()).ConnectionString);
}

public sealed class PostgresWorkflowFixture(TestServers servers) : WorkflowFixture(servers)
{
    private protected override async Task<string> WorkflowStoreAsync() =>
        WorkflowStores.Postgres(await Servers.CreateDatabaseAsync());
}

internal static class WorkflowStores
{
    public static string Redis(string redisHost) =>
        SidecarResources.RedisStateStore("workflowstore", redisHost, ("actorStateStore", "true"));

    public static string Postgres(string connectionString) =>
        SidecarResources.Component("workflowstore", "state.postgresql", ("connectionString", connectionString), ("actorStateStore", "true"));
}
