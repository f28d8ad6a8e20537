using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using CloudScale.Sidecar.State;
using CloudScale.Sidecar.Telemetry;
using Dapr.DurableTask.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CloudScale.Sidecar.Workflow;

/// <summary>How long a worker holds a work item before it is handed out again, and how often the store is scanned for due work.</summary>
internal sealed record WorkflowTimings(TimeSpan LeaseDuration, TimeSpan PollInterval)
{
    public static WorkflowTimings Default { get; } = new(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
}

/// <summary>One worker's <c>GetWorkItems</c> stream: the work items waiting to be written to it, and the leases it holds.</summary>
internal sealed class WorkerStream
{
    public Channel<WorkItem> Items { get; } = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Completion token → the work item this stream was given and has not completed.</summary>
    public ConcurrentDictionary<string, HeldItem> Held { get; } = new(StringComparer.Ordinal);
}

/// <summary>A work item a worker holds: its instance, when it was claimed, and when its lease expires as last written.</summary>
internal sealed record HeldItem(string InstanceId, long ClaimedAt, long ExpiresAt);

/// <summary>
/// The durable task backend: the instance operations of <c>TaskHubSidecarService</c> and the HTTP workflow API, and the
/// dispatch of work items to the connected workers of this app. Every change is a step on one instance record
/// (<see cref="InstanceSteps"/>) written by <see cref="WorkflowStore.UpdateAsync{T}"/>; work is claimed under a lease in
/// the store, so several sidecars of one app id share the store and each item goes to exactly one worker at a time. Each
/// instance is run by the workers of the sidecar that owns it (<see cref="WorkflowMembers"/>), so that instances spread
/// over the app's replicas.
/// </summary>
internal sealed partial class WorkflowBackend(WorkflowStore? store, WorkflowTimings timings, TimeProvider time, ILogger<WorkflowBackend> logger)
{
    /// <summary>daprd's <c>ErrActorRuntimeNotFound</c>, the answer to a workflow call when no state store is marked for actors.</summary>
    public const string NotConfiguredMessage =
        "the state store is not configured to use the actor runtime. Have you set the - name: actorStateStore value: \"true\" in your state store component file?";

    /// <summary>How many instances a purge by filter reads at a time.</summary>
    private const uint PurgePageSize = 100;

    private static readonly TimeSpan MissingGrace = TimeSpan.FromSeconds(30);

    /// <summary>How far ahead this sidecar wakes itself for a timer it wrote, rather than waiting for the next scan.</summary>
    private static readonly TimeSpan LocalWakeHorizon = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<WorkerStream, byte> _streams = new();
    private readonly InstanceWatchers _watchers = new();
    private readonly ConcurrentDictionary<string, long> _missingSince = new(StringComparer.Ordinal);
    private readonly WriteCoalescer<QueuedStep> _steps = new();
    private readonly WorkflowMembers _members = new();
    private int _nextStream;

    public WorkflowTimings Timings => timings;

    public bool HasWorkers => !_streams.IsEmpty;

    public int ConnectedWorkers => _streams.Count;

    public bool IsConfigured => store is not null;

    public static WorkflowException NotConfigured() => new(WorkflowErrorKind.NotConfigured, NotConfiguredMessage);

    private WorkflowStore Store => store ?? throw NotConfigured();

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// How long a sidecar's membership lasts after its last scan wrote it, and how long work may wait for its owner before
    /// any sidecar takes it (the owner may have died, or the members' views of each other may differ for a moment).
    /// </summary>
    private long MembershipMilliseconds => (long)(timings.PollInterval.TotalMilliseconds * 4);

    public async Task<string> StartAsync(CreateInstanceRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.Name))
        {
            throw new WorkflowException(WorkflowErrorKind.InvalidArgument, "the workflow name is required");
        }

        var instanceId = string.IsNullOrEmpty(request.InstanceId) ? Guid.NewGuid().ToString("N") : request.InstanceId;
        using var span = SidecarTelemetry.Source.StartActivity($"create_orchestration||{request.Name}", ActivityKind.Server, ParentContext(request.ParentTraceContext));
        var trace = span is null ? request.ParentTraceContext : new TraceContext { TraceParent = span.Id, TraceState = span.TraceStateString };
        var now = Now;
        var started = HistoryEvents.ExecutionStarted(
            InstanceSteps.FromMilliseconds(now), instanceId, request.ExecutionId ?? Guid.NewGuid().ToString("N"), request.Name, request.Input, null, trace, request.ScheduledStartTimestamp);
        var visibleAt = request.ScheduledStartTimestamp is { } start ? Math.Max(now, InstanceSteps.ToMilliseconds(start)) : now;
        await CreateAsync(instanceId, now, existing =>
            // As daprd: an instance id is reused only once its instance has ended.
            existing is { IsTerminal: false }
                ? throw new WorkflowException(WorkflowErrorKind.AlreadyExists, ActiveExistsMessage(instanceId))
                : InstanceSteps.Create(instanceId, started, visibleAt, now, null),
            cancellationToken);
        return instanceId;
    }

    /// <summary>
    /// daprd's rerun of an ended instance from one of its events (<see cref="InstanceRerun"/>) as a new instance, under
    /// the id asked for or a new one; an id that has a record, even of an ended instance, is refused.
    /// </summary>
    public async Task<string> RerunAsync(RerunWorkflowFromEventRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.SourceInstanceID))
        {
            throw new WorkflowException(WorkflowErrorKind.InvalidArgument, "rerun workflow source instance ID is required");
        }

        var instanceId = request.HasNewInstanceID ? request.NewInstanceID : Guid.NewGuid().ToString();
        if (instanceId == request.SourceInstanceID)
        {
            throw new WorkflowException(WorkflowErrorKind.InvalidArgument, "rerun workflow instance ID must be different from the original instance ID");
        }

        var source = await Store.ReadAsync(request.SourceInstanceID, cancellationToken)
            ?? throw new WorkflowException(WorkflowErrorKind.NotFound, $"workflow instance does not exist with ID '{request.SourceInstanceID}'");
        var now = Now;
        // A first fork refuses a bad event before anything is written (daprd, too, forks before it looks at the new id);
        // each attempt of the write forks afresh, as the write claims work in the record it writes.
        _ = InstanceRerun.Fork(source, instanceId, request, now);
        await CreateAsync(instanceId, now, existing =>
            existing is null
                ? InstanceRerun.Fork(source, instanceId, request, now)
                : throw new WorkflowException(WorkflowErrorKind.AlreadyExists, $"workflow '{instanceId}' has already been created"),
            cancellationToken);
        return instanceId;
    }

    /// <summary>A page of the ids of every instance in the store, ended ones included, as the store lists its keys.</summary>
    public async Task<KeyPage> ListAsync(string? continuationToken, uint? pageSize, CancellationToken cancellationToken)
    {
        try
        {
            return await Store.ListInstancesAsync(continuationToken, pageSize, cancellationToken);
        }
        catch (StateRequestException exception)
        {
            throw new WorkflowException(WorkflowErrorKind.InvalidArgument, exception.Message);
        }
    }

    /// <summary>
    /// Writes a new instance record (the index first, then the record: create-only, or over the ended instance
    /// <paramref name="create"/> accepts to replace) and hands out the work it makes due.
    /// </summary>
    private async Task CreateAsync(string instanceId, long now, Func<InstanceRecord?, InstanceRecord> create, CancellationToken cancellationToken)
    {
        await Store.AddToIndexAsync(instanceId, cancellationToken);
        var replaced = false;
        InstanceRecord? created = null;
        var claimed = await Store.UpdateAsync(instanceId, existing =>
        {
            created = create(existing);
            replaced = existing is not null;
            return new Step<ClaimedWork>(ClaimWithin(created, now), StepWrite.Save, created);
        }, cancellationToken);
        if (replaced)
        {
            // The ended instance's removal from the index may have run after this start added the id.
            await Store.AddToIndexAsync(instanceId, cancellationToken);
        }

        Hand(instanceId, claimed);
        AfterStep(instanceId, created!);
    }

    public async Task<InstanceRecord> GetAsync(string instanceId, CancellationToken cancellationToken) =>
        await Store.ReadAsync(instanceId, cancellationToken) ?? throw WorkflowException.NotFound(instanceId);

    /// <summary>The server-side wait of WaitForInstanceStart/Completion: shown this sidecar's writes as they are made, and polling for other sidecars'.</summary>
    public async Task<InstanceRecord> WaitAsync(string instanceId, Func<InstanceRecord, bool> done, CancellationToken cancellationToken)
    {
        using var watcher = _watchers.Watch(instanceId, done);
        while (true)
        {
            var change = watcher.NextChange();
            var record = await GetAsync(instanceId, cancellationToken);
            if (done(record))
            {
                return record;
            }

            await Task.WhenAny(change, Task.Delay(timings.PollInterval, time, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
            if (watcher.Satisfied is { } satisfied)
            {
                return satisfied;
            }
        }
    }

    public async Task RaiseEventAsync(string instanceId, string name, string? input, CancellationToken cancellationToken)
    {
        var raised = HistoryEvents.EventRaised(InstanceSteps.FromMilliseconds(Now), name, input);
        await StepAsync(instanceId, record => InstanceSteps.RaiseEvent(record, raised, Now, null), cancellationToken);
    }

    public Task TerminateAsync(string instanceId, string? output, bool recursive, CancellationToken cancellationToken) =>
        StepAsync(instanceId, record => InstanceSteps.Terminate(record, output, recursive, Now), cancellationToken);

    public Task SuspendAsync(string instanceId, string? reason, CancellationToken cancellationToken) =>
        StepAsync(instanceId, record => InstanceSteps.Suspend(record, reason, Now), cancellationToken);

    public Task ResumeAsync(string instanceId, string? reason, CancellationToken cancellationToken) =>
        StepAsync(instanceId, record => InstanceSteps.Resume(record, reason, Now), cancellationToken);

    /// <summary>Deletes an ended instance (and, recursively, the children it created); a running one can't be purged.</summary>
    public async Task<int> PurgeAsync(string instanceId, bool recursive, CancellationToken cancellationToken)
    {
        var children = await Store.UpdateAsync(instanceId, record => record switch
        {
            null => new Step<IReadOnlyList<string>?>(null, StepWrite.None),
            { IsTerminal: false } => throw new WorkflowException(WorkflowErrorKind.NotTerminal, $"workflow instance '{instanceId}' is not in a terminal state and can't be purged"),
            _ => new Step<IReadOnlyList<string>?>(recursive ? InstanceSteps.Children(record, runningOnly: false) : [], StepWrite.Delete),
        }, cancellationToken);
        if (children is null)
        {
            return 0;
        }

        await Store.RemoveFromIndexAsync(instanceId, cancellationToken);
        Changed(instanceId, null, null, dispatchNow: false);
        var purged = 1;
        foreach (var child in children)
        {
            purged += await PurgeAsync(child, recursive, cancellationToken);
        }

        return purged;
    }

    /// <summary>
    /// Purges the ended instances a filter selects (created from <c>createdTimeFrom</c> to <c>createdTimeTo</c>, both
    /// included, in one of the statuses, any when none is given), each as a purge by id; instances that have not ended are
    /// left alone. Every page is read before the first purge, so purging does not move the listing under it.
    /// </summary>
    public async Task<int> PurgeAsync(PurgeInstanceFilter filter, bool recursive, CancellationToken cancellationToken)
    {
        var from = filter.CreatedTimeFrom is { } fromTime ? InstanceSteps.ToMilliseconds(fromTime) : long.MinValue;
        var to = filter.CreatedTimeTo is { } toTime ? InstanceSteps.ToMilliseconds(toTime) : long.MaxValue;
        var statuses = filter.RuntimeStatus.ToHashSet();
        var selected = new List<string>();
        string? continuationToken = null;
        do
        {
            var page = await ListAsync(continuationToken, PurgePageSize, cancellationToken);
            selected.AddRange((await Store.ReadManyAsync(page.Keys, cancellationToken))
                .Where(record => record.IsTerminal && record.CreatedAt >= from && record.CreatedAt <= to && (statuses.Count == 0 || statuses.Contains(record.Status)))
                .Select(record => record.InstanceId));
            continuationToken = page.ContinuationToken;
        }
        while (continuationToken is not null);

        var purged = 0;
        foreach (var instanceId in selected)
        {
            try
            {
                purged += await PurgeAsync(instanceId, recursive, cancellationToken);
            }
            catch (WorkflowException exception) when (exception.Kind == WorkflowErrorKind.NotTerminal)
            {
                // Started again since it was read: no longer selected.
            }
        }

        return purged;
    }

    public async Task CompleteOrchestrationAsync(WorkflowResponse response, CancellationToken cancellationToken)
    {
        var held = ForgetHeld(response.CompletionToken);
        (string Name, byte[]? Trace) turn = default;
        await StepAsync(response.InstanceId, record =>
        {
            turn = (record.Name, record.TraceContext);
            return InstanceSteps.CompleteOrchestration(record, response, Now);
        }, cancellationToken);
        RecordSpan($"orchestration||{turn.Name}", response.InstanceId, held, turn.Trace);
    }

    public async Task CompleteActivityAsync(ActivityResponse response, CancellationToken cancellationToken)
    {
        var held = ForgetHeld(response.CompletionToken);
        (ActivityTask? Task, byte[]? Trace) completed = default;
        await StepAsync(response.InstanceId, record =>
        {
            completed = (InstanceSteps.CompleteActivity(record, response, Now), record.TraceContext);
            return true;
        }, cancellationToken);
        RecordSpan($"activity||{ActivityRequest.Parser.ParseFrom(completed.Task!.Request).Name}", response.InstanceId, held, completed.Trace);
    }

    public WorkerStream Connect()
    {
        var stream = new WorkerStream();
        _streams.TryAdd(stream, 0);
        return stream;
    }

    /// <summary>A worker went away: the work items it held are released, so another worker gets them now rather than when their leases expire.</summary>
    public async Task DisconnectAsync(WorkerStream stream)
    {
        _streams.TryRemove(stream, out _);
        stream.Items.Writer.TryComplete();
        if (!HasWorkers && store is not null)
        {
            await LeaveAsync();
        }

        foreach (var (token, (instanceId, _, _)) in stream.Held)
        {
            try
            {
                var released = await Store.UpdateAsync(instanceId, record =>
                    record is not null && InstanceSteps.Release(record, token) ? new Step<bool>(true, StepWrite.Save) : new Step<bool>(false, StepWrite.None),
                    CancellationToken.None);
                if (released)
                {
                    await DispatchAsync(instanceId, CancellationToken.None);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogReleaseFailed(logger, exception, instanceId);
            }
        }
    }

    /// <summary>
    /// Keeps the leases of the work items held by the workers connected here: a lease with half its time or less left is
    /// extended by a whole lease, one write per instance. A long activity thus stays with its worker as long as the
    /// worker's stream is open, while the items of a killed sidecar, which renews nothing, are handed out again when
    /// their leases expire. Items whose lease is no longer theirs stop being renewed.
    /// </summary>
    public async Task RenewLeasesAsync(CancellationToken cancellationToken)
    {
        if (store is null)
        {
            return;
        }

        var now = Now;
        var halfLease = (long)(timings.LeaseDuration.TotalMilliseconds / 2);
        var due = _streams.Keys
            .SelectMany(stream => stream.Held.Where(entry => entry.Value.ExpiresAt - now <= halfLease).Select(entry => (Stream: stream, Token: entry.Key, Item: entry.Value)))
            .GroupBy(held => held.Item.InstanceId, StringComparer.Ordinal);
        foreach (var instance in due)
        {
            var tokens = instance.Select(held => held.Token).ToHashSet(StringComparer.Ordinal);
            var expiresAt = Now + (long)timings.LeaseDuration.TotalMilliseconds;
            var renewed = await store.UpdateAsync(instance.Key, record =>
            {
                var kept = record is null ? [] : InstanceSteps.Renew(record, tokens, expiresAt);
                return new Step<IReadOnlyList<string>>(kept, kept.Count > 0 ? StepWrite.Save : StepWrite.None);
            }, cancellationToken);
            var kept = renewed.ToHashSet(StringComparer.Ordinal);
            foreach (var (stream, token, item) in instance)
            {
                if (kept.Contains(token))
                {
                    stream.Held.TryUpdate(token, item with { ExpiresAt = expiresAt }, item);
                }
                else
                {
                    stream.Held.TryRemove(token, out _);
                }
            }
        }
    }

    /// <summary>Claims the instance's due work, if a worker is connected here, and hands each item to a worker stream.</summary>
    public async Task DispatchAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (!HasWorkers)
        {
            return;
        }

        var now = Now;
        var claimed = await Store.UpdateAsync(instanceId, record =>
        {
            var work = record is null ? ClaimedWork.None : ClaimWithin(record, now);
            return new Step<ClaimedWork>(work, work.Items.Count > 0 ? StepWrite.Save : StepWrite.None);
        }, cancellationToken);
        Hand(instanceId, claimed);
    }

    /// <summary>Delivers the instance's outbox (child starts, events, terminations), then removes what was delivered.</summary>
    public async Task DeliverOutboxAsync(string instanceId, CancellationToken cancellationToken)
    {
        var record = await Store.ReadAsync(instanceId, cancellationToken);
        if (record is null || record.Outbox.Count == 0)
        {
            return;
        }

        foreach (var message in record.Outbox)
        {
            await DeliverAsync(message, cancellationToken);
        }

        var delivered = record.Outbox.Select(message => message.Id).ToHashSet(StringComparer.Ordinal);
        await Store.UpdateAsync(instanceId, current =>
            current is not null && current.Outbox.RemoveAll(message => delivered.Contains(message.Id)) > 0
                ? new Step<bool>(true, StepWrite.Save)
                : new Step<bool>(false, StepWrite.None), cancellationToken);
        if (record.IsTerminal)
        {
            await Store.RemoveFromIndexAsync(instanceId, cancellationToken);
        }
    }

    /// <summary>
    /// One pass over the index (every <see cref="WorkflowTimings.PollInterval"/>, while a worker is connected): due
    /// timers, expired leases and undelivered outboxes, whichever sidecar wrote them; ended instances leave the index.
    /// </summary>
    public async Task ScanAsync(CancellationToken cancellationToken)
    {
        if (store is null || !HasWorkers)
        {
            return;
        }

        await HeartbeatAsync(store, cancellationToken);
        var ids = await store.ReadIndexAsync(cancellationToken);
        foreach (var chunk in ids.Chunk(100))
        {
            var now = Now;
            var records = await store.ReadManyAsync(chunk, cancellationToken);
            await ForgetMissingAsync(store, chunk.Except(records.Select(record => record.InstanceId), StringComparer.Ordinal), now, cancellationToken);
            foreach (var record in records)
            {
                if (record.Outbox.Count > 0)
                {
                    await DeliverOutboxAsync(record.InstanceId, cancellationToken);
                }
                else if (record.IsTerminal)
                {
                    await store.RemoveFromIndexAsync(record.InstanceId, cancellationToken);
                }

                if (InstanceSteps.HasClaimableWork(record, now) && IsOursToClaim(record, now))
                {
                    await DispatchAsync(record.InstanceId, cancellationToken);
                }
            }
        }
    }

    /// <summary>
    /// An id stays in the index without a record when a start or a child's creation stopped between its two writes (index
    /// first, then the record), or a purge between its two; it leaves the index once it has been missing for a while,
    /// long enough for any start still under way to have written its record.
    /// </summary>
    private async Task ForgetMissingAsync(WorkflowStore workflowStore, IEnumerable<string> missing, long now, CancellationToken cancellationToken)
    {
        foreach (var instanceId in missing)
        {
            if (now - _missingSince.GetOrAdd(instanceId, now) > (long)MissingGrace.TotalMilliseconds)
            {
                await workflowStore.RemoveFromIndexAsync(instanceId, cancellationToken);
                _missingSince.TryRemove(instanceId, out _);
            }
        }
    }

    private async Task DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var historyEvent = HistoryEvent.Parser.ParseFrom(message.Event);
        var now = Now;
        switch (message.Kind)
        {
            case OutboxKind.Start:
                await Store.AddToIndexAsync(message.Target, cancellationToken);
                var occupied = await Store.UpdateAsync(message.Target, existing => existing switch
                {
                    // This very message created it (a delivery again after a crash): nothing to do.
                    _ when existing?.ReceivedMessages.Contains(message.Id) == true => new Step<bool>(false, StepWrite.None),
                    null or { IsTerminal: true } => new Step<bool>(false, StepWrite.Save, InstanceSteps.Create(message.Target, historyEvent, now, now, message.Id)),
                    _ => new Step<bool>(true, StepWrite.None),
                }, cancellationToken);
                if (occupied)
                {
                    await FailChildCreationAsync(message, historyEvent.ExecutionStarted.ParentInstance, now, cancellationToken);
                }

                break;
            case OutboxKind.Event:
                await Store.UpdateAsync(message.Target, record =>
                    record is not null && InstanceSteps.RaiseEvent(record, historyEvent, now, message.Id) ? new Step<bool>(true, StepWrite.Save) : new Step<bool>(false, StepWrite.None),
                    cancellationToken);
                break;
            case OutboxKind.Terminate:
                await Store.UpdateAsync(message.Target, record =>
                    record is not null && InstanceSteps.Terminate(record, historyEvent.ExecutionTerminated.Input, historyEvent.ExecutionTerminated.Recurse, now)
                        ? new Step<bool>(true, StepWrite.Save)
                        : new Step<bool>(false, StepWrite.None), cancellationToken);
                break;
        }

        Changed(message.Target, null, now, dispatchNow: true);
    }

    /// <summary>
    /// The child's instance id belongs to an instance that has not ended: as daprd (1.18 on), the parent's child task
    /// fails with <c>WorkflowInstanceAlreadyExists</c> rather than waiting for a child that will never report.
    /// </summary>
    private async Task FailChildCreationAsync(OutboxMessage message, ParentInstanceInfo parent, long now, CancellationToken cancellationToken)
    {
        var failed = HistoryEvents.ChildResult(
            InstanceSteps.FromMilliseconds(now),
            parent.TaskScheduledId,
            OrchestrationStatus.Failed,
            null,
            new TaskFailureDetails { ErrorType = "WorkflowInstanceAlreadyExists", ErrorMessage = ActiveExistsMessage(message.Target) });
        var parentId = parent.WorkflowInstance.InstanceId;
        await Store.UpdateAsync(parentId, record =>
            record is not null && InstanceSteps.RaiseEvent(record, failed, now, message.Id) ? new Step<bool>(true, StepWrite.Save) : new Step<bool>(false, StepWrite.None),
            cancellationToken);
        Changed(parentId, null, now, dispatchNow: true);
    }

    private static string ActiveExistsMessage(string instanceId) => $"an active workflow with ID '{instanceId}' already exists";

    /// <summary>
    /// Runs a step on an existing instance. Steps on one instance that meet in time here (the results of a fan-out's
    /// activities) are applied together in one write (<see cref="WriteCoalescer{TChange}"/>), each caller getting its own
    /// step's outcome; the write also claims the work the steps made due.
    /// </summary>
    private Task StepAsync(string instanceId, Func<InstanceRecord, bool> step, CancellationToken cancellationToken) =>
        _steps.RunAsync(instanceId, new QueuedStep(step), async batch =>
        {
            var (changed, claimed) = await Store.UpdateAsync(instanceId, record => ApplyBatch(instanceId, record, batch), CancellationToken.None);
            Hand(instanceId, claimed);
            if (changed is not null)
            {
                AfterStep(instanceId, changed);
            }

            foreach (var queued in batch.Where(queued => queued.Error is not null))
            {
                queued.Done.TrySetException(queued.Error!);
            }
        }, cancellationToken);

    /// <summary>Applies each step of <paramref name="batch"/> to a fresh read (again after a lost race), keeping each one's error to itself.</summary>
    private Step<(InstanceRecord? Changed, ClaimedWork Claimed)> ApplyBatch(string instanceId, InstanceRecord? record, IReadOnlyList<QueuedStep> batch)
    {
        var changed = false;
        foreach (var step in batch)
        {
            try
            {
                step.Error = null;
                changed |= step.Apply(record ?? throw WorkflowException.NotFound(instanceId));
            }
            catch (WorkflowException exception)
            {
                step.Error = exception;
            }
        }

        return changed
            // Claimed as of now, not as of the batch's start: the steps stamped the events they added with their own clock reads.
            ? new Step<(InstanceRecord?, ClaimedWork)>((record, ClaimWithin(record!, Now)), StepWrite.Save)
            : new Step<(InstanceRecord?, ClaimedWork)>((null, ClaimedWork.None), StepWrite.None);
    }

    private void AfterStep(string instanceId, InstanceRecord changed)
    {
        Changed(instanceId, changed, changed.Inbox.Count > 0 ? changed.Inbox.Min(entry => entry.VisibleAt) : null, dispatchNow: false);
        if (changed.Outbox.Count > 0)
        {
            Background(instanceId, token => DeliverOutboxAsync(instanceId, token));
        }
        else if (changed.IsTerminal)
        {
            Background(instanceId, token => Store.RemoveFromIndexAsync(instanceId, token));
        }
    }

    /// <summary>
    /// Claims what is due in a record about to be written, when a worker is connected here and the instance is this
    /// sidecar's to run; <see cref="Hand"/> gives it out after the write.
    /// </summary>
    private ClaimedWork ClaimWithin(InstanceRecord record, long now) =>
        HasWorkers && InstanceSteps.HasClaimableWork(record, now) && IsOursToClaim(record, now) ? InstanceSteps.Claim(record, now, timings.LeaseDuration) : ClaimedWork.None;

    /// <summary>
    /// This sidecar owns the instance (<see cref="WorkflowMembers"/>), or its work has waited for its owner longer than
    /// a membership lasts. A step written here on another sidecar's instance thus waits for that sidecar's next scan.
    /// </summary>
    private bool IsOursToClaim(InstanceRecord record, long now) =>
        _members.Owns(record.InstanceId) || now - (InstanceSteps.ClaimableSince(record, now) ?? now) >= MembershipMilliseconds;

    /// <summary>Renews this sidecar's membership and learns who else has workers, once a scan.</summary>
    private async Task HeartbeatAsync(WorkflowStore workflowStore, CancellationToken cancellationToken)
    {
        var now = Now;
        var before = _members.Live.Count;
        _members.Observe(await workflowStore.UpdateMembersAsync(members => _members.Apply(members, now, now + MembershipMilliseconds), cancellationToken), now);
        if (_members.Live.Count != before)
        {
            LogMembersChanged(logger, _members.Live.Count);
        }
    }

    /// <summary>The last worker left: the other sidecars take this one's instances at their next scan rather than after its membership expires.</summary>
    private async Task LeaveAsync()
    {
        try
        {
            var now = Now;
            _members.Observe(await Store.UpdateMembersAsync(members => _members.Apply(members, now, expiresAt: null), CancellationToken.None), now);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogLeaveFailed(logger, exception);
        }
    }

    private void Hand(string instanceId, ClaimedWork claimed)
    {
        foreach (var item in claimed.Items)
        {
            var streams = _streams.Keys.ToArray();
            if (streams.Length == 0)
            {
                // The last worker left between the claim and now: the lease expires and the item is handed out again.
                return;
            }

            var stream = streams[(int)((uint)Interlocked.Increment(ref _nextStream) % streams.Length)];
            stream.Held[item.CompletionToken] = new HeldItem(instanceId, claimed.ClaimedAt, claimed.ExpiresAt);
            stream.Items.Writer.TryWrite(item);
        }
    }

    /// <summary>Wakes the waits on the instance, dispatches its work now (unless the write claimed it), and again when its next timer is due soon.</summary>
    /// <param name="written">The record as this sidecar just wrote it, for the waits; null when it is gone or not at hand.</param>
    private void Changed(string instanceId, InstanceRecord? written, long? nextVisibleAt, bool dispatchNow)
    {
        _watchers.Changed(instanceId, written);

        if (dispatchNow)
        {
            Background(instanceId, token => DispatchAsync(instanceId, token));
        }

        // Timers further out are left to the scan, which finds them whichever sidecar is up then.
        if (nextVisibleAt is { } due && due > Now && due - Now <= (long)LocalWakeHorizon.TotalMilliseconds)
        {
            Background(instanceId, async token =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(due - Now + 1), time, token);
                await DispatchAsync(instanceId, token);
            });
        }
    }

    private void Background(string instanceId, Func<CancellationToken, Task> work) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await work(CancellationToken.None);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The scan finds the work again; nothing is lost, only delayed.
                LogBackgroundFailed(logger, exception, instanceId);
            }
        });

    private HeldItem? ForgetHeld(string token)
    {
        foreach (var stream in _streams.Keys)
        {
            if (stream.Held.TryRemove(token, out var held))
            {
                return held;
            }
        }

        return null;
    }

    /// <summary>A span in the instance's trace for a work item, from its claim to its completion (as daprd's orchestration and activity spans).</summary>
    private void RecordSpan(string name, string instanceId, HeldItem? held, byte[]? trace)
    {
        var parent = trace is null ? default : ParentContext(TraceContext.Parser.ParseFrom(trace));
        var claimedAt = held is null ? time.GetUtcNow() : InstanceSteps.FromMilliseconds(held.ClaimedAt);
        using var span = SidecarTelemetry.Source.StartActivity(name, ActivityKind.Internal, parent, startTime: claimedAt);
        span?.SetTag("dapr.workflow.instance_id", instanceId);
        span?.SetEndTime(time.GetUtcNow().UtcDateTime);
    }

    /// <summary>The client's trace context as the SDK sends it in the request, else the one of the incoming call.</summary>
    private static ActivityContext ParentContext(TraceContext? trace) =>
        trace is not null && ActivityContext.TryParse(trace.TraceParent, trace.TraceState, out var parsed) ? parsed
        : Activity.Current?.Context ?? default;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release the work item of workflow instance {InstanceId}; it is handed out again when its lease expires")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string instanceId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workflow work is shared by {Members} sidecars of this app")]
    private static partial void LogMembersChanged(ILogger logger, int members);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not leave the app's workflow membership; the other sidecars take over this one's instances when it expires")]
    private static partial void LogLeaveFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workflow instance {InstanceId}: background dispatch failed; the next scan retries it")]
    private static partial void LogBackgroundFailed(ILogger logger, Exception exception, string instanceId);

    private sealed class QueuedStep(Func<InstanceRecord, bool> apply) : CoalescedChange
    {
        public Func<InstanceRecord, bool> Apply { get; } = apply;

        /// <summary>This step's own failure in the last attempt of the write.</summary>
        public WorkflowException? Error { get; set; }
    }
}
