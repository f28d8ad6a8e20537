using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>Aspire's resource state names (<c>KnownResourceStates</c>).</summary>
public static class KnownResourceStates
{
    public const string NotStarted = "NotStarted";
    public const string Waiting = "Waiting";
    public const string Starting = "Starting";
    public const string Running = "Running";
    public const string RuntimeUnhealthy = "RuntimeUnhealthy";
    public const string Exited = "Exited";
    public const string FailedToStart = "FailedToStart";
    public const string Finished = "Finished";
    public const string Stopping = "Stopping";

    public static IReadOnlyList<string> TerminalStates { get; } = [Finished, FailedToStart, Exited];
}

public sealed record ReplicaSnapshot(string Name, string State, int? ProcessId, int? TargetPort, bool Healthy, int? ExitCode)
{
    public string? Message { get; init; }
}

public sealed record ResourceSnapshot(
    string ResourceType,
    string State,
    HealthStatus? HealthStatus,
    int? ExitCode,
    IReadOnlyList<string> Urls,
    string? LogFile,
    IReadOnlyList<ReplicaSnapshot> Replicas,
    int Restarts,
    string? Message);

public sealed record ResourceEvent(IResource Resource, string ResourceId, ResourceSnapshot Snapshot);

/// <summary>The current state of every resource, and waiting for a resource to reach a state (Aspire's API names).</summary>
public sealed class ResourceNotificationService
{
    private readonly ConcurrentDictionary<string, ResourceEvent> _current = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = NewSignal();

    public bool TryGetCurrentState(string resourceName, out ResourceEvent? resourceEvent) => _current.TryGetValue(resourceName, out resourceEvent);

    public IReadOnlyCollection<ResourceEvent> CurrentStates => [.. _current.Values];

    public Task PublishUpdateAsync(IResource resource, Func<ResourceSnapshot, ResourceSnapshot> update)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            var previous = _current.TryGetValue(resource.Name, out var existing)
                ? existing.Snapshot
                : new ResourceSnapshot(resource.GetType().Name.Replace("Resource", "", StringComparison.Ordinal), KnownResourceStates.NotStarted, null, null, [], null, [], 0, null);
            _current[resource.Name] = new ResourceEvent(resource, resource.Name, update(previous));
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
        return Task.CompletedTask;
    }

    public async Task<ResourceEvent> WaitForResourceAsync(string resourceName, Func<ResourceEvent, bool> predicate, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_current.TryGetValue(resourceName, out var current) && predicate(current))
                {
                    return current;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    public async Task WaitForResourceAsync(string resourceName, string? targetState = null, CancellationToken cancellationToken = default) =>
        await WaitForResourceAsync(resourceName, e => e.Snapshot.State == (targetState ?? KnownResourceStates.Running), cancellationToken);

    /// <summary>Running and healthy; fails at once if the resource ends in FailedToStart.</summary>
    public Task<ResourceEvent> WaitForResourceHealthyAsync(string resourceName, CancellationToken cancellationToken = default) =>
        WaitForResourceAsync(resourceName, e => e.Snapshot.State == KnownResourceStates.FailedToStart
            ? throw new DistributedApplicationException($"Resource '{resourceName}' failed to start: {e.Snapshot.Message}")
            : e.Snapshot is { State: KnownResourceStates.Running, HealthStatus: HealthStatus.Healthy }, cancellationToken);

    public async IAsyncEnumerable<ResourceEvent> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var seen = new Dictionary<string, ResourceSnapshot>(StringComparer.Ordinal);
        while (!cancellationToken.IsCancellationRequested)
        {
            Task changed;
            List<ResourceEvent> updates;
            lock (_gate)
            {
                updates = [.. _current.Values.Where(e => !seen.TryGetValue(e.ResourceId, out var last) || !ReferenceEquals(last, e.Snapshot))];
                changed = _changed.Task;
            }

            foreach (var update in updates)
            {
                seen[update.ResourceId] = update.Snapshot;
                yield return update;
            }

            try
            {
                await changed.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
