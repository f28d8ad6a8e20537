using System.Collections.Concurrent;
using CloudScale.Workflow;
using Npgsql;

namespace CloudScale.WorkflowHost;

/// <summary>
/// Records in <c>instance_leases</c> when this replica certainly held an instance: from the moment its lease call
/// returned to the moment it began the commit that released it (<c>committing_at</c>; a step that never commits, or
/// whose commit failed, holds the lease until <c>lease_until</c>). Two replicas whose recorded intervals for one
/// instance overlap both held it at once.
/// </summary>
internal sealed class LeaseRecordingStore(IWorkflowStore inner, NpgsqlDataSource observations) : IWorkflowStore
{
    private readonly ConcurrentDictionary<string, long> _openLeases = new(StringComparer.Ordinal);

    public async Task<WorkflowInstanceRecord?> TryLeaseInstanceAsync(string instanceId, string owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        var record = await inner.TryLeaseInstanceAsync(instanceId, owner, leaseUntil, cancellationToken);
        if (record is not null)
        {
            var leasedAt = DateTimeOffset.UtcNow;
            await using var command = observations.CreateCommand(
                "INSERT INTO instance_leases (instance_id, owner, leased_at, lease_until) VALUES ($1, $2, $3, $4) RETURNING id");
            command.Parameters.Add(new NpgsqlParameter { Value = instanceId });
            command.Parameters.Add(new NpgsqlParameter { Value = owner });
            command.Parameters.Add(new NpgsqlParameter { Value = leasedAt });
            command.Parameters.Add(new NpgsqlParameter { Value = leaseUntil });
            _openLeases[instanceId] = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        return record;
    }

    public async Task<bool> TryCommitAsync(WorkflowCommit commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        if (commit.Metadata.Lease is not null || !_openLeases.TryGetValue(commit.Metadata.InstanceId, out var leaseId))
        {
            return await inner.TryCommitAsync(commit, cancellationToken);
        }

        // Recorded before the commit, because the process may die the moment the commit lands; a commit that fails
        // leaves the lease held until it expires, so its mark is taken back.
        await MarkCommittingAsync(leaseId, DateTimeOffset.UtcNow, cancellationToken);
        var committed = await inner.TryCommitAsync(commit, cancellationToken);
        if (committed)
        {
            _openLeases.TryRemove(commit.Metadata.InstanceId, out _);
        }
        else
        {
            await MarkCommittingAsync(leaseId, committingAt: null, cancellationToken);
        }

        return committed;
    }

    public Task<bool> TryCreateAsync(NewWorkflowInstance instance, CancellationToken cancellationToken) => inner.TryCreateAsync(instance, cancellationToken);

    public Task<WorkflowMetadata?> GetMetadataAsync(string instanceId, CancellationToken cancellationToken) => inner.GetMetadataAsync(instanceId, cancellationToken);

    public Task<WorkflowInstanceRecord?> LoadAsync(string instanceId, CancellationToken cancellationToken) => inner.LoadAsync(instanceId, cancellationToken);

    public Task<bool> DeliverAsync(string instanceId, InboxMessage message, CancellationToken cancellationToken) => inner.DeliverAsync(instanceId, message, cancellationToken);

    public Task<bool> TryPurgeAsync(string instanceId, string etag, CancellationToken cancellationToken) => inner.TryPurgeAsync(instanceId, etag, cancellationToken);

    public Task<WorkSnapshot> GetWorkAsync(CancellationToken cancellationToken) => inner.GetWorkAsync(cancellationToken);

    public Task<ActivityWorkItem?> TryLeaseActivityAsync(ActivityKey key, string owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        inner.TryLeaseActivityAsync(key, owner, leaseUntil, cancellationToken);

    public Task<bool> TryCompleteActivityAsync(ActivityWorkItem leased, InboxMessage result, CancellationToken cancellationToken) =>
        inner.TryCompleteActivityAsync(leased, result, cancellationToken);

    private async Task MarkCommittingAsync(long leaseId, DateTimeOffset? committingAt, CancellationToken cancellationToken)
    {
        await using var command = observations.CreateCommand("UPDATE instance_leases SET committing_at = $1 WHERE id = $2");
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?> { TypedValue = committingAt });
        command.Parameters.Add(new NpgsqlParameter { Value = leaseId });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
