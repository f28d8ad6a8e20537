using Dapr.DurableTask.Protobuf;
using Dapr.Workflow;
using Dapr.Workflow.Client;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;

namespace CloudScale.Sidecar.Workflow.Tests;

/// <summary>
/// Listing instances, purging them by filter and rerunning them from an event, on each workflow store: the real SDK's
/// <c>ListInstanceIdsAsync</c> and <c>RerunWorkflowFromEventAsync</c>, and the generated client's filtered
/// <c>PurgeInstances</c>, which the SDK does not call.
/// </summary>
public abstract class InstanceManagementTests(WorkflowFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private DaprWorkflowClient Client => fixture.Worker.Client;

    [Fact]
    public async Task Listing_pages_through_every_instance_ended_or_not_once()
    {
        var ended = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Client.StartNewAsync(nameof(ChainWorkflow), 1)));
        foreach (var id in ended)
        {
            await Client.CompletionAsync(id);
        }

        var running = await Client.StartNewAsync("Forever", "");

        var all = await Client.ListInstanceIdsAsync(cancellation: Token);
        var paged = new List<string>();
        string? continuationToken = null;
        do
        {
            var page = await Client.ListInstanceIdsAsync(continuationToken, pageSize: 2, Token);
            Assert.InRange(page.InstanceIds.Count, 1, 2);
            paged.AddRange(page.InstanceIds);
            continuationToken = page.ContinuationToken;
        }
        while (continuationToken is not null);

        Assert.Null(all.ContinuationToken);
        Assert.Superset(ended.Append(running).ToHashSet(StringComparer.Ordinal), all.InstanceIds.ToHashSet(StringComparer.Ordinal));
        Assert.Equal(all.InstanceIds.Count, all.InstanceIds.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(all.InstanceIds, paged);
        await Client.TerminateWorkflowAsync(running, cancellation: Token);
    }

    [Fact]
    public async Task Purging_by_filter_deletes_the_ended_instances_created_in_the_range_with_the_statuses_children_included()
    {
        var from = DateTimeOffset.UtcNow;
        var chains = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Client.StartNewAsync(nameof(ChainWorkflow), 1)));
        var parent = await Client.StartNewAsync("Parent", 1);
        var failed = await Client.StartNewAsync("Fails", "no stock");
        var running = await Client.StartNewAsync("Forever", "");
        foreach (var id in chains.Append(parent).Append(failed))
        {
            await Client.CompletionAsync(id);
        }

        var to = DateTimeOffset.UtcNow;
        var listed = (await Client.ListInstanceIdsAsync(cancellation: Token)).InstanceIds;
        var earlier = await PurgeAsync(from.AddHours(-2), from.AddHours(-1));
        var completed = await PurgeAsync(from, to, OrchestrationStatus.Completed);
        var any = await PurgeAsync(from, to);

        Assert.Equal(0, earlier.DeletedInstanceCount);
        // Three chains, the parent and its child.
        Assert.Equal(5, completed.DeletedInstanceCount);
        Assert.True(completed.IsComplete);
        Assert.Equal(1, any.DeletedInstanceCount);
        foreach (var id in chains.Append(parent).Append(failed))
        {
            Assert.False((await Client.GetWorkflowStateAsync(id, cancellation: Token)).Exists, $"{id} was not purged");
        }

        var left = (await Client.ListInstanceIdsAsync(cancellation: Token)).InstanceIds;
        Assert.Equal(6, listed.Except(left, StringComparer.Ordinal).Count());
        Assert.Contains(running, left, StringComparer.Ordinal);
        Assert.Equal(WorkflowRuntimeStatus.Running, (await Client.GetWorkflowStateAsync(running, cancellation: Token)).RuntimeStatus);
        await Client.TerminateWorkflowAsync(running, cancellation: Token);
    }

    [Fact]
    public async Task A_rerun_from_an_activity_replays_the_history_before_it_and_runs_it_again_with_the_new_input()
    {
        var source = await Client.StartNewAsync(nameof(ChainWorkflow), 39);
        Assert.Equal(42, (await Client.CompletionAsync(source)).ReadOutputAs<int>());
        var second = (await Client.GetInstanceHistoryAsync(source, Token)).Where(e => e.EventType == WorkflowHistoryEventType.TaskScheduled).ElementAt(1);
        var rerun = $"rerun-{Guid.NewGuid():N}";

        var id = await Client.RerunWorkflowFromEventAsync(
            source, (uint)second.EventId, new RerunWorkflowFromEventOptions { NewInstanceId = rerun, Input = 100, OverwriteInput = true }, Token);

        Assert.Equal(rerun, id);
        var state = await Client.CompletionAsync(rerun);
        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(102, state.ReadOutputAs<int>());
        Assert.Equal(39, state.ReadInputAs<int>());
        Assert.Equal(nameof(ChainWorkflow), state.WorkflowName);
        var history = await Client.GetInstanceHistoryAsync(rerun, Token);
        Assert.Equal(3, history.Count(e => e.EventType == WorkflowHistoryEventType.TaskScheduled));
        Assert.Equal(42, (await Client.GetWorkflowStateAsync(source, cancellation: Token)).ReadOutputAs<int>());
    }

    [Fact]
    public async Task A_rerun_without_an_instance_id_gets_a_new_one()
    {
        var source = await Client.StartNewAsync(nameof(ChainWorkflow), 1);
        await Client.CompletionAsync(source);
        var first = (await Client.GetInstanceHistoryAsync(source, Token)).First(e => e.EventType == WorkflowHistoryEventType.TaskScheduled);

        var id = await Client.RerunWorkflowFromEventAsync(source, (uint)first.EventId, cancellation: Token);

        Assert.NotEqual(source, id, StringComparer.Ordinal);
        Assert.Equal(4, (await Client.CompletionAsync(id)).ReadOutputAs<int>());
    }

    [Fact]
    public async Task A_rerun_from_inside_a_fan_out_runs_the_unfinished_activities_and_those_not_yet_scheduled()
    {
        var source = await Client.StartNewAsync("FanOut", 10);
        await Client.CompletionAsync(source);
        var fifth = (await Client.GetInstanceHistoryAsync(source, Token)).Where(e => e.EventType == WorkflowHistoryEventType.TaskScheduled).ElementAt(4);

        var id = await Client.RerunWorkflowFromEventAsync(source, (uint)fifth.EventId, cancellation: Token);

        Assert.Equal(385, (await Client.CompletionAsync(id)).ReadOutputAs<int>());
    }

    [Fact]
    public async Task A_rerun_from_a_child_workflow_starts_the_child_again_under_an_id_of_the_new_instance()
    {
        var source = await Client.StartNewAsync("Parent", 10);
        await Client.CompletionAsync(source);
        var created = (await Client.GetInstanceHistoryAsync(source, Token)).First(e => e.EventType == WorkflowHistoryEventType.SubOrchestrationInstanceCreated);
        var rerun = $"rerun-{Guid.NewGuid():N}";

        await Client.RerunWorkflowFromEventAsync(
            source, (uint)created.EventId, new RerunWorkflowFromEventOptions { NewInstanceId = rerun, Input = 20, OverwriteInput = true }, Token);

        Assert.Equal(23, (await Client.CompletionAsync(rerun)).ReadOutputAs<int>());
        var child = await Client.GetWorkflowStateAsync($"{rerun}:{created.EventId:x4}", cancellation: Token);
        Assert.Equal(WorkflowRuntimeStatus.Completed, child.RuntimeStatus);
        Assert.Equal(20, child.ReadInputAs<int>());
    }

    [Fact]
    public async Task A_rerun_from_a_timer_fires_it_at_its_original_time_and_takes_no_new_input()
    {
        var source = await Client.StartNewAsync("Timer", 300);
        await Client.CompletionAsync(source);
        var timer = (uint)(await Client.GetInstanceHistoryAsync(source, Token)).Single(e => e.EventType == WorkflowHistoryEventType.TimerCreated).EventId;

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            Client.RerunWorkflowFromEventAsync(source, timer, new RerunWorkflowFromEventOptions { Input = 5, OverwriteInput = true }, Token));
        var id = await Client.RerunWorkflowFromEventAsync(source, timer, cancellation: Token);

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal($"cannot write input to timer event '{timer}'", refused.Status.Detail);
        Assert.Equal("fired", (await Client.CompletionAsync(id)).ReadOutputAs<string>());
        var history = await Client.GetInstanceHistoryAsync(id, Token);
        Assert.Equal(1, history.Count(e => e.EventType == WorkflowHistoryEventType.TimerCreated));
        Assert.Equal(1, history.Count(e => e.EventType == WorkflowHistoryEventType.TimerFired));
    }

    [Fact]
    public async Task A_timer_that_fired_before_the_rerun_event_keeps_its_place_and_does_not_fire_again()
    {
        var source = await Client.StartNewAsync("TimerThenAddOne", 7);
        await Client.CompletionAsync(source);
        var scheduled = (uint)(await Client.GetInstanceHistoryAsync(source, Token)).Single(e => e.EventType == WorkflowHistoryEventType.TaskScheduled).EventId;

        var id = await Client.RerunWorkflowFromEventAsync(source, scheduled, new RerunWorkflowFromEventOptions { Input = 41, OverwriteInput = true }, Token);

        Assert.Equal(42, (await Client.CompletionAsync(id)).ReadOutputAs<int>());
        var events = (await Client.GetInstanceHistoryAsync(id, Token)).Select(e => e.EventType).ToList();
        Assert.Equal(1, events.Count(type => type == WorkflowHistoryEventType.TimerFired));
        Assert.True(events.IndexOf(WorkflowHistoryEventType.TimerCreated) < events.IndexOf(WorkflowHistoryEventType.TimerFired));
    }

    [Fact]
    public async Task A_rerun_is_refused_as_daprd_refuses_it()
    {
        var source = await Client.StartNewAsync(nameof(ChainWorkflow), 1);
        await Client.CompletionAsync(source);
        var scheduled = (uint)(await Client.GetInstanceHistoryAsync(source, Token)).First(e => e.EventType == WorkflowHistoryEventType.TaskScheduled).EventId;
        var echo = await Client.StartNewAsync("Echo", "");
        await Client.CompletionAsync(echo);
        // The SDK leaves the completing action's id unset, so its ExecutionCompleted has id 0, as with daprd.
        var completed = (await Client.GetInstanceHistoryAsync(echo, Token)).Single(e => e.EventType == WorkflowHistoryEventType.ExecutionCompleted).EventId;
        var running = await Client.StartNewAsync("Forever", "");
        var taken = await Client.StartNewAsync(nameof(ChainWorkflow), 1);
        var unknown = $"unknown-{Guid.NewGuid():N}";

        await RefusedAsync(StatusCode.InvalidArgument, $"'{running}' is not in a terminal state", running, 0);
        await RefusedAsync(StatusCode.NotFound, $"workflow instance does not exist with ID '{unknown}'", unknown, 0);
        await RefusedAsync(StatusCode.NotFound, "does not have history event with ID '99'", source, 99);
        await RefusedAsync(
            StatusCode.NotFound, $"target event '*protos.HistoryEvent_ExecutionCompleted' with ID '{completed}' is not an event that can be rerun", echo, (uint)completed);
        await RefusedAsync(StatusCode.AlreadyExists, $"workflow '{taken}' has already been created", source, scheduled, taken);
        await RefusedAsync(StatusCode.InvalidArgument, "rerun workflow instance ID must be different from the original instance ID", source, scheduled, source);
        await Client.TerminateWorkflowAsync(running, cancellation: Token);
    }

    private async Task RefusedAsync(StatusCode status, string message, string source, uint eventId, string? newInstanceId = null)
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            Client.RerunWorkflowFromEventAsync(source, eventId, new RerunWorkflowFromEventOptions { NewInstanceId = newInstanceId }, Token));
        Assert.Equal(status, refused.StatusCode);
        Assert.Equal(message, refused.Status.Detail);
    }

    private async Task<PurgeInstancesResponse> PurgeAsync(DateTimeOffset from, DateTimeOffset to, params OrchestrationStatus[] statuses)
    {
        using var channel = GrpcChannel.ForAddress(fixture.Sidecar.GrpcEndpoint);
        var client = new TaskHubSidecarService.TaskHubSidecarServiceClient(channel);
        var filter = new PurgeInstanceFilter { CreatedTimeFrom = Timestamp.FromDateTimeOffset(from), CreatedTimeTo = Timestamp.FromDateTimeOffset(to) };
        filter.RuntimeStatus.AddRange(statuses);
        return await client.PurgeInstancesAsync(new PurgeInstancesRequest { PurgeInstanceFilter = filter, Recursive = true }, cancellationToken: Token);
    }
}

public sealed class RedisInstanceManagementTests(RedisWorkflowFixture fixture) : InstanceManagementTests(fixture), IClassFixture<RedisWorkflowFixture>;

public sealed class PostgresInstanceManagementTests(PostgresWorkflowFixture fixture) : InstanceManagementTests(fixture), IClassFixture<PostgresWorkflowFixture>;
