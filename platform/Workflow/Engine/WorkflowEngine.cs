using System.Collections.Concurrent;
using System.Diagnostics;
using Dapr.Workflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CloudScale.Workflow.Engine;

/// <summary>
/// The engine inside the application: creates instances and delivers messages to them for the client, and advances
/// them one leased step or activity at a time for the worker. Every replica runs one over the same store.
/// </summary>
internal sealed partial class WorkflowEngine
{
    private const int MaxCommitAttempts = 20;
    private const int MaxPurgeAttempts = 5;

    private readonly IWorkflowStore _store;
    private readonly WorkflowRuntimeOptions _options;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _clock;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;

    /// <summary>Instances whose lease this engine kept at its last commit of them, with when that lease expires.</summary>
    private readonly Dictionary<string, DateTimeOffset> _keptLeases = new(StringComparer.Ordinal);

    /// <summary>
    /// Results of activities this engine ran for instances it holds, for the next step here to take without their being
    /// written to the store first; guarded, with <see cref="_keptLeases"/>, by <see cref="_localLock"/>.
    /// </summary>
    private readonly Dictionary<string, List<LocalResult>> _localResults = new(StringComparer.Ordinal);

    private readonly Lock _localLock = new();

    public WorkflowEngine(IWorkflowStore store, WorkflowRuntimeOptions options, IServiceProvider services, TimeProvider clock, ILoggerFactory loggers)
    {
        _store = store;
        _options = options;
        _services = services;
        _clock = clock;
        _loggers = loggers;
        _logger = loggers.CreateLogger<WorkflowEngine>();
        WorkerId = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>Who holds the leases this engine takes: unique per engine, so two engines in one process are two replicas.</summary>
    public string WorkerId { get; }

    /// <summary>
    /// The local worker, told of the work each change this engine commits makes ready, so that the replica that made it
    /// runs it at once; polling the store is left to find what other replicas, timers and crashes leave behind.
    /// </summary>
    public IReadyWorkListener? ReadyWork { get; set; }

    /// <summary>Set whenever this engine changes an instance, so local waits for a status return at once.</summary>
    public AsyncSignal InstancesChanged { get; } = new();

    public WorkflowRuntimeOptions Options => _options;

    // ---- Client operations ----

    public async Task<string> ScheduleAsync(string name, string? instanceId, string? serializedInput, DateTimeOffset? startAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        instanceId ??= Guid.NewGuid().ToString();
        InstanceIds.ThrowIfInvalid(instanceId);
        var now = _clock.GetUtcNow();
        var executionId = StepPlanner.NewExecutionId();
        // An instance that starts now is created leased to this replica, whose worker runs its first step next.
        var lease = ReadyWork is not null && !(startAt > now) ? new WorkflowLease(WorkerId, now + _options.WorkflowLeaseDuration) : null;
        var metadata = new WorkflowMetadata(instanceId, name, WorkflowRuntimeStatus.Pending, executionId, now, now, serializedInput, Lease: lease);
        var start = new InboxMessage(
            Guid.NewGuid().ToString("N"), new ExecutionStarted(now, name, serializedInput, Activity.Current?.Id), startAt > now ? startAt.Value : now, executionId);
        if (!await _store.TryCreateAsync(new NewWorkflowInstance(metadata, start), cancellationToken))
        {
            throw new InvalidOperationException($"an active workflow with ID '{instanceId}' already exists");
        }

        if (lease is not null)
        {
            lock (_localLock)
            {
                _keptLeases[instanceId] = lease.ExpiresAt;
            }
        }

        WorkflowTelemetry.Started.Add(1, new KeyValuePair<string, object?>(WorkflowTelemetry.WorkflowNameTag, name));
        Changed();
        StepReadyAt(instanceId, start.VisibleAt);
        return instanceId;
    }

    public Task<WorkflowMetadata?> GetMetadataAsync(string instanceId, CancellationToken cancellationToken) =>
        _store.GetMetadataAsync(instanceId, cancellationToken);

    /// <summary>Delivers a message to an instance (a finished one ignores it); false if there is no such instance.</summary>
    public async Task<bool> SendAsync(string instanceId, HistoryEvent message, CancellationToken cancellationToken)
    {
        var delivered = await _store.DeliverAsync(instanceId, new InboxMessage(Guid.NewGuid().ToString("N"), message, message.Timestamp), cancellationToken);
        Changed();
        if (delivered)
        {
            StepReadyAt(instanceId, message.Timestamp);
        }

        return delivered;
    }

    public DateTimeOffset Now => _clock.GetUtcNow();

    /// <summary>Purges a finished instance and the children it started.</summary>
    public async Task<PurgeOutcome> PurgeAsync(string instanceId, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxPurgeAttempts; attempt++)
        {
            var record = await _store.LoadAsync(instanceId, cancellationToken);
            if (record is null)
            {
                return PurgeOutcome.NotFound;
            }

            if (!record.Metadata.IsFinished)
            {
                return PurgeOutcome.NotFinished;
            }

            // A late message to a finished instance changes its etag without changing anything that matters: try again.
            if (await _store.TryPurgeAsync(instanceId, record.ETag, cancellationToken))
            {
                foreach (var child in record.History.OfType<SubOrchestrationCreated>())
                {
                    await PurgeAsync(child.InstanceId, cancellationToken);
                }

                return PurgeOutcome.Purged;
            }
        }

        return PurgeOutcome.NotFinished;
    }

    /// <summary>Waits until the instance's metadata satisfies <paramref name="done"/>, polling the store for other replicas' changes.</summary>
    public async Task<WorkflowMetadata> WaitAsync(string instanceId, Func<WorkflowMetadata, bool> done, CancellationToken cancellationToken)
    {
        while (true)
        {
            var changed = InstancesChanged.Next;
            if (await _store.GetMetadataAsync(instanceId, cancellationToken) is { } metadata && done(metadata))
            {
                return metadata;
            }

            await AsyncSignal.WaitAsync(changed, _options.PollingInterval, cancellationToken);
        }
    }

    // ---- Worker operations ----

    public Task<WorkSnapshot> GetWorkAsync(CancellationToken cancellationToken) => _store.GetWorkAsync(cancellationToken);

    /// <summary>Leases the instance, runs one step over what its inbox holds and commits it; false if another worker holds it.</summary>
    public async Task<bool> RunWorkflowStepAsync(string instanceId, CancellationToken cancellationToken)
    {
        // Commits are retried while messages keep arriving, but only within the first half of the lease, so that a
        // commit never lands after another replica may have taken the instance over.
        var (record, leaseUntil, localResults) = await AcquireAsync(instanceId, cancellationToken);
        var committed = false;
        try
        {
            committed = await StepAsync(instanceId, record, leaseUntil, localResults, cancellationToken);
            return committed;
        }
        finally
        {
            if (!committed)
            {
                await StoreResultsAsync(localResults, cancellationToken);
            }
        }
    }

    private async Task<bool> StepAsync(
        string instanceId, WorkflowInstanceRecord? record, DateTimeOffset leaseUntil, List<LocalResult> localResults, CancellationToken cancellationToken)
    {
        var retryUntil = leaseUntil - (_options.WorkflowLeaseDuration / 2);
        for (var attempt = 1; record?.Metadata.Lease?.Owner == WorkerId; attempt++)
        {
            record = WithResults(record, localResults);
            var traceParent = record.History.Concat(record.Inbox.Select(message => message.Event)).OfType<ExecutionStarted>().FirstOrDefault()?.TraceParent;
            using var span = WorkflowTelemetry.Source.StartActivity($"workflow {record.Metadata.Name}", ActivityKind.Internal, ParentOf(traceParent));
            span?.SetTag(WorkflowTelemetry.InstanceIdTag, instanceId);
            span?.SetTag(WorkflowTelemetry.WorkflowNameTag, record.Metadata.Name);
            span?.SetTag(WorkflowTelemetry.WorkerTag, WorkerId);
            var commit = StepPlanner.Plan(record, _clock.GetUtcNow(), ResolveWorkflow, _loggers, span?.Id ?? traceParent);
            commit = KeepWorkLocal(record, await FailChildrenThatAlreadyRunAsync(commit, cancellationToken))
                with { CompletedActivities = [.. localResults.Select(local => local.Item.TaskId)] };
            if (await _store.TryCommitAsync(commit, cancellationToken))
            {
                if (commit.Metadata.Lease is { } kept)
                {
                    lock (_localLock)
                    {
                        _keptLeases[instanceId] = kept.ExpiresAt;
                    }
                }

                span?.SetTag(WorkflowTelemetry.StatusTag, commit.Metadata.RuntimeStatus.ToString());
                Committed(record.Metadata, commit);
                return true;
            }

            // Something arrived in the inbox meanwhile: replay again over the newer state, still under our lease.
            span?.SetTag("workflow.step.conflict", true);
            if (attempt == MaxCommitAttempts || _clock.GetUtcNow() > retryUntil)
            {
                Log.CommitConflicts(_logger, instanceId, attempt);
                return false;
            }

            record = await _store.LoadAsync(instanceId, cancellationToken);
        }

        return false;
    }

    /// <summary>
    /// The instance under this engine's lease, until when, and the results of activities run here that it takes: the
    /// lease kept at its last commit here while at least half of it is left (loading is then enough), else a new lease
    /// (the results then go to the store first); a null record if another worker holds the instance.
    /// </summary>
    private async Task<(WorkflowInstanceRecord? Record, DateTimeOffset LeaseUntil, List<LocalResult> LocalResults)> AcquireAsync(
        string instanceId, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        DateTimeOffset keptUntil;
        List<LocalResult>? localResults;
        lock (_localLock)
        {
            _keptLeases.Remove(instanceId, out keptUntil);
            _localResults.Remove(instanceId, out localResults);
        }

        localResults ??= [];
        if (keptUntil - now > _options.WorkflowLeaseDuration / 2
            && await _store.LoadAsync(instanceId, cancellationToken) is { Metadata.Lease: { } lease } record
            && lease.Owner == WorkerId
            && lease.ExpiresAt == keptUntil)
        {
            return (record, keptUntil, localResults);
        }

        await StoreResultsAsync(localResults, cancellationToken);
        var leaseUntil = now + _options.WorkflowLeaseDuration;
        return (await _store.TryLeaseInstanceAsync(instanceId, WorkerId, leaseUntil, cancellationToken), leaseUntil, []);
    }

    /// <summary>The record with the results of activities run here added to its inbox, except any it already has.</summary>
    private static WorkflowInstanceRecord WithResults(WorkflowInstanceRecord record, List<LocalResult> localResults)
    {
        var known = record.Inbox.Where(message => message.Event is TaskCompleted or TaskFailed)
            .Select(message => (message.ExecutionId, ((TaskResultEvent)message.Event).TaskId))
            .ToHashSet();
        var added = localResults.Where(local => !known.Contains((local.Result.ExecutionId, local.Item.TaskId))).Select(local => local.Result).ToList();
        return added.Count == 0 ? record : record with { Inbox = [.. record.Inbox, .. added] };
    }

    /// <summary>Records results that were held for a step here which did not take them, through the store as usual.</summary>
    private async Task StoreResultsAsync(List<LocalResult> localResults, CancellationToken cancellationToken)
    {
        foreach (var (item, result) in localResults)
        {
            await CompleteThroughStoreAsync(item, result, cancellationToken);
        }

        localResults.Clear();
    }

    /// <summary>
    /// With this replica's worker there to run them, the activities a step schedules are stored leased to it, and an
    /// instance left running with activities to wait for stays leased to it for the step their results make ready:
    /// neither is leased again call by call (a fan-out's results come in over several steps).
    /// </summary>
    private WorkflowCommit KeepWorkLocal(WorkflowInstanceRecord record, WorkflowCommit commit)
    {
        if (ReadyWork is null || commit.Metadata.RuntimeStatus != WorkflowRuntimeStatus.Running)
        {
            return commit;
        }

        var now = _clock.GetUtcNow();
        if (commit.ScheduledActivities.Count > 0)
        {
            commit = commit with { ActivityLease = new WorkflowLease(WorkerId, now + _options.ActivityLeaseDuration) };
        }

        IReadOnlyList<HistoryEvent> history = commit.ReplacesHistory ? commit.AppendedHistory : [.. record.History, .. commit.AppendedHistory];
        var resolved = history.OfType<TaskResultEvent>().Select(result => result.TaskId).ToHashSet();
        return history.OfType<TaskScheduled>().Any(call => !resolved.Contains(call.TaskId))
            ? commit with { Metadata = commit.Metadata with { Lease = new WorkflowLease(WorkerId, now + _options.WorkflowLeaseDuration) } }
            : commit;
    }

    /// <summary>Leases an activity, runs it and delivers its result; false if it is gone or another worker holds it.</summary>
    public async Task<bool> RunActivityAsync(ActivityKey key, CancellationToken cancellationToken)
    {
        var item = await _store.TryLeaseActivityAsync(key, WorkerId, _clock.GetUtcNow() + _options.ActivityLeaseDuration, cancellationToken);
        if (item is null)
        {
            return false;
        }

        await RunLeasedActivityAsync(item, cancellationToken);
        return true;
    }

    /// <summary>Runs an activity this engine holds the lease of (its <see cref="ActivityWorkItem.LeaseToken"/>) and delivers its result.</summary>
    public async Task RunLeasedActivityAsync(ActivityWorkItem item, CancellationToken cancellationToken)
    {
        using var span = WorkflowTelemetry.Source.StartActivity($"activity {item.Name}", ActivityKind.Internal, ParentOf(item.TraceParent));
        span?.SetTag(WorkflowTelemetry.InstanceIdTag, item.InstanceId);
        span?.SetTag(WorkflowTelemetry.ActivityNameTag, item.Name);
        span?.SetTag(WorkflowTelemetry.TaskIdTag, item.TaskId);
        span?.SetTag(WorkflowTelemetry.WorkerTag, WorkerId);
        var started = Stopwatch.GetTimestamp();
        HistoryEvent result;
        try
        {
            result = new TaskCompleted(_clock.GetUtcNow(), item.TaskId, await InvokeActivityAsync(item));
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The activity's failure is its result: the workflow decides (retry policy, catch) what it means.
            result = new TaskFailed(_clock.GetUtcNow(), item.TaskId, WorkflowTaskFailureDetails.From(exception));
            span?.SetStatus(ActivityStatusCode.Error, exception.Message);
        }

        WorkflowTelemetry.ActivityDuration.Record(
            Stopwatch.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>(WorkflowTelemetry.ActivityNameTag, item.Name),
            new KeyValuePair<string, object?>(WorkflowTelemetry.OutcomeTag, result is TaskCompleted ? "completed" : "failed"));
        var message = new InboxMessage(Guid.NewGuid().ToString("N"), result, _clock.GetUtcNow(), item.ExecutionId);
        lock (_localLock)
        {
            // This engine holds the instance and no step of it is running here: its next step takes the result directly.
            if (ReadyWork is { } worker && _keptLeases.ContainsKey(item.InstanceId))
            {
                var held = _localResults.TryGetValue(item.InstanceId, out var existing) ? existing : _localResults[item.InstanceId] = [];
                held.Add(new LocalResult(item, message));
                worker.StepReady(item.InstanceId);
                return;
            }
        }

        await CompleteThroughStoreAsync(item, message, cancellationToken);
    }

    private async Task CompleteThroughStoreAsync(ActivityWorkItem item, InboxMessage message, CancellationToken cancellationToken)
    {
        if (await _store.TryCompleteActivityAsync(item, message, cancellationToken))
        {
            Changed();
            ReadyWork?.StepReady(item.InstanceId);
        }
        else
        {
            Log.ActivityLeaseLost(_logger, item.Name, item.TaskId, item.InstanceId);
        }
    }

    private async Task<string?> InvokeActivityAsync(ActivityWorkItem item)
    {
        var create = _options.Activities.GetValueOrDefault(item.Name)
            ?? throw new InvalidOperationException($"No activity named '{item.Name}' is registered with this application.");
        await using var scope = _services.CreateAsyncScope();
        var activity = create(scope.ServiceProvider);
        var input = WorkflowJson.Deserialize(item.Input, activity.InputType);
        var output = await activity.RunAsync(new ActivityExecutionContext(item), input);
        return WorkflowJson.Serialize(output, activity.OutputType);
    }

    /// <summary>Steps and activities continue the trace of the request that started the instance, however much later they run.</summary>
    private static ActivityContext ParentOf(string? traceParent) =>
        ActivityContext.TryParse(traceParent, null, out var parent) ? parent : default;

    private IWorkflow? ResolveWorkflow(string name) => _options.Workflows.GetValueOrDefault(name) is { } create ? create(_services) : null;

    /// <summary>
    /// A child whose ID belongs to a running instance is not started: its call fails instead, as in Durable Task. The store
    /// refuses the commit if such an instance appears between this check and the commit, and the step is planned again.
    /// </summary>
    private async Task<WorkflowCommit> FailChildrenThatAlreadyRunAsync(WorkflowCommit commit, CancellationToken cancellationToken)
    {
        List<NewWorkflowInstance> refused = [];
        foreach (var child in commit.StartedInstances)
        {
            if (await _store.GetMetadataAsync(child.Metadata.InstanceId, cancellationToken) is { IsFinished: false })
            {
                refused.Add(child);
            }
        }

        if (refused.Count == 0)
        {
            return commit;
        }

        var failures = refused.Select(child => new InboxMessage(
            Guid.NewGuid().ToString("N"),
            new SubOrchestrationFailed(commit.Metadata.LastUpdatedAt, child.Metadata.Parent!.TaskId, new WorkflowTaskFailureDetails(
                typeof(InvalidOperationException).FullName!, $"an active workflow with ID '{child.Metadata.InstanceId}' already exists")),
            commit.Metadata.LastUpdatedAt,
            commit.Metadata.ExecutionId));
        return commit with { StartedInstances = [.. commit.StartedInstances.Except(refused)], Inbox = [.. commit.Inbox, .. failures] };
    }

    private void Committed(WorkflowMetadata before, WorkflowCommit commit)
    {
        foreach (var child in commit.StartedInstances)
        {
            WorkflowTelemetry.Started.Add(1, new KeyValuePair<string, object?>(WorkflowTelemetry.WorkflowNameTag, child.Metadata.Name));
        }

        var name = new KeyValuePair<string, object?>(WorkflowTelemetry.WorkflowNameTag, commit.Metadata.Name);
        if (before.RuntimeStatus != commit.Metadata.RuntimeStatus)
        {
            switch (commit.Metadata.RuntimeStatus)
            {
                case WorkflowRuntimeStatus.Completed:
                    WorkflowTelemetry.Completed.Add(1, name);
                    break;
                case WorkflowRuntimeStatus.Failed:
                    WorkflowTelemetry.Failed.Add(1, name);
                    Log.WorkflowFailed(_logger, commit.Metadata.Name, commit.Metadata.InstanceId, commit.Metadata.FailureDetails?.ErrorMessage);
                    break;
            }
        }

        Changed();
        if (commit.ActivityLease is { } lease)
        {
            foreach (var activity in commit.ScheduledActivities)
            {
                ReadyWork?.ActivityLeased(activity with { LeaseToken = lease.Token });
            }
        }

        foreach (var instanceId in commit.StartedInstances.Select(child => child.Metadata.InstanceId).Concat(commit.Messages.Select(message => message.InstanceId)))
        {
            ReadyWork?.StepReady(instanceId);
        }

        if (commit.Metadata.WakeUpTime(commit.Inbox) is { } wakeUp)
        {
            StepReadyAt(commit.Metadata.InstanceId, wakeUp);
        }
    }

    private void StepReadyAt(string instanceId, DateTimeOffset time)
    {
        if (time <= _clock.GetUtcNow())
        {
            ReadyWork?.StepReady(instanceId);
        }
        else
        {
            ReadyWork?.DueAt(time);
        }
    }

    private void Changed() => InstancesChanged.Set();

    /// <summary>An activity's result held in memory for the step that takes it, with the work item it completes.</summary>
    private sealed record LocalResult(ActivityWorkItem Item, InboxMessage Result);

    private sealed class ActivityExecutionContext(ActivityWorkItem item) : WorkflowActivityContext
    {
        public override TaskIdentifier Identifier { get; } = new(item.Name);

        public override string InstanceId => item.InstanceId;

        public override string TaskExecutionKey { get; } = $"{item.InstanceId}:{item.ExecutionId}:{item.TaskId}";
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Workflow instance {InstanceId} changed under {Attempts} consecutive commits; leaving it to the next poll")]
        public static partial void CommitConflicts(ILogger logger, string instanceId, int attempts);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Activity {ActivityName} (#{TaskId}) of {InstanceId} finished after its lease passed to another worker; its result was dropped")]
        public static partial void ActivityLeaseLost(ILogger logger, string activityName, int taskId, string instanceId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Workflow {WorkflowName} instance {InstanceId} failed: {Reason}")]
        public static partial void WorkflowFailed(ILogger logger, string workflowName, string instanceId, string? reason);
    }
}

/// <summary>What the engine tells the worker of its own process about work it has just made ready.</summary>
internal interface IReadyWorkListener
{
    /// <summary>The instance has messages to act on now; a step already running for it should run once more.</summary>
    void StepReady(string instanceId);

    /// <summary>An activity stored leased to this engine (<see cref="WorkflowCommit.ActivityLease"/>), to run now.</summary>
    void ActivityLeased(ActivityWorkItem activity);

    /// <summary>Something (a timer, a delayed start) becomes ready at <paramref name="time"/>.</summary>
    void DueAt(DateTimeOffset time);
}

internal enum PurgeOutcome
{
    NotFound,
    NotFinished,
    Purged,
}
