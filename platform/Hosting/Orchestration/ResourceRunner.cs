using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting.Orchestration;

/// <summary>Runs one resource of the model and publishes its state, aggregated over its replicas.</summary>
internal abstract class ResourceRunner(IResource resource, OrchestrationContext context) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private ReplicaSnapshot[] _replicas = [];

    public IResource Resource { get; } = resource;

    protected OrchestrationContext Context { get; } = context;

    /// <summary>Lower stops first: projects before the databases and servers they use.</summary>
    public abstract int StopOrder { get; }

    public abstract string? LogFile { get; }

    public abstract Task StartAsync(CancellationToken cancellationToken);

    public abstract Task StopAsync();

    public virtual IReadOnlyList<SupervisedProcess> Processes => [];

    /// <summary>Stopping releases everything a runner owns.</summary>
    public ValueTask DisposeAsync() => new(StopAsync());

    protected void PublishReplica(int index, int replicaCount, ReplicaSnapshot replica, int restarts)
    {
        ReplicaSnapshot[] replicas;
        lock (_gate)
        {
            if (_replicas.Length != replicaCount)
            {
                Array.Resize(ref _replicas, replicaCount);
            }

            _replicas[index] = replica;
            replicas = [.. _replicas];
        }

        _ = Context.Notifications.PublishUpdateAsync(Resource, previous => previous with
        {
            State = AggregateState(replicas),
            HealthStatus = AggregateState(replicas) == KnownResourceStates.Running
                ? replicas.All(r => r is { State: KnownResourceStates.Running, Healthy: true }) ? HealthStatus.Healthy : HealthStatus.Unhealthy
                : null,
            ExitCode = replicas.FirstOrDefault(r => r?.ExitCode is not null)?.ExitCode,
            Urls = [.. Resource.Annotations.OfType<EndpointAnnotation>().Select(endpoint => endpoint.Url.ToString().TrimEnd('/'))],
            LogFile = LogFile,
            Replicas = [.. replicas.Where(r => r is not null)],
            Restarts = restarts,
            Message = replicas.FirstOrDefault(r => r?.Message is not null)?.Message,
        });
    }

    protected void PublishState(string state, HealthStatus? health, string? message = null) =>
        _ = Context.Notifications.PublishUpdateAsync(Resource, previous => previous with { State = state, HealthStatus = health, Message = message, LogFile = LogFile });

    private static string AggregateState(IReadOnlyList<ReplicaSnapshot?> replicas)
    {
        string[] precedence =
        [
            KnownResourceStates.Running, KnownResourceStates.Starting, KnownResourceStates.Exited,
            KnownResourceStates.FailedToStart, KnownResourceStates.Finished,
        ];
        return precedence.FirstOrDefault(state => replicas.Any(replica => replica?.State == state)) ?? KnownResourceStates.Starting;
    }
}

internal sealed class OrchestrationContext(
    DistributedApplicationBuilder builder,
    ResourceNotificationService notifications,
    ProcessReaper reaper,
    IHttpClientFactory httpClients)
{
    public DistributedApplicationBuilder Builder { get; } = builder;

    public ResourceNotificationService Notifications { get; } = notifications;

    public ProcessReaper Reaper { get; } = reaper;

    public IHttpClientFactory HttpClients { get; } = httpClients;

    public string LogDirectory => Path.Combine(Builder.DataDirectory, "logs");

    /// <summary>A server's data directory: under <c>.cloudscale/data</c>, or, for throwaway data, inside the reaper's
    /// directory, which goes away with the run even when the AppHost is killed.</summary>
    public string DataDirectoryOf(IResource resource) => Builder.EphemeralData
        ? Path.Combine(Reaper.Directory, "data", resource.Name)
        : Path.Combine(Builder.DataDirectory, "data", resource.Name);

    public ResourceLog OpenLog(string name) => new(Path.Combine(LogDirectory, name + ".log"));

    public static bool RunningAsRoot => string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
}
