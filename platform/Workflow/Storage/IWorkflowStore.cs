using System.Globalization;
using System.Text.Json.Serialization;
using Dapr.Workflow;

namespace CloudScale.Workflow;

/// <summary>
/// Where workflow instances live. Every change an engine makes to an instance is one atomic <see cref="TryCommitAsync"/>
/// guarded by the etag it loaded, so replicas sharing a store never lose each other's writes; leases keep a second replica
/// from even starting work another one holds. Implementations: <see cref="InMemoryWorkflowStore"/> (tests, one process)
/// and <see cref="DaprStateWorkflowStore"/> (any transactional Dapr state store, through the sidecar's HTTP API). Both
/// read the time (for leases and due messages) from the <see cref="TimeProvider"/> they are given.
/// </summary>
public interface IWorkflowStore
{
    /// <summary>Creates an instance with its start message, replacing a finished one of the same ID; false if an unfinished one exists.</summary>
    Task<bool> TryCreateAsync(NewWorkflowInstance instance, CancellationToken cancellationToken);

    Task<WorkflowMetadata?> GetMetadataAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>The instance's metadata, history and inbox with the etag that guards them; null if there is none.</summary>
    Task<WorkflowInstanceRecord?> LoadAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>
    /// Leases the instance to <paramref name="owner"/> until <paramref name="leaseUntil"/> and loads it; null if it does not
    /// exist or another owner's lease has not expired. A commit with metadata that has no lease releases it.
    /// </summary>
    Task<WorkflowInstanceRecord?> TryLeaseInstanceAsync(string instanceId, string owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>Applies one step atomically; false, changing nothing, if the instance changed since <see cref="WorkflowCommit.ETag"/> was read.</summary>
    Task<bool> TryCommitAsync(WorkflowCommit commit, CancellationToken cancellationToken);

    /// <summary>Appends a message to an instance's inbox (a finished instance ignores it); false if the instance does not exist.</summary>
    Task<bool> DeliverAsync(string instanceId, InboxMessage message, CancellationToken cancellationToken);

    /// <summary>Deletes everything stored for the instance if it is unchanged since <paramref name="etag"/>.</summary>
    Task<bool> TryPurgeAsync(string instanceId, string etag, CancellationToken cancellationToken);

    /// <summary>What is ready to run now, and when something next becomes ready.</summary>
    Task<WorkSnapshot> GetWorkAsync(CancellationToken cancellationToken);

    /// <summary>Leases a scheduled activity; null if it is gone (done, cancelled) or another owner's lease has not expired.</summary>
    Task<ActivityWorkItem?> TryLeaseActivityAsync(ActivityKey key, string owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>
    /// Removes a leased activity and delivers its result to the instance's inbox, atomically; false, delivering nothing,
    /// if the lease was lost (another worker took the activity over after it expired).
    /// </summary>
    Task<bool> TryCompleteActivityAsync(ActivityWorkItem leased, InboxMessage result, CancellationToken cancellationToken);
}

/// <summary>What the engine records about an instance beside its history.</summary>
public sealed record WorkflowMetadata(
    string InstanceId,
    string Name,
    WorkflowRuntimeStatus RuntimeStatus,
    string ExecutionId,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    string? SerializedInput = null,
    string? SerializedOutput = null,
    string? SerializedCustomStatus = null,
    WorkflowTaskFailureDetails? FailureDetails = null,
    ParentWorkflow? Parent = null,
    WorkflowLease? Lease = null)
{
    /// <summary>Completed, failed or terminated: nothing will change it any more but a purge or a new start.</summary>
    [JsonIgnore]
    public bool IsFinished => RuntimeStatus is WorkflowRuntimeStatus.Completed or WorkflowRuntimeStatus.Failed or WorkflowRuntimeStatus.Terminated;

    /// <summary>
    /// When a step next has something to do with <paramref name="inbox"/>, or null: the earliest visible time of a message
    /// the instance can act on in its status. Stores list an instance as ready by it, so that messages kept for later
    /// (events for an instance not started yet, anything but a resume for a suspended one) do not wake it again and again.
    /// </summary>
    public DateTimeOffset? WakeUpTime(IEnumerable<InboxMessage> inbox) =>
        inbox.Where(message => message.Event is ExecutionTerminated || RuntimeStatus switch
            {
                WorkflowRuntimeStatus.Suspended => message.Event is ExecutionResumed,
                WorkflowRuntimeStatus.Pending => message.Event is ExecutionStarted or ExecutionSuspended or ExecutionResumed,
                _ => true,
            })
            .Select(message => (DateTimeOffset?)message.VisibleAt)
            .Min();
}

/// <summary>The workflow that started an instance as a child, and the call its result goes back to.</summary>
public sealed record ParentWorkflow(string InstanceId, string ExecutionId, int TaskId);

public sealed record WorkflowLease(string Owner, DateTimeOffset ExpiresAt)
{
    /// <summary>Proves an activity's lease when its result is delivered: any later lease of the activity has another token.</summary>
    [JsonIgnore]
    public string Token => $"{Owner}/{ExpiresAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}";
}

public sealed record WorkflowInstanceRecord(WorkflowMetadata Metadata, IReadOnlyList<HistoryEvent> History, IReadOnlyList<InboxMessage> Inbox, string ETag);

/// <summary>
/// A message waiting in an instance's inbox until a step consumes it at or after <see cref="VisibleAt"/> (a timer is a
/// message visible when it fires). A message for one run (<see cref="ExecutionId"/>) is dropped if it arrives in another.
/// </summary>
public sealed record InboxMessage(string Id, HistoryEvent Event, DateTimeOffset VisibleAt, string? ExecutionId = null);

public sealed record NewWorkflowInstance(WorkflowMetadata Metadata, InboxMessage Start);

public sealed record OutgoingMessage(string InstanceId, InboxMessage Message);

/// <summary>
/// One step of one instance. The inbox is the whole inbox after the step; the history either grows by
/// <see cref="AppendedHistory"/> or, after ContinueAsNew, is replaced by it. Started instances fail the commit if one of
/// their IDs belongs to an unfinished instance; messages to instances that do not exist or have finished are dropped.
/// </summary>
public sealed record WorkflowCommit(
    string ETag,
    WorkflowMetadata Metadata,
    IReadOnlyList<HistoryEvent> AppendedHistory,
    bool ReplacesHistory,
    IReadOnlyList<InboxMessage> Inbox,
    IReadOnlyList<ActivityWorkItem> ScheduledActivities,
    IReadOnlyList<int> CancelledActivities,
    IReadOnlyList<NewWorkflowInstance> StartedInstances,
    IReadOnlyList<OutgoingMessage> Messages)
{
    /// <summary>
    /// When set, the scheduled activities are stored already leased to this lease's owner, who runs them at once with
    /// <see cref="WorkflowLease.Token"/> as their lease token instead of leasing each of them again.
    /// </summary>
    public WorkflowLease? ActivityLease { get; init; }

    /// <summary>
    /// Activities whose results this step took straight from the replica that ran them (in <see cref="Inbox"/> or the
    /// history now) rather than from the store: their work items are removed, as those of cancelled ones are.
    /// </summary>
    public IReadOnlyList<int> CompletedActivities { get; init; } = [];
}

public readonly record struct ActivityKey(string InstanceId, int TaskId);

/// <summary>A scheduled activity; <see cref="LeaseToken"/>, the <see cref="WorkflowLease.Token"/> of its lease, proves the lease on completion.</summary>
public sealed record ActivityWorkItem(string InstanceId, string ExecutionId, int TaskId, string Name, string? Input, string? TraceParent, string? LeaseToken = null)
{
    [JsonIgnore]
    public ActivityKey Key => new(InstanceId, TaskId);
}

/// <summary>
/// Instances with a visible inbox message (leased ones too, as their holder may be waiting for it: leasing fails for
/// anyone else), activities waiting to run (a store that cannot tell may list leased ones: leasing them fails), and when
/// more becomes ready.
/// </summary>
public sealed record WorkSnapshot(IReadOnlyList<string> DueInstances, IReadOnlyList<ActivityKey> Activities, DateTimeOffset? NextDueAt)
{
    [JsonIgnore]
    public bool IsEmpty => DueInstances.Count == 0 && Activities.Count == 0;
}
