using CloudScale.Testing;
using Dapr.DurableTask.Protobuf;
using Dapr.Workflow;
using Grpc.Core;
using Grpc.Net.Client;

namespace CloudScale.Sidecar.Workflow.Tests;

/// <summary>
/// Who gets a work item: any worker connected to the app (through any of its sidecars, which share the store), one at a
/// time under a lease; a worker or sidecar that goes away mid-item loses nothing, and a late completion is refused.
/// </summary>
public sealed class WorkDistributionTests(TestServers servers)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Work_items_are_shared_by_the_workers_connected_to_the_app()
    {
        await using var sidecar = await StartSidecarAsync($"share-{Suffix()}");
        await using var first = await WorkerHost.StartAsync(sidecar, "first");
        await using var second = await WorkerHost.StartAsync(sidecar, "second");

        var ids = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => first.Client.ScheduleNewWorkflowAsync("FanOut", $"share-{Suffix()}", 10, null, Token)));
        foreach (var id in ids)
        {
            Assert.Equal(385, (await second.Client.CompletionAsync(id)).ReadOutputAs<int>());
        }

        var workers = ids.SelectMany(id => TestWorkflows.WorkersByInstance[id]).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(["first", "second"], workers.Order(StringComparer.Ordinal), StringComparer.Ordinal);
    }

    [Fact]
    public async Task An_activity_whose_worker_went_away_is_finished_by_another_worker()
    {
        await using var sidecar = await StartSidecarAsync($"gone-{Suffix()}");
        var workers = new Dictionary<string, WorkerHost>(StringComparer.Ordinal)
        {
            ["first"] = await WorkerHost.StartAsync(sidecar, "first"),
            ["second"] = await WorkerHost.StartAsync(sidecar, "second"),
        };
        var id = await workers["first"].Client.ScheduleNewWorkflowAsync("Hanging", $"gone-{Suffix()}", "", null, Token);
        await Poll.UntilAsync(() => TestWorkflows.Attempts.GetValueOrDefault(id) == 1, Deadline);
        var holder = Assert.Single(TestWorkflows.WorkersByInstance[id]);
        var other = workers.Keys.Single(name => name != holder);

        var stopping = workers[holder].DisposeAsync().AsTask();
        var state = await workers[other].Client.CompletionAsync(id);

        Assert.Equal($"{other} finished attempt 2", state.ReadOutputAs<string>());
        TestWorkflows.Gates[id].TrySetResult();
        await stopping;
        await workers[other].DisposeAsync();
    }

    [Fact]
    public async Task A_sidecar_killed_mid_activity_loses_nothing_another_sidecar_of_the_app_finishes_it_after_the_lease()
    {
        var appId = $"killed-{Suffix()}";
        var store = WorkflowStores.Redis((await servers.RedisAsync()).ConnectionString);
        await using var killed = await StartSidecarAsync(appId, store);
        await using var survivor = await StartSidecarAsync(appId, store);
        await using var first = await WorkerHost.StartAsync(killed, "first");
        var id = await first.Client.ScheduleNewWorkflowAsync("Hanging", $"killed-{Suffix()}", "", null, Token);
        await Poll.UntilAsync(() => TestWorkflows.Attempts.GetValueOrDefault(id) == 1, Deadline);

        await killed.KillAsync();
        await using var second = await WorkerHost.StartAsync(survivor, "second");

        var state = await second.Client.CompletionAsync(id);
        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal("second finished attempt 2", state.ReadOutputAs<string>());
        TestWorkflows.Gates[id].TrySetResult();
    }

    [Fact]
    public async Task A_work_item_whose_lease_expired_is_handed_out_again_and_the_late_completion_is_refused()
    {
        await using var sidecar = await StartSidecarAsync($"lease-{Suffix()}");
        using var channel = GrpcChannel.ForAddress(sidecar.GrpcEndpoint);
        var client = new TaskHubSidecarService.TaskHubSidecarServiceClient(channel);
        using var stream = client.GetWorkItems(new GetWorkItemsRequest(), cancellationToken: Token);
        var id = $"lease-{Suffix()}";
        await client.StartInstanceAsync(new CreateInstanceRequest { InstanceId = id, Name = "ByHand", Input = "\"in\"" }, cancellationToken: Token);

        var start = await NextAsync(stream);
        Assert.Equal(id, start.WorkflowRequest.InstanceId);
        Assert.Empty(start.WorkflowRequest.PastEvents);
        Assert.Equal([HistoryEvent.EventTypeOneofCase.WorkflowStarted, HistoryEvent.EventTypeOneofCase.ExecutionStarted], start.WorkflowRequest.NewEvents.Select(e => e.EventTypeCase));
        await client.CompleteWorkflowTaskAsync(new WorkflowResponse
        {
            InstanceId = id,
            CompletionToken = start.CompletionToken,
            Actions = { new WorkflowAction { Id = 0, ScheduleTask = new ScheduleTaskAction { Name = "Step", Input = "1" } } },
        }, cancellationToken: Token);
        var given = await NextAsync(stream);
        var givenAgain = await NextAsync(stream);

        Assert.Equal("Step", given.ActivityRequest.Name);
        Assert.Equal(0, given.ActivityRequest.TaskId);
        Assert.Equal(given.ActivityRequest, givenAgain.ActivityRequest);
        Assert.NotEqual(given.CompletionToken, givenAgain.CompletionToken, StringComparer.Ordinal);
        var late = await Assert.ThrowsAsync<RpcException>(async () => await client.CompleteActivityTaskAsync(
            new ActivityResponse { InstanceId = id, TaskId = 0, Result = "\"late\"", CompletionToken = given.CompletionToken }, cancellationToken: Token));
        Assert.Equal(StatusCode.NotFound, late.StatusCode);
        await client.CompleteActivityTaskAsync(
            new ActivityResponse { InstanceId = id, TaskId = 0, Result = "\"done\"", CompletionToken = givenAgain.CompletionToken }, cancellationToken: Token);

        var resumed = await NextAsync(stream);
        Assert.Contains(resumed.WorkflowRequest.PastEvents, e => e.TaskScheduled?.Name == "Step" && e.EventId == 0);
        var completed = Assert.Single(resumed.WorkflowRequest.NewEvents, e => e.TaskCompleted is not null).TaskCompleted;
        Assert.Equal(0, completed.TaskScheduledId);
        Assert.Equal("\"done\"", completed.Result);
        await client.CompleteWorkflowTaskAsync(new WorkflowResponse
        {
            InstanceId = id,
            CompletionToken = resumed.CompletionToken,
            Actions = { new WorkflowAction { CompleteWorkflow = new CompleteWorkflowAction { WorkflowStatus = OrchestrationStatus.Completed, Result = completed.Result } } },
        }, cancellationToken: Token);
        var state = await client.GetInstanceAsync(new GetInstanceRequest { InstanceId = id, GetInputsAndOutputs = true }, cancellationToken: Token);
        Assert.Equal(OrchestrationStatus.Completed, state.WorkflowState.WorkflowStatus);
        Assert.Equal("\"done\"", state.WorkflowState.Output);
    }

    private async Task<DaprSidecar> StartSidecarAsync(string appId, string? store = null) =>
        await DaprSidecar.StartAsync(new SidecarSettings(appId, SidecarResources.Folder(("workflowstore.yaml", store ?? WorkflowStores.Redis((await servers.RedisAsync()).ConnectionString))))
        {
            // Short leases, so that redelivery after one is seen within the test.
            Environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["CLOUDSCALE_WORKFLOW_LEASE"] = "2s" },
        });

    private static async Task<WorkItem> NextAsync(AsyncServerStreamingCall<WorkItem> stream)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(Deadline);
        Assert.True(await stream.ResponseStream.MoveNext(timeout.Token), "the work item stream ended");
        return stream.ResponseStream.Current;
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..12];
}
