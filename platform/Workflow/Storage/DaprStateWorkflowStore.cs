using System.Collections.Concurrent;
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

    /// <summary>How long an index entry may name an instance that does not exist before a poll removes it.</summary>
    private static readonly TimeSpan UncreatedEntryLifetime = TimeSpan.FromMinutes(5);

    private readonly DaprStateApi _state;
    private readonly int _partitionCount;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, IndexBatch> _indexBatches = new(StringComparer.Ordinal);

    /// <summary>The metadata last written by creates and commits that left the instance leased, for the holder's next load.</summary>
    private readonly ConcurrentDictionary<string, MetadataDocument> _keptShapes = new(StringComparer.Ordinal);

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

    public async Task<bool> TryCreateAsync(NewWorkflowInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var instanceId = instance.Metadata.InstanceId;
        await AddToIndexAsync(instanceId, cancellationToken);
        if (!await TransactAsync([MetadataKey(instanceId), InboxKey(instanceId)], writes => Create(writes, instance), cancellationToken))
        {
            return false;
        }

        if (instance.Metadata.Lease is not null)
        {
            _keptShapes[instanceId] = new MetadataDocument(instance.Metadata, HistoryLength: 0, Activities: []);
        }

        return true;
    }

    public async Task<WorkflowMetadata?> GetMetadataAsync(string instanceId, CancellationToken cancellationToken) =>
        await _state.GetAsync(MetadataKey(instanceId), cancellationToken) is { } item ? Read<MetadataDocument>(item).Metadata : null;

    public async Task<WorkflowInstanceRecord?> LoadAsync(string instanceId, CancellationToken cancellationToken)
    {
        // After a commit that kept the instance's lease, this process knows which keys its next load reads: one read.
        if (_keptShapes.TryRemove(instanceId, out var expected))
        {
            var known = await _state.BulkGetAsync(RecordKeys(instanceId, expected), cancellationToken);
            if (known.TryGetValue(MetadataKey(instanceId), out var item)
                && Read<MetadataDocument>(item) is var current
                && current.HistoryLength == expected.HistoryLength
                && current.Activities.SequenceEqual(expected.Activities))
            {
                return Record(instanceId, current, known);
            }
        }

        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            if (await _state.GetAsync(MetadataKey(instanceId), cancellationToken) is not { } metadataItem)
            {
                return null;
            }

            // The metadata names the history and activities to read; reading it again with them proves they belong together.
            var document = Read<MetadataDocument>(metadataItem);
            var items = await _state.BulkGetAsync(RecordKeys(instanceId, document), cancellationToken);
            if (items.TryGetValue(MetadataKey(instanceId), out var again) && again.ETag == metadataItem.ETag)
            {
                return Record(instanceId, document, items);
            }
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

        var lease = new WorkflowLease(owner, leaseUntil);
        var leased = document with { Metadata = document.Metadata with { Lease = lease } };
        if (!await _state.TrySaveAsync(item.Key, Write(leased), item.ETag, cancellationToken))
        {
            return null;
        }

        // The load that follows needs the etag the lease write produced; finding this very lease in it proves the
        // metadata is still the document written (only the lease holder changes an instance's metadata).
        var items = await _state.BulkGetAsync(RecordKeys(instanceId, leased), cancellationToken);
        return items.TryGetValue(MetadataKey(instanceId), out var again)
            && Read<MetadataDocument>(again) is var current
            && current.Metadata.Lease == lease && current.HistoryLength == leased.HistoryLength && current.Activities.SequenceEqual(leased.Activities)
            ? Record(instanceId, current, items)
            : null;
    }

    public async Task<bool> TryCommitAsync(WorkflowCommit commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        var instanceId = commit.Metadata.InstanceId;
        var loaded = LoadedVersion.Parse(commit.ETag);
        foreach (var child in commit.StartedInstances)
        {
            await AddToIndexAsync(child.Metadata.InstanceId, cancellationToken);
        }

        var others = commit.StartedInstances.Select(started => started.Metadata.InstanceId)
            .Concat(commit.Messages.Select(message => message.InstanceId))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (others.Count == 0)
        {
            // Everything written is the instance's own and its etags are those loaded: one transaction, no read first. A
            // conflict means the instance changed since, which only a new load can resolve.
            var writes = new Writes([], loaded.ETags(instanceId));
            var written = Advance(writes, commit, loaded);
            if (!(await _state.TryTransactAsync(writes.Operations(), cancellationToken)).IsCommitted)
            {
                return false;
            }

            if (commit.Metadata.Lease is not null)
            {
                _keptShapes[instanceId] = written;
            }

            return true;
        }

        List<string> keys = [.. new[] { instanceId }.Concat(others).SelectMany(InstanceKeys).Distinct(StringComparer.Ordinal)];
        return await TransactAsync(keys, writes =>
        {
            if (writes.ETagOf(MetadataKey(instanceId)) != loaded.Metadata || writes.ETagOf(InboxKey(instanceId)) != loaded.Inbox)
            {
                return false;
            }

            Advance(writes, commit, loaded);
            if (!commit.StartedInstances.All(started => Create(writes, started)))
            {
                return false;
            }

            foreach (var message in commit.Messages)
            {
                Deliver(writes, message.InstanceId, message.Message);
            }

            return true;
        }, cancellationToken, loaded.ETags(instanceId));
    }

    public Task<bool> DeliverAsync(string instanceId, InboxMessage message, CancellationToken cancellationToken) =>
        TransactAsync(InstanceKeys(instanceId), writes => Deliver(writes, instanceId, message), cancellationToken);

    /// <summary>Deletes the instance's keys; its index entry goes when a poll finds the instance gone.</summary>
    public Task<bool> TryPurgeAsync(string instanceId, string etag, CancellationToken cancellationToken)
    {
        var loaded = LoadedVersion.Parse(etag);
        return TransactAsync(InstanceKeys(instanceId), writes =>
        {
            if (!writes.TryRead<MetadataDocument>(MetadataKey(instanceId), out var current, out var metadataETag)
                || metadataETag != loaded.Metadata
                || writes.ETagOf(InboxKey(instanceId)) != loaded.Inbox)
            {
                return false;
            }

            DeleteInstance(writes, instanceId, current);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Reads the partition indexes for the instances that exist, then their metadata, inboxes and the activities they
    /// wait for, to tell which need a step and which activities wait to run. Entries of instances
    /// that finished or are gone are removed here, off the path of the steps.
    /// </summary>
    public async Task<WorkSnapshot> GetWorkAsync(CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        var live = await ReadIndexedInstancesAsync(now, cancellationToken);
        var activityDocuments = await _state.BulkGetAsync(
            [.. live.SelectMany(instance => instance.Document.Activities.Select(taskId => ActivityKeyOf(new ActivityKey(instance.InstanceId, taskId))))],
            cancellationToken);
        var due = new List<string>();
        var activities = new List<ActivityKey>();
        var wakeUps = new List<DateTimeOffset>();
        foreach (var (instanceId, document, inbox) in live)
        {
            var results = new List<InboxMessage>();
            foreach (var taskId in document.Activities)
            {
                var key = new ActivityKey(instanceId, taskId);
                if (!activityDocuments.TryGetValue(ActivityKeyOf(key), out var activityItem))
                {
                    continue;
                }

                var activity = Read<ActivityDocument>(activityItem);
                if (activity.Result is { } result)
                {
                    results.Add(result);
                }
                else if (activity.Lease is { } activityLease && activityLease.ExpiresAt > now)
                {
                    wakeUps.Add(activityLease.ExpiresAt);
                }
                else
                {
                    activities.Add(key);
                }
            }

            if (document.Metadata.WakeUpTime([.. inbox, .. results]) is not { } wakeUp)
            {
                continue;
            }

            // Listed even when leased: the holder may be waiting for it (leasing fails for anyone else).
            if (wakeUp <= now)
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

    /// <summary>The unfinished instances the partition indexes list, with their metadata and inboxes.</summary>
    private async Task<List<(string InstanceId, MetadataDocument Document, IReadOnlyList<InboxMessage> Inbox)>> ReadIndexedInstancesAsync(
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var partitionKeys = Enumerable.Range(0, _partitionCount).Select(PartitionKey).ToList();
        var entries = (await _state.BulkGetAsync(partitionKeys, cancellationToken)).Values
            .SelectMany(item => Read<PartitionDocument>(item).Instances)
            .ToList();
        var documents = await _state.BulkGetAsync([.. entries.SelectMany(entry => new[] { MetadataKey(entry.Key), InboxKey(entry.Key) })], cancellationToken);
        var live = new List<(string InstanceId, MetadataDocument Document, IReadOnlyList<InboxMessage> Inbox)>();
        foreach (var (instanceId, indexedAt) in entries)
        {
            if (!documents.TryGetValue(MetadataKey(instanceId), out var metadataItem))
            {
                // The entry is written before the instance, so a young entry may belong to an instance being created.
                if (indexedAt < now - UncreatedEntryLifetime)
                {
                    RemoveFromIndex(instanceId, indexedAt);
                }

                continue;
            }

            // An entry newer than the end of the instance was written for a new instance of the ID being created.
            var document = Read<MetadataDocument>(metadataItem);
            if (document.Metadata.IsFinished && document.Activities.Count == 0 && document.Metadata.LastUpdatedAt >= indexedAt)
            {
                RemoveFromIndex(instanceId, indexedAt);
                continue;
            }

            live.Add((instanceId, document, documents.TryGetValue(InboxKey(instanceId), out var inboxItem) ? Read<InboxDocument>(inboxItem).Messages : []));
        }

        return live;
    }

    public async Task<ActivityWorkItem?> TryLeaseActivityAsync(ActivityKey key, string owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        if (await _state.GetAsync(ActivityKeyOf(key), cancellationToken) is not { } item)
        {
            return null;
        }

        var document = Read<ActivityDocument>(item);
        var lease = new WorkflowLease(owner, leaseUntil);
        return document.Result is null
            && !IsLeasedToAnother(document.Lease, owner)
            && await _state.TrySaveAsync(item.Key, Write(document with { Lease = lease }), item.ETag, cancellationToken)
            ? document.Item with { LeaseToken = lease.Token }
            : null;
    }

    /// <summary>
    /// Records the result in the activity's own document if it still holds the lease, guarded by the etag it was read
    /// with: results of one instance's activities never contend with each other or with its steps, and the next step
    /// moves them into the history.
    /// </summary>
    public async Task<bool> TryCompleteActivityAsync(ActivityWorkItem leased, InboxMessage result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leased);
        if (await _state.GetAsync(ActivityKeyOf(leased.Key), cancellationToken) is not { } item
            || Read<ActivityDocument>(item) is not { Result: null, Lease: { } lease } document
            || lease.Token != leased.LeaseToken)
        {
            return false;
        }

        return await _state.TrySaveAsync(item.Key, Write(document with { Lease = null, Result = result }), item.ETag, cancellationToken);
    }

    public void Dispose() => _state.Dispose();

    /// <summary>Creates the instance, replacing a finished one; false if an unfinished one has the ID.</summary>
    private static bool Create(Writes writes, NewWorkflowInstance instance)
    {
        var instanceId = instance.Metadata.InstanceId;
        if (writes.TryRead<MetadataDocument>(MetadataKey(instanceId), out var existing, out _))
        {
            if (!existing.Metadata.IsFinished)
            {
                return false;
            }

            DeleteInstance(writes, instanceId, existing);
        }

        writes.Put(MetadataKey(instanceId), new MetadataDocument(instance.Metadata, HistoryLength: 0, Activities: []));
        writes.Put(InboxKey(instanceId), new InboxDocument([instance.Start]));
        return true;
    }

    /// <summary>Writes one step: metadata, appended history, inbox, activities scheduled, cancelled and whose results it took; returns the metadata written.</summary>
    private static MetadataDocument Advance(Writes writes, WorkflowCommit commit, LoadedVersion loaded)
    {
        var instanceId = commit.Metadata.InstanceId;
        var length = commit.ReplacesHistory ? commit.AppendedHistory.Count : loaded.HistoryLength + commit.AppendedHistory.Count;
        var removed = loaded.Results.Keys.Union(commit.CancelledActivities).Union(commit.CompletedActivities).ToList();
        var pending = loaded.Activities.Except(removed).Concat(commit.ScheduledActivities.Select(activity => activity.TaskId));
        var metadata = new MetadataDocument(commit.Metadata, length, [.. pending]);
        writes.Put(MetadataKey(instanceId), metadata);
        var firstAppended = length - commit.AppendedHistory.Count;
        for (var index = 0; index < commit.AppendedHistory.Count; index++)
        {
            writes.Put<HistoryEvent>(HistoryKey(instanceId, firstAppended + index), commit.AppendedHistory[index]);
        }

        for (var stale = length; stale < loaded.HistoryLength; stale++)
        {
            writes.Delete(HistoryKey(instanceId, stale));
        }

        // The results the step took are now in its history or its inbox.
        foreach (var taskId in removed)
        {
            writes.Delete(ActivityKeyOf(new ActivityKey(instanceId, taskId)));
        }

        foreach (var activity in commit.ScheduledActivities)
        {
            writes.Put(ActivityKeyOf(activity.Key), new ActivityDocument(activity, commit.ActivityLease, Result: null));
        }

        writes.Put(InboxKey(instanceId), new InboxDocument(commit.Inbox));
        return metadata;
    }

    /// <summary>Appends a message to the instance's inbox unless it has finished; false, writing nothing, if there is no such instance.</summary>
    private static bool Deliver(Writes writes, string instanceId, InboxMessage message)
    {
        if (!writes.TryRead<MetadataDocument>(MetadataKey(instanceId), out var metadata, out _))
        {
            return false;
        }

        if (!metadata.Metadata.IsFinished)
        {
            var inbox = writes.TryRead<InboxDocument>(InboxKey(instanceId), out var existing, out _) ? existing.Messages : [];
            writes.Put(InboxKey(instanceId), new InboxDocument([.. inbox, message]));
        }

        return true;
    }

    private static void DeleteInstance(Writes writes, string instanceId, MetadataDocument document)
    {
        foreach (var taskId in document.Activities)
        {
            writes.Delete(ActivityKeyOf(new ActivityKey(instanceId, taskId)));
        }

        for (var index = 0; index < document.HistoryLength; index++)
        {
            writes.Delete(HistoryKey(instanceId, index));
        }

        writes.Delete(MetadataKey(instanceId));
        writes.Delete(InboxKey(instanceId));
    }

    /// <summary>The keys of the record <paramref name="document"/> describes: its metadata, inbox, history and activities.</summary>
    private static List<string> RecordKeys(string instanceId, MetadataDocument document) =>
    [
        MetadataKey(instanceId),
        InboxKey(instanceId),
        .. Enumerable.Range(0, document.HistoryLength).Select(index => HistoryKey(instanceId, index)),
        .. document.Activities.Select(taskId => ActivityKeyOf(new ActivityKey(instanceId, taskId))),
    ];

    /// <summary>The record over what <see cref="RecordKeys"/> read; the results of finished activities join the inbox.</summary>
    private static WorkflowInstanceRecord Record(string instanceId, MetadataDocument document, Dictionary<string, StateItem> items)
    {
        var metadataItem = items[MetadataKey(instanceId)];
        var inboxItem = items.GetValueOrDefault(InboxKey(instanceId));
        var history = Enumerable.Range(0, document.HistoryLength).Select(index => Read<HistoryEvent>(items[HistoryKey(instanceId, index)])).ToList();
        List<InboxMessage> inbox = inboxItem is null ? [] : [.. Read<InboxDocument>(inboxItem).Messages];
        var results = new Dictionary<int, string>();
        foreach (var taskId in document.Activities)
        {
            if (items.GetValueOrDefault(ActivityKeyOf(new ActivityKey(instanceId, taskId))) is { } activityItem
                && Read<ActivityDocument>(activityItem).Result is { } result)
            {
                inbox.Add(result);
                results[taskId] = activityItem.ETag;
            }
        }

        var version = new LoadedVersion(metadataItem.ETag, inboxItem?.ETag, document.HistoryLength, document.Activities, results);
        return new WorkflowInstanceRecord(document.Metadata, history, inbox, version.ToString());
    }

    /// <summary>
    /// Adds the instance to its partition index before the instance is written, so that no instance exists unlisted. The
    /// index is shared, so additions from this process are batched into one write per partition at a time.
    /// </summary>
    private Task AddToIndexAsync(string instanceId, CancellationToken cancellationToken) =>
        ChangeIndexAsync(instanceId, new IndexChange(instanceId, Add: _clock.GetUtcNow(), RemoveIfIndexedAt: null)).WaitAsync(cancellationToken);

    /// <summary>Removes the entry if it is still the one seen (a new instance of the same ID writes a newer one); best effort.</summary>
    private void RemoveFromIndex(string instanceId, DateTimeOffset indexedAt) =>
        _ = ChangeIndexAsync(instanceId, new IndexChange(instanceId, Add: null, RemoveIfIndexedAt: indexedAt));

    private Task ChangeIndexAsync(string instanceId, IndexChange change)
    {
        var partition = _indexBatches.GetOrAdd(PartitionKey(instanceId), key => new IndexBatch(key));
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (partition.Changes.Enqueue((change, done)))
        {
            _ = FlushIndexAsync(partition);
        }

        return done.Task;
    }

    /// <summary>Writes the changes queued for one partition, one transaction per batch, until none are left.</summary>
    private async Task FlushIndexAsync(IndexBatch partition)
    {
        while (partition.Changes.TakeBatch(int.MaxValue) is { } batch)
        {
            try
            {
                await TransactAsync([partition.Key], writes =>
                {
                    var index = writes.TryRead<PartitionDocument>(partition.Key, out var existing, out _) ? existing : new PartitionDocument([]);
                    foreach (var (change, _) in batch)
                    {
                        if (change.Add is { } indexedAt)
                        {
                            index.Instances[change.InstanceId] = indexedAt;
                        }
                        else if (index.Instances.GetValueOrDefault(change.InstanceId) == change.RemoveIfIndexedAt)
                        {
                            index.Instances.Remove(change.InstanceId);
                        }
                    }

                    writes.Put(partition.Key, index);
                    return true;
                }, CancellationToken.None);
                batch.ForEach(queued => queued.Done.TrySetResult());
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                Log.IndexWriteFailed(_logger, exception, partition.Key);
                batch.ForEach(queued => queued.Done.TrySetException(exception));
            }
        }
    }

    /// <summary>
    /// Reads <paramref name="keys"/>, lets <paramref name="plan"/> decide on writes, and commits them in one transaction
    /// guarded by the etags read; on a conflict, reads and plans again. A plan that returns false writes nothing.
    /// </summary>
    /// <param name="loadedETags">Etags of keys read earlier and not read again, for the writes that replace or delete them.</param>
    private async Task<bool> TransactAsync(
        IReadOnlyCollection<string> keys, Func<Writes, bool> plan, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? loadedETags = null)
    {
        TransactionResult? last = null;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var writes = new Writes(await _state.BulkGetAsync(keys, cancellationToken), loadedETags ?? new Dictionary<string, string>(StringComparer.Ordinal));
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

            // Another replica wrote one of the keys: back off a little, re-read.
            Log.TransactionConflict(_logger, attempt, last.Failure);
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(0, Math.Min(500, 5 << attempt))), cancellationToken);
        }

        throw Contended(last?.Failure);
    }

    private bool IsLeasedToAnother(WorkflowLease? lease, string owner) =>
        lease is not null && lease.Owner != owner && lease.ExpiresAt > _clock.GetUtcNow();

    private static InvalidOperationException Contended(string? detail) =>
        new($"The workflow state could not be written after {MaxAttempts} attempts; the last failure: {detail}");

    private static T Read<T>(StateItem item) => item.Value.Deserialize<T>(WorkflowJson.Documents)!;

    private static JsonElement Write<T>(T document) => JsonSerializer.SerializeToElement(document, WorkflowJson.Documents);

    // ---- Key layout (see README): instance IDs hold only letters, digits, '_' and '-', so '|' separates safely. ----

    internal static string MetadataKey(string instanceId) => $"workflow|{instanceId}|metadata";

    internal static string InboxKey(string instanceId) => $"workflow|{instanceId}|inbox";

    internal static string HistoryKey(string instanceId, int index) => $"workflow|{instanceId}|history|{index.ToString("D6", CultureInfo.InvariantCulture)}";

    internal static string ActivityKeyOf(ActivityKey key) => $"workflow|{key.InstanceId}|activity|{key.TaskId.ToString(CultureInfo.InvariantCulture)}";

    private static List<string> InstanceKeys(string instanceId) => [MetadataKey(instanceId), InboxKey(instanceId)];

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

    /// <summary>The metadata, the length of the history, and the task IDs of activities whose results the history lacks.</summary>
    private sealed record MetadataDocument(WorkflowMetadata Metadata, int HistoryLength, IReadOnlyList<int> Activities);

    private sealed record InboxDocument(IReadOnlyList<InboxMessage> Messages);

    /// <summary>A scheduled activity, its lease while it runs, and its result once it ran, until a step takes it.</summary>
    private sealed record ActivityDocument(ActivityWorkItem Item, WorkflowLease? Lease, InboxMessage? Result);

    /// <summary>One partition's index: every instance that exists (or is being created) in it, with when it was listed.</summary>
    private sealed record PartitionDocument(Dictionary<string, DateTimeOffset> Instances);

    private sealed record IndexChange(string InstanceId, DateTimeOffset? Add, DateTimeOffset? RemoveIfIndexedAt);

    /// <summary>The index changes of one partition waiting for the write in flight, if any, to finish.</summary>
    private sealed class IndexBatch(string key)
    {
        public string Key { get; } = key;

        public RequestQueue<(IndexChange Change, TaskCompletionSource Done)> Changes { get; } = new();
    }

    /// <summary>
    /// What a record was loaded from, as its opaque etag: the etags of its metadata, inbox and of the activity results it
    /// took into its inbox, and the history length and pending activities, so that a step commits without reading again.
    /// </summary>
    private sealed record LoadedVersion(string Metadata, string? Inbox, int HistoryLength, IReadOnlyList<int> Activities, IReadOnlyDictionary<int, string> Results)
    {
        public static LoadedVersion Parse(string etag) =>
            JsonSerializer.Deserialize<LoadedVersion>(etag, WorkflowJson.Documents) ?? throw new ArgumentException("not an etag of this store", nameof(etag));

        public override string ToString() => JsonSerializer.Serialize(this, WorkflowJson.Documents);

        public Dictionary<string, string> ETags(string instanceId)
        {
            var etags = Results.ToDictionary(result => ActivityKeyOf(new ActivityKey(instanceId, result.Key)), result => result.Value, StringComparer.Ordinal);
            etags[MetadataKey(instanceId)] = Metadata;
            if (Inbox is not null)
            {
                etags[InboxKey(instanceId)] = Inbox;
            }

            return etags;
        }
    }

    /// <summary>
    /// The documents one transaction read, with their etags, and what it writes: each written key carries the etag it
    /// was read with, so the transaction fails if any of them changed; keys not read (history, new activities) carry none.
    /// </summary>
    private sealed class Writes(Dictionary<string, StateItem> read, IReadOnlyDictionary<string, string> loadedETags)
    {
        private readonly Dictionary<string, object> _documents = new(StringComparer.Ordinal);

        // Serialised only when the transaction is built, as a partition index is edited after it is put; null deletes.
        private readonly Dictionary<string, (object Document, Type DeclaredType)?> _pending = new(StringComparer.Ordinal);

        public string? ETagOf(string key) => read.GetValueOrDefault(key)?.ETag ?? loadedETags.GetValueOrDefault(key);

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

        [LoggerMessage(Level = LogLevel.Warning, Message = "Writing the workflow partition index {Partition} failed")]
        public static partial void IndexWriteFailed(ILogger logger, Exception exception, string partition);
    }
}
