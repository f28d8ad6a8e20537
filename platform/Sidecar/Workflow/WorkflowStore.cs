using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using CloudScale.Sidecar.Configuration;
using CloudScale.Sidecar.State;

namespace CloudScale.Sidecar.Workflow;

internal enum StepWrite
{
    None,
    Save,
    Delete,
}

/// <summary>What a step decided: its result for the caller, and whether the instance record is saved or deleted.</summary>
internal readonly record struct Step<T>(T Result, StepWrite Write, InstanceRecord? Record = null);

/// <summary>
/// The workflow data in the actor state store (layout in platform/Sidecar/README.md): one record per instance under
/// <c>{keyPrefix}||workflow||{instanceId}</c>, and an index of the instances that may still have work, in
/// <see cref="IndexPartitions"/> documents <c>{keyPrefix}||workflow-index||{n}</c> (the state API cannot list keys, and one
/// index document would be one hot key). Every write is first-write with an etag (create-only without one), so two
/// writers of one record never both win.
/// </summary>
internal sealed class WorkflowStore(IStateStore store, string? keyPrefix)
{
    public const int IndexPartitions = 16;

    private const int MaxAttempts = 200;

    private static readonly StateOptions FirstWrite = new("first-write", "strong");

    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>(StringComparer.Ordinal);

    private readonly WriteCoalescer<IndexChange> _index = new();
    private readonly LastWrites _lastWrites = new();

    public string StoreName => store.Name;

    /// <summary>
    /// Finds the one state store whose metadata says <c>actorStateStore: "true"</c>; null when there is none, as daprd
    /// then runs without workflows; two are a start-up error with daprd's message.
    /// </summary>
    public static WorkflowStore? Select(LoadedResources resources, StateStores states)
    {
        var marked = resources.Components
            .Where(component => component.Type.StartsWith("state.", StringComparison.Ordinal) && IsTruthy(component.Get("actorStateStore")))
            .ToList();
        if (marked.Count > 1)
        {
            throw new ConfigurationException($"{marked[1].File}: component '{marked[1].Name}': detected duplicate actor state store: {marked[0].Name} and {marked[1].Name}");
        }

        if (marked.Count == 0)
        {
            return null;
        }

        var (store, prefix) = states.Find(marked[0].Name);
        return new WorkflowStore(store, prefix);
    }

    /// <summary>dapr/kit's <c>utils.IsTruthy</c>.</summary>
    private static bool IsTruthy(string? value) =>
        value?.Trim().ToLowerInvariant() is "y" or "yes" or "true" or "t" or "on" or "1";

    public async Task<InstanceRecord?> ReadAsync(string instanceId, CancellationToken cancellationToken) =>
        (await ReadWithETagAsync(InstanceKey(instanceId), cancellationToken)).Record;

    public async Task<IReadOnlyList<InstanceRecord>> ReadManyAsync(IReadOnlyList<string> instanceIds, CancellationToken cancellationToken)
    {
        IReadOnlyList<StateItem?> items = store is IBulkStateStore bulk
            ? await bulk.BulkGetAsync([.. instanceIds.Select(InstanceKey)], cancellationToken)
            : await Task.WhenAll(instanceIds.Select(id => store.GetAsync(InstanceKey(id), cancellationToken)));
        return [.. items.OfType<StateItem>().Select(item => Deserialize(item.Data))];
    }

    /// <summary>
    /// Runs <paramref name="step"/> on the current record (null when there is none) and writes what it decides with the
    /// record's etag, again on a fresh read whenever another writer got there first. The record this sidecar wrote last
    /// stands in for the read (<see cref="LastWrites"/>).
    /// </summary>
    public async Task<T> UpdateAsync<T>(string instanceId, Func<InstanceRecord?, Step<T>> step, CancellationToken cancellationToken)
    {
        var key = InstanceKey(instanceId);
        var fresh = false;
        for (var attempt = 1; ; attempt++)
        {
            var remembered = fresh ? null : _lastWrites.Find(key);
            var (record, etag) = remembered is null ? await ReadWithETagAsync(key, cancellationToken) : (Deserialize(remembered.Data), remembered.ETag);
            Step<T> decision;
            try
            {
                decision = step(record);
            }
            catch (WorkflowException) when (remembered is not null)
            {
                fresh = true;
                continue;
            }

            if (remembered is not null && decision.Write == StepWrite.None)
            {
                // No etag-guarded write will confirm a decision taken on what may be out of date: take it again on a read.
                fresh = true;
                continue;
            }

            try
            {
                switch (decision.Write)
                {
                    case StepWrite.Save:
                        var saved = decision.Record ?? record ?? throw new InvalidOperationException("a step saved no record");
                        var data = Serialize(saved);
                        var newETag = await store.SetAsync(new SetRequest(key, StateValue.FromBytes(data), etag, FirstWrite, NoMetadata), cancellationToken);
                        _lastWrites.Remember(key, data, newETag, keep: !saved.IsTerminal);
                        break;
                    case StepWrite.Delete when etag is not null:
                        await store.DeleteAsync(new DeleteRequest(key, etag, FirstWrite, NoMetadata), cancellationToken);
                        _lastWrites.Forget(key);
                        break;
                }

                return decision.Result;
            }
            catch (Exception exception) when (exception is not OperationCanceledException && attempt < MaxAttempts)
            {
                // A lost race (etag mismatch, or a create-only write that found a record): read again and redo the step.
                _lastWrites.Forget(key, remembered);
                fresh = true;
                await BackOffAsync(attempt, cancellationToken);
            }
        }
    }

    /// <summary>A page of the ids of the instances that have a record, as daprd lists them: the store's keys under the instance key prefix.</summary>
    public async Task<KeyPage> ListInstancesAsync(string? continuationToken, uint? pageSize, CancellationToken cancellationToken)
    {
        var prefix = InstanceKey("");
        var page = await store.ListKeysAsync(prefix, continuationToken, pageSize, cancellationToken);
        return page with { Keys = [.. page.Keys.Select(key => key[prefix.Length..])] };
    }

    public async Task<IReadOnlyList<string>> ReadIndexAsync(CancellationToken cancellationToken)
    {
        var keys = Enumerable.Range(0, IndexPartitions).Select(IndexKey).ToList();
        IReadOnlyList<StateItem?> items = store is IBulkStateStore bulk
            ? await bulk.BulkGetAsync(keys, cancellationToken)
            : await Task.WhenAll(keys.Select(key => store.GetAsync(key, cancellationToken)));
        return [.. items.OfType<StateItem>().SelectMany(item => JsonSerializer.Deserialize(item.Data, WorkflowJson.Default.ListString) ?? [])];
    }

    public Task AddToIndexAsync(string instanceId, CancellationToken cancellationToken) => ChangeIndexAsync(instanceId, add: true, cancellationToken);

    public Task RemoveFromIndexAsync(string instanceId, CancellationToken cancellationToken) => ChangeIndexAsync(instanceId, add: false, cancellationToken);

    /// <summary>Index changes to one partition that meet in time go into one write of it (many instances share a partition).</summary>
    private Task ChangeIndexAsync(string instanceId, bool add, CancellationToken cancellationToken)
    {
        var key = IndexKey(Partition(instanceId));
        return _index.RunAsync(key, new IndexChange(instanceId, add), batch => WriteIndexAsync(key, batch), cancellationToken);
    }

    private async Task WriteIndexAsync(string key, IReadOnlyList<IndexChange> batch)
    {
        var fresh = false;
        for (var attempt = 1; ; attempt++)
        {
            var remembered = fresh ? null : _lastWrites.Find(key);
            var item = remembered is null ? await store.GetAsync(key, CancellationToken.None) : new StateItem(remembered.Data, remembered.ETag, NoMetadata);
            var ids = item is null ? [] : JsonSerializer.Deserialize(item.Data, WorkflowJson.Default.ListString) ?? [];
            var changed = false;
            foreach (var change in batch)
            {
                if (!change.Add)
                {
                    changed |= ids.Remove(change.InstanceId);
                }
                else if (!ids.Contains(change.InstanceId, StringComparer.Ordinal))
                {
                    ids.Add(change.InstanceId);
                    changed = true;
                }
            }

            if (!changed)
            {
                if (remembered is null)
                {
                    return;
                }

                fresh = true;
                continue;
            }

            try
            {
                var bytes = JsonSerializer.SerializeToUtf8Bytes(ids, WorkflowJson.Default.ListString);
                var newETag = await store.SetAsync(new SetRequest(key, StateValue.FromBytes(bytes), item?.ETag, FirstWrite, NoMetadata), CancellationToken.None);
                _lastWrites.Remember(key, bytes, newETag, keep: true);
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException && attempt < MaxAttempts)
            {
                _lastWrites.Forget(key, remembered);
                fresh = true;
                await BackOffAsync(attempt, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// Changes the app's membership record (member id → when its membership expires, <see cref="WorkflowMembers"/>) with
    /// its etag, again on a fresh read whenever another sidecar got there first, and returns the record as written.
    /// </summary>
    public async Task<Dictionary<string, long>> UpdateMembersAsync(Action<Dictionary<string, long>> change, CancellationToken cancellationToken)
    {
        var key = Key("workflow-members", "all");
        for (var attempt = 1; ; attempt++)
        {
            var item = await store.GetAsync(key, cancellationToken);
            var members = item is null ? new Dictionary<string, long>(StringComparer.Ordinal)
                : new Dictionary<string, long>(JsonSerializer.Deserialize(item.Data, WorkflowJson.Default.DictionaryStringInt64) ?? [], StringComparer.Ordinal);
            change(members);
            try
            {
                var bytes = JsonSerializer.SerializeToUtf8Bytes(members, WorkflowJson.Default.DictionaryStringInt64);
                await store.SetAsync(new SetRequest(key, StateValue.FromBytes(bytes), item?.ETag, FirstWrite, NoMetadata), cancellationToken);
                return members;
            }
            catch (Exception exception) when (exception is not OperationCanceledException && attempt < MaxAttempts)
            {
                await BackOffAsync(attempt, cancellationToken);
            }
        }
    }

    private async Task<(InstanceRecord? Record, string? ETag)> ReadWithETagAsync(string key, CancellationToken cancellationToken)
    {
        var item = await store.GetAsync(key, cancellationToken);
        return item is null ? (null, null) : (Deserialize(item.Data), item.ETag);
    }

    /// <summary>Races are short: retry at once a few times, then spread the contenders out.</summary>
    private static Task BackOffAsync(int attempt, CancellationToken cancellationToken) =>
        attempt < 3 ? Task.CompletedTask : Task.Delay(Random.Shared.Next(1, Math.Min(attempt, 20) * 5), cancellationToken);

    private string InstanceKey(string instanceId) => Key("workflow", instanceId);

    private string IndexKey(int partition) => Key("workflow-index", partition.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private string Key(string kind, string name) => keyPrefix is null ? $"{kind}||{name}" : $"{keyPrefix}||{kind}||{name}";

    private static int Partition(string instanceId) => (int)(XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(instanceId)) % IndexPartitions);

    private static byte[] Serialize(InstanceRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, WorkflowJson.Default.InstanceRecord);

    private static InstanceRecord Deserialize(byte[] data) =>
        JsonSerializer.Deserialize(data, WorkflowJson.Default.InstanceRecord) ?? throw new InvalidDataException("an empty workflow instance record");

    private sealed class IndexChange(string instanceId, bool add) : CoalescedChange
    {
        public string InstanceId { get; } = instanceId;

        public bool Add { get; } = add;
    }
}
