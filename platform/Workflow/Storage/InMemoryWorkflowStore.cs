using System.Globalization;

namespace CloudScale.Workflow;

/// <summary>
/// <see cref="IWorkflowStore"/> in this process's memory, for unit tests and the <c>WorkflowTestHost</c>: several engines
/// sharing one instance behave as replicas sharing a Dapr state store. One lock serialises every operation; the etag is
/// a version number bumped by every change to an instance (its inbox included).
/// </summary>
public sealed class InMemoryWorkflowStore(TimeProvider? timeProvider = null) : IWorkflowStore
{
    private readonly TimeProvider _clock = timeProvider ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<ActivityKey, StoredActivity> _activities = [];
    private long _lastVersion;

    public Task<bool> TryCreateAsync(NewWorkflowInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        lock (_lock)
        {
            return Task.FromResult(TryCreate(instance));
        }
    }

    public Task<WorkflowMetadata?> GetMetadataAsync(string instanceId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_instances.GetValueOrDefault(instanceId)?.Metadata);
        }
    }

    public Task<WorkflowInstanceRecord?> LoadAsync(string instanceId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_instances.GetValueOrDefault(instanceId)?.Snapshot());
        }
    }

    public Task<WorkflowInstanceRecord?> TryLeaseInstanceAsync(string instanceId, string owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_instances.TryGetValue(instanceId, out var instance) || IsLeasedToAnother(instance.Metadata.Lease, owner))
            {
                return Task.FromResult<WorkflowInstanceRecord?>(null);
            }

            instance.Metadata = instance.Metadata with { Lease = new WorkflowLease(owner, leaseUntil) };
            instance.Version = NextVersion();
            return Task.FromResult<WorkflowInstanceRecord?>(instance.Snapshot());
        }
    }

    public Task<bool> TryCommitAsync(WorkflowCommit commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        lock (_lock)
        {
            if (!_instances.TryGetValue(commit.Metadata.InstanceId, out var instance)
                || !IsCurrent(instance, commit.ETag)
                || commit.StartedInstances.Any(started => _instances.TryGetValue(started.Metadata.InstanceId, out var existing) && !existing.Metadata.IsFinished))
            {
                return Task.FromResult(false);
            }

            instance.Metadata = commit.Metadata;
            if (commit.ReplacesHistory)
            {
                instance.History.Clear();
            }

            instance.History.AddRange(commit.AppendedHistory);
            instance.Inbox = [.. commit.Inbox];
            instance.Version = NextVersion();
            foreach (var activity in commit.ScheduledActivities)
            {
                _activities[activity.Key] = new StoredActivity(activity, commit.ActivityLease);
            }

            foreach (var taskId in commit.CancelledActivities.Concat(commit.CompletedActivities))
            {
                _activities.Remove(new ActivityKey(commit.Metadata.InstanceId, taskId));
            }

            foreach (var started in commit.StartedInstances)
            {
                TryCreate(started);
            }

            foreach (var message in commit.Messages)
            {
                Deliver(message.InstanceId, message.Message);
            }

            return Task.FromResult(true);
        }
    }

    public Task<bool> DeliverAsync(string instanceId, InboxMessage message, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(Deliver(instanceId, message));
        }
    }

    public Task<bool> TryPurgeAsync(string instanceId, string etag, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_instances.TryGetValue(instanceId, out var instance) || !IsCurrent(instance, etag))
            {
                return Task.FromResult(false);
            }

            _instances.Remove(instanceId);
            foreach (var key in _activities.Keys.Where(key => key.InstanceId == instanceId).ToList())
            {
                _activities.Remove(key);
            }

            return Task.FromResult(true);
        }
    }

    public Task<WorkSnapshot> GetWorkAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = _clock.GetUtcNow();
            var due = new List<string>();
            var wakeUps = new List<DateTimeOffset>();
            foreach (var (instanceId, instance) in _instances.OrderBy(entry => entry.Key, StringComparer.Ordinal))
            {
                if (instance.Metadata.WakeUpTime(instance.Inbox) is not { } visibleAt)
                {
                    continue;
                }

                // Listed even when leased: the holder may be waiting for it (leasing fails for anyone else).
                if (visibleAt <= now)
                {
                    due.Add(instanceId);
                }
                else
                {
                    wakeUps.Add(visibleAt);
                }
            }

            var activities = new List<ActivityKey>();
            foreach (var (key, activity) in _activities.OrderBy(entry => entry.Key.InstanceId, StringComparer.Ordinal).ThenBy(entry => entry.Key.TaskId))
            {
                if (activity.Lease is { } lease && lease.ExpiresAt > now)
                {
                    wakeUps.Add(lease.ExpiresAt);
                }
                else
                {
                    activities.Add(key);
                }
            }

            return Task.FromResult(new WorkSnapshot(due, activities, wakeUps.Count == 0 ? null : wakeUps.Min()));
        }
    }

    public Task<ActivityWorkItem?> TryLeaseActivityAsync(ActivityKey key, string owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_activities.TryGetValue(key, out var activity) || IsLeasedToAnother(activity.Lease, owner))
            {
                return Task.FromResult<ActivityWorkItem?>(null);
            }

            var lease = new WorkflowLease(owner, leaseUntil);
            _activities[key] = activity with { Lease = lease };
            return Task.FromResult<ActivityWorkItem?>(activity.Item with { LeaseToken = lease.Token });
        }
    }

    public Task<bool> TryCompleteActivityAsync(ActivityWorkItem leased, InboxMessage result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leased);
        lock (_lock)
        {
            if (!_activities.TryGetValue(leased.Key, out var activity) || activity.Lease?.Token != leased.LeaseToken)
            {
                return Task.FromResult(false);
            }

            _activities.Remove(leased.Key);
            Deliver(leased.InstanceId, result);
            return Task.FromResult(true);
        }
    }

    private bool TryCreate(NewWorkflowInstance created)
    {
        var instanceId = created.Metadata.InstanceId;
        if (_instances.TryGetValue(instanceId, out var existing) && !existing.Metadata.IsFinished)
        {
            return false;
        }

        _instances[instanceId] = new Instance(created.Metadata, [], [created.Start], NextVersion());
        return true;
    }

    private bool Deliver(string instanceId, InboxMessage message)
    {
        if (!_instances.TryGetValue(instanceId, out var instance))
        {
            return false;
        }

        if (instance.Metadata.IsFinished)
        {
            return true;
        }

        instance.Inbox.Add(message);
        instance.Version = NextVersion();
        return true;
    }

    private bool IsLeasedToAnother(WorkflowLease? lease, string owner) =>
        lease is not null && lease.Owner != owner && lease.ExpiresAt > _clock.GetUtcNow();

    private static bool IsCurrent(Instance instance, string etag) => instance.Version.ToString(CultureInfo.InvariantCulture) == etag;

    private long NextVersion() => ++_lastVersion;

    private sealed class Instance(WorkflowMetadata metadata, List<HistoryEvent> history, List<InboxMessage> inbox, long version)
    {
        public WorkflowMetadata Metadata { get; set; } = metadata;

        public List<HistoryEvent> History { get; } = history;

        public List<InboxMessage> Inbox { get; set; } = inbox;

        public long Version { get; set; } = version;

        public WorkflowInstanceRecord Snapshot() =>
            new(Metadata, [.. History], [.. Inbox], Version.ToString(CultureInfo.InvariantCulture));
    }

    private sealed record StoredActivity(ActivityWorkItem Item, WorkflowLease? Lease);
}
