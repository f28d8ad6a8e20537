using System.Globalization;
using System.Text;
using System.Text.Json;
using CloudScale.Workflow.Engine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace CloudScale.Workflow;

/// <summary>
/// <see cref="IWorkflowStore"/> over a Dapr state store, through the sidecar's HTTP API only, so it runs unchanged on
/// daprd. Every change is one state transaction whose writes carry the etags of the keys it read, so two replicas never
/// both win; ready work is found through a fixed set of partition index keys, since the state API cannot list keys.
/// The store must be transactional with real rollback (<c>state.postgresql</c>): <c>state.redis</c> applies the rest of a
/// transaction whose etag check failed, as daprd warns for actor state stores. The key layout is in the README.
/// </summary>
public sealed partial class DaprStateWorkflowStore : IWorkflowStore, IDisposable
{
    private const int MaxAttempts = 10;

    private readonly DaprStateApi _state;
    private readonly int _partitionCount;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;

    public DaprStateWorkflowStore(Uri daprEndpoint, string? apiToken, string storeName, int partitionCount, TimeProvider clock, ILoggerFactory loggers)
        : this(new DaprStateApi(daprEndpoint, apiToken, storeName), partitionCount, clock, loggers)
    {
    }

    private DaprStateWorkflowStore(DaprStateApi state, int partitionCount, TimeProvider clock, ILoggerFactory loggers)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitionCount);
        ArgumentNullException.ThrowIfNull(loggers);
        _state = state;
        _partitionCount = partitionCount;
        _clock = clock;
        _logger = loggers.CreateLogger<DaprStateWorkflowStore>();
    }

    /// <summary>A store over the sidecar that <c>DAPR_HTTP_ENDPOINT</c> or <c>DAPR_HTTP_PORT</c> names, with <c>DAPR_API_TOKEN</c>.</summary>
    public static DaprStateWorkflowStore FromConfiguration(IConfiguration? configuration, string storeName, int partitionCount, TimeProvider clock, ILoggerFactory loggers)
    {
        var (endpoint, apiToken) = DaprStateApi.Locate(configuration);
        return new DaprStateWorkflowStore(endpoint, apiToken, storeName, partitionCount, clock, loggers);
    }

    public Task<bool> TryCreateAsync(NewWorkflowInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var instanceId = instance.Metadata.InstanceId;
        return TransactAsync(InstanceKeys(instanceId), writes => Create(writes, instance), cancellationToken);
    }

    public async Task<WorkflowMetadata?> GetMetadataAsync(string instanceId, CancellationToken cancellationToken) =>
        await _state.GetAsync(MetadataKey(instanceId), cancellationToken) is { } item ? Read<MetadataDocument>(item).Metadata : null;

    public async Task<WorkflowInstanceRecord?> LoadAsync(string instanceId, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            if (await _state.GetAsync(MetadataKey(instanceId), cancellationToken) is not { } metadataItem)
            {
                return null;
            }

            // The history length comes from the metadata; reading it again with the history proves the two belong together.
            var length = Read<MetadataDocument>(metadataItem).HistoryLength;
            List<string> keys = [MetadataKey(instanceId), InboxKey(instanceId), .. Enumerable.Range(0, length).Select(index => HistoryKey(instanceId, index))];
            var items = await _state.BulkGetAsync(keys, cancellationToken);
            if (!items.TryGetValue(MetadataKey(instanceId), out var again) || again.ETag != metadataItem.ETag)
            {
                continue;
            }

            var inboxItem = items.GetValueOrDefault(InboxKey(instanceId));
            var history = Enumerable.Range(0, length).Select(index => Read<HistoryEvent>(items[HistoryKey(instanceId, index)])).ToList();
            var inbox = inboxItem is null ? [] : Read<InboxDocument>(inboxItem).Messages;
            return new WorkflowInstanceRecord(Read<MetadataDocument>(again).Metadata, history, inbox, InstanceETag(again.ETag, inboxItem?.ETag));
        }

        throw Contended($"load {instanceId}");
    }

    public async Task<WorkflowInstanceRecord?> TryLeaseInstanceAsync(string instanceId, string owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        if (await _state.GetAsync(MetadataKey(instanceId), cancellationToken) is not { } item)
        {
            return null;
        }

        var document = Read<MetadataDocument>(item);
        if (IsLeasedToAnother(document.Metadata.Lease, owner))
        {
            return null;
        }

        var leased = document with { Metadata = document.Metadata with { Lease = new WorkflowLease(owner, leaseUntil) } };
        if (!await _state.TrySaveAsync(item.Key, Write(leased), item.ETag, cancellationToken))
        {
            return null;
        }

        return await LoadAsync(instanceId, cancellationToken) is { } record && record.Metadata.Lease?.Owner == owner ? record : null;
    }

    public Task<bool> TryCommitAsync(WorkflowCommit commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        var instanceId = commit.Metadata.InstanceId;
        var others = commit.StartedInstances.Select(started => started.Metadata.InstanceId).Concat(commit.Messages.Select(message => message.InstanceId));
        var keys = new[] { instanceId }.Concat(others).SelectMany(InstanceKeys).Distinct(StringComparer.Ordinal).ToList();
        return TransactAsync(keys, writes =>
        {
            if (!writes.TryRead<MetadataDocument>(MetadataKey(instanceId), out var current, out var metadataETag)
                || InstanceETag(metadataETag, writes.ETagOf(InboxKey(instanceId))) != commit.ETag)
            {
                return false;
            }

            var length = commit.ReplacesHistory ? commit.AppendedHistory.Count : current.HistoryLength + commit.AppendedHistory.Count;
            writes.Put(MetadataKey(instanceId), new MetadataDocument(commit.Metadata, length));
            var firstAppended = length - commit.AppendedHistory.Count;
            for (var index = 0; index < commit.AppendedHistory.Count; index++)
            {
                writes.Put<HistoryEvent>(HistoryKey(instanceId, firstAppended + index), commit.AppendedHistory[index]);
            }

            for (var stale = length; stale < current.HistoryLength; stale++)
            {
                writes.Delete(HistoryKey(instanceId, stale));
            }

            foreach (var activity in commit.ScheduledActivities)
            {
                writes.Put(ActivityKeyOf(activity.Key), new ActivityDocument(activity, Lease: null));
            }

            foreach (var taskId in commit.CancelledActivities)
            {
                writes.Delete(ActivityKeyOf(new ActivityKey(instanceId, taskId)));
            }

            var pending = ReadInbox(writes, instanceId).Activities
                .Except(commit.CancelledActivities)
                .Concat(commit.ScheduledActivities.Select(activity => activity.TaskId));
            PutInbox(writes, commit.Metadata, new InboxDocument(commit.Inbox, [.. pending]));
            if (!commit.StartedInstances.All(started => Create(writes, started)))
            {
                return false;
            }

            foreach (var message in commit.Messages)
            {
                Deliver(writes, message.InstanceId, message.Message);
            }

            return true;
        }, cancellationToken);
    }

    public Task<bool> DeliverAsync(string instanceId, InboxMessage message, CancellationToken cancellationToken) =>
        TransactAsync(InstanceKeys(instanceId), writes => Deliver(writes, instanceId, message), cancellationToken);

    public Task<bool> TryPurgeAsync(string instanceId, string etag, CancellationToken cancellationToken) =>
        TransactAsync(InstanceKeys(instanceId), writes =>
        {
            if (!writes.TryRead<MetadataDocument>(MetadataKey(instanceId), out var current, out var metadataETag)
                || InstanceETag(metadataETag, writes.ETagOf(InboxKey(instanceId))) != etag)
            {
                return false;
            }

            foreach (var taskId in ReadInbox(writes, instanceId).Activities)
            {
                writes.Delete(ActivityKeyOf(new ActivityKey(instanceId, taskId)));
            }

            writes.Delete(MetadataKey(instanceId));
            writes.Delete(InboxKey(instanceId));
            for (var index = 0; index < current.HistoryLength; index++)
            {
                writes.Delete(HistoryKey(instanceId, index));
            }

            SetReadyFrom(writes, instanceId, null);
            return true;
        }, cancellationToken);

    /// <summary>
    /// Reads the partition indexes for instances that may have work, then those instances' metadata and inboxes to
    /// tell which need a step (and are not leased) and which activities wait to run.
    /// </summary>
    public async Task<WorkSnapshot> GetWorkAsync(CancellationToken cancellationToken)
    {
        var partitionKeys = Enumerable.Range(0, _partitionCount).Select(PartitionKey).ToList();
        var entries = (await _state.BulkGetAsync(partitionKeys, cancellationToken)).Values
            .SelectMany(item => Read<PartitionDocument>(item).Instances)
            .ToList();
        var now = _clock.GetUtcNow();
        var wakeUps = entries.Where(entry => entry.Value > now).Select(entry => entry.Value).ToList();
        var candidates = entries.Where(entry => entry.Value <= now).OrderBy(entry => entry.Value).Select(entry => entry.Key).ToList();
        var documents = await _state.BulkGetAsync([.. candidates.SelectMany(id => new[] { MetadataKey(id), InboxKey(id) })], cancellationToken);
        var due = new List<string>();
        var activities = new List<ActivityKey>();
        foreach (var instanceId in candidates)
        {
            if (!documents.TryGetValue(MetadataKey(instanceId), out var metadataItem))
            {
                continue;
            }

            var metadata = Read<MetadataDocument>(metadataItem).Metadata;
            var inbox = documents.TryGetValue(InboxKey(instanceId), out var inboxItem) ? Read<InboxDocument>(inboxItem) : InboxDocument.Empty;
            activities.AddRange(inbox.Activities.Select(taskId => new ActivityKey(instanceId, taskId)));
            if (metadata.WakeUpTime(inbox.Messages) is not { } wakeUp)
            {
                continue;
            }

            if (metadata.Lease is { } lease && lease.ExpiresAt > now)
            {
                wakeUps.Add(lease.ExpiresAt > wakeUp ? lease.ExpiresAt : wakeUp);
            }
            else if (wakeUp <= now)
            {
                due.Add(instanceId);
            }
            else
            {
                wakeUps.Add(wakeUp);
            }
        }

        return new WorkSnapshot(due, activities, wakeUps.Count == 0 ? null : wakeUps.Min());
    }

    public async Task<ActivityWorkItem?> TryLeaseActivityAsync(ActivityKey key, string owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        if (await _state.GetAsync(ActivityKeyOf(key), cancellationToken) is not { } item)
        {
            return null;
        }

        var document = Read<ActivityDocument>(item);
        if (IsLeasedToAnother(document.Lease, owner)
            || !await _state.TrySaveAsync(item.Key, Write(document with { Lease = new WorkflowLease(owner, leaseUntil) }), item.ETag, cancellationToken))
        {
            return null;
        }

        // The etag of the leased document proves the lease when the result is delivered: any later lease changes it.
        return await _state.GetAsync(item.Key, cancellationToken) is { } leased && Read<ActivityDocument>(leased).Lease?.Owner == owner
            ? document.Item with { LeaseToken = leased.ETag }
            : null;
    }

    public Task<bool> TryCompleteActivityAsync(ActivityWorkItem leased, InboxMessage result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leased);
        var instanceId = leased.InstanceId;
        return TransactAsync([ActivityKeyOf(leased.Key), .. InstanceKeys(instanceId)], writes =>
        {
            if (writes.ETagOf(ActivityKeyOf(leased.Key)) != leased.LeaseToken)
            {
                return false;
            }

            writes.Delete(ActivityKeyOf(leased.Key));
            if (writes.TryRead<MetadataDocument>(MetadataKey(instanceId), out var metadata, out _))
            {
                var inbox = ReadInbox(writes, instanceId);
                PutInbox(writes, metadata.Metadata, new InboxDocument([.. inbox.Messages, result], [.. inbox.Activities.Where(taskId => taskId != leased.TaskId)]));
            }

            return true;
        }, cancellationToken);
    }

    public void Dispose() => _state.Dispose();

    /// <summary>Creates the instance, replacing a finished one; false if an unfinished one has the ID.</summary>
    private bool Create(Writes writes, NewWorkflowInstance instance)
    {
        var instanceId = instance.Metadata.InstanceId;
        if (writes.TryRead<MetadataDocument>(MetadataKey(instanceId), out var existing, out _))
        {
            if (!existing.Metadata.IsFinished)
            {
                return false;
            }

            for (var index = 0; index < existing.HistoryLength; index++)
            {
                writes.Delete(HistoryKey(instanceId, index));
            }
        }

        writes.Put(MetadataKey(instanceId), new MetadataDocument(instance.Metadata, HistoryLength: 0));
        PutInbox(writes, instance.Metadata, new InboxDocument([instance.Start], []));
        return true;
    }

    /// <summary>Appends a message to the instance's inbox unless it has finished; false, writing nothing, if there is no such instance.</summary>
    private bool Deliver(Writes writes, string instanceId, InboxMessage message)
    {
        if (!writes.TryRead<MetadataDocument>(MetadataKey(instanceId), out var metadata, out _))
        {
            return false;
        }

        if (!metadata.Metadata.IsFinished)
        {
            var inbox = ReadInbox(writes, instanceId);
            PutInbox(writes, metadata.Metadata, inbox with { Messages = [.. inbox.Messages, message] });
        }

        return true;
    }

    private static InboxDocument ReadInbox(Writes writes, string instanceId) =>
        writes.TryRead<InboxDocument>(InboxKey(instanceId), out var inbox, out _) ? inbox : InboxDocument.Empty;

    /// <summary>Writes an inbox and keeps the instance's entry in its partition index in step with it.</summary>
    private void PutInbox(Writes writes, WorkflowMetadata metadata, InboxDocument inbox)
    {
        writes.Put(InboxKey(metadata.InstanceId), inbox);
        // An instance with activities to run stays listed from the start of time, so that their completions (which change
        // its inbox, not when it needs looking at) leave the shared index alone.
        SetReadyFrom(writes, metadata.InstanceId, inbox.Activities.Count > 0 ? DateTimeOffset.MinValue : metadata.WakeUpTime(inbox.Messages));
    }

    private void SetReadyFrom(Writes writes, string instanceId, DateTimeOffset? readyFrom)
    {
        var key = PartitionKey(instanceId);
        var partition = writes.TryRead<PartitionDocument>(key, out var existing, out _) ? existing : new PartitionDocument([]);
        if (readyFrom is { } time)
        {
            partition.Instances[instanceId] = time;
        }
        else
        {
            partition.Instances.Remove(instanceId);
        }

        writes.Put(key, partition);
    }

    /// <summary>
    /// Reads <paramref name="keys"/>, lets <paramref name="plan"/> decide on writes, and commits them in one transaction
    /// guarded by the etags read; on a conflict, reads and plans again. A plan that returns false writes nothing.
    /// </summary>
    private async Task<bool> TransactAsync(IReadOnlyCollection<string> keys, Func<Writes, bool> plan, CancellationToken cancellationToken)
    {
        TransactionResult? last = null;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var writes = new Writes(await _state.BulkGetAsync(keys, cancellationToken));
            if (!plan(writes))
            {
                return false;
            }

            var operations = writes.Operations();
            last = operations.Count == 0 ? TransactionResult.Committed : await _state.TryTransactAsync(operations, cancellationToken);
            if (last.IsCommitted)
            {
                return true;
            }

            // Another replica wrote one of the keys (most often a shared partition index): back off a little, re-read.
            Log.TransactionConflict(_logger, attempt, last.Failure);
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(0, Math.Min(500, 5 << attempt))), cancellationToken);
        }

        throw Contended(last?.Failure);
    }

    private bool IsLeasedToAnother(WorkflowLease? lease, string owner) =>
        lease is not null && lease.Owner != owner && lease.ExpiresAt > _clock.GetUtcNow();

    private static InvalidOperationException Contended(string? detail) =>
        new($"The workflow state could not be written after {MaxAttempts} attempts; the last failure: {detail}");

    private static string InstanceETag(string metadataETag, string? inboxETag) => JsonSerializer.Serialize(new[] { metadataETag, inboxETag ?? "" });

    private static T Read<T>(StateItem item) => item.Value.Deserialize<T>(WorkflowJson.Documents)!;

    private static JsonElement Write<T>(T document) => JsonSerializer.SerializeToElement(document, WorkflowJson.Documents);

    // ---- Key layout (see README): instance IDs hold only letters, digits, '_' and '-', so '|' separates safely. ----

    internal static string MetadataKey(string instanceId) => $"workflow|{instanceId}|metadata";

    internal static string InboxKey(string instanceId) => $"workflow|{instanceId}|inbox";

    internal static string HistoryKey(string instanceId, int index) => $"workflow|{instanceId}|history|{index.ToString("D6", CultureInfo.InvariantCulture)}";

    internal static string ActivityKeyOf(ActivityKey key) => $"workflow|{key.InstanceId}|activity|{key.TaskId.ToString(CultureInfo.InvariantCulture)}";

    private List<string> InstanceKeys(string instanceId) => [MetadataKey(instanceId), InboxKey(instanceId), PartitionKey(instanceId)];

    /// <summary>The instance's partition: FNV-1a of its ID, the same in every process (unlike string.GetHashCode).</summary>
    private string PartitionKey(string instanceId)
    {
        var hash = 2166136261u;
        foreach (var octet in Encoding.UTF8.GetBytes(instanceId))
        {
            hash = unchecked((hash ^ octet) * 16777619u);
        }

        return PartitionKey((int)(hash % (uint)_partitionCount));
    }

    private static string PartitionKey(int partition) => $"workflow-partitions|{partition.ToString(CultureInfo.InvariantCulture)}";

    private sealed record MetadataDocument(WorkflowMetadata Metadata, int HistoryLength);

    /// <summary>An instance's messages, and the task IDs of its activities that have not delivered a result yet.</summary>
    private sealed record InboxDocument(IReadOnlyList<InboxMessage> Messages, IReadOnlyList<int> Activities)
    {
        public static readonly InboxDocument Empty = new([], []);
    }

    private sealed record ActivityDocument(ActivityWorkItem Item, WorkflowLease? Lease);

    /// <summary>One partition's index: for each instance that may have work, from when on (its inbox, and any activities to run).</summary>
    private sealed record PartitionDocument(Dictionary<string, DateTimeOffset> Instances);

    /// <summary>
    /// The documents one transaction read, with their etags, and what it writes: each written key carries the etag it
    /// was read with, so the transaction fails if any of them changed; keys not read (history, new activities) carry none.
    /// </summary>
    private sealed class Writes(Dictionary<string, StateItem> read)
    {
        private readonly Dictionary<string, object> _documents = new(StringComparer.Ordinal);

        // Serialised only when the transaction is built, as a partition index is edited after it is put; null deletes.
        private readonly Dictionary<string, (object Document, Type DeclaredType)?> _pending = new(StringComparer.Ordinal);

        public string? ETagOf(string key) => read.GetValueOrDefault(key)?.ETag;

        public bool TryRead<T>(string key, out T document, out string etag)
            where T : class
        {
            etag = ETagOf(key) ?? "";
            if (_documents.TryGetValue(key, out var edited))
            {
                document = (T)edited;
                return true;
            }

            if (_pending.TryGetValue(key, out var deleted) && deleted is null)
            {
                document = null!;
                return false;
            }

            if (read.TryGetValue(key, out var item))
            {
                document = Read<T>(item);
                _documents[key] = document;
                return true;
            }

            document = null!;
            return false;
        }

        public void Put<T>(string key, T document)
            where T : class
        {
            _documents[key] = document;
            _pending[key] = (document, typeof(T));
        }

        public void Delete(string key)
        {
            _documents.Remove(key);
            _pending[key] = null;
        }

        /// <summary>
        /// The writes, leaving out documents written back unchanged: they need no write and so no etag check, which keeps
        /// the shared partition indexes out of most transactions.
        /// </summary>
        public List<DaprStateApi.StateOperation> Operations()
        {
            var operations = new List<DaprStateApi.StateOperation>();
            foreach (var (key, write) in _pending)
            {
                if (write is not { } upsert)
                {
                    operations.Add(DaprStateApi.StateOperation.Delete(key, ETagOf(key)));
                    continue;
                }

                var (document, type) = upsert;
                var value = JsonSerializer.SerializeToElement(document, type, WorkflowJson.Documents);
                if (!(read.TryGetValue(key, out var original) && JsonElement.DeepEquals(original.Value, value)))
                {
                    operations.Add(DaprStateApi.StateOperation.Upsert(key, value, ETagOf(key)));
                }
            }

            return operations;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Workflow state transaction attempt {Attempt} conflicted: {Failure}")]
        public static partial void TransactionConflict(ILogger logger, int attempt, string? failure);
    }
}
