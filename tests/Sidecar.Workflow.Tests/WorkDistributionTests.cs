using CloudScale.Testing;
using Dapr.DurableTask.Protobuf;
using Dapr.Workflow;
using Grpc.Core;
using Grpc.Net.Client;

namespace CloudScale.Sidecar.Workflow.Tests;

/// <summary>
/// Who gets a work item: a worker connected to the app through the sidecar that owns the instance (the sidecars of an app
/// share the store and spread its instances over themselves), one at a time under a lease; a worker or sidecar that goes
/// away mid-item loses nothing, and a late completion is refused.
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
    public async Task Instances_started_through_one_sidecar_spread_over_the_workers_of_every_sidecar_of_the_app()
    {
        var appId = $"spread-{Suffix()}";
        var store = WorkflowStores.Redis((await servers.RedisAsync()).ConnectionString);
        await using var starter = await StartSidecarAsync(appId, store);
        await using var other = await StartSidecarAsync(appId, store);
        await using var first = await WorkerHost.StartAsync(starter, "first");

        // The second worker joins after the first has taken work; it must get a share of what the starter is given later.
        var before = await first.Client.ScheduleNewWorkflowAsync("FanOut", $"spread-{Suffix()}", 3, null, Token);
        Assert.Equal(14, (await first.Client.CompletionAsync(before)).ReadOutputAs<int>());
        await using var second = await WorkerHost.StartAsync(other, "second");
        await Poll.UntilAsync(
            async () =>
            {
                var id = await first.Client.ScheduleNewWorkflowAsync("FanOut", $"spread-{Suffix()}", 1, null, Token);
                await first.Client.CompletionAsync(id);
                return TestWorkflows.WorkersByInstance[id].Contains("second", StringComparer.Ordinal);
            },
            Deadline);

        var ids = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => first.Client.ScheduleNewWorkflowAsync("FanOut", $"spread-{Suffix()}", 2, null, Token)));
        foreach (var id in ids)
        {
            Assert.Equal(5, (await first.Client.CompletionAsync(id)).ReadOutputAs<int>());
        }

        // Each instance runs where it is owned: all its activities on one worker, and each worker owns some of them.
        var workerOf = ids.Select(id => Assert.Single(TestWorkflows.WorkersByInstance[id].Distinct(StringComparer.Ordinal))).ToList();
        Assert.InRange(workerOf.Count(worker => worker == "second"), 3, ids.Length - 3);
    }

    [Fact]
    public async Task A_worker_started_before_its_sidecar_runs_the_work_given_to_it_once_the_sidecar_is_up()
    {
        var settings = SidecarSettingsFor($"early-{Suffix()}", WorkflowStores.Redis((await servers.RedisAsync()).ConnectionString));
        await using var worker = await WorkerHost.StartAsync(new Uri($"http://127.0.0.1:{settings.GrpcPort}"), "early");
        await using var sidecar = await DaprSidecar.StartAsync(settings);

        var ids = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => worker.Client.ScheduleNewWorkflowAsync("FanOut", $"early-{Suffix()}", 3, null, Token)));
        foreach (var id in ids)
        {
            Assert.Equal(14, (await worker.Client.CompletionAsync(id)).ReadOutputAs<int>());
        }
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
    public async Task An_activity_that_outlasts_its_lease_stays_with_its_worker_while_the_worker_is_connected()
    {
        var database = await servers.CreateDatabaseAsync();
        await using var sidecar = await StartSidecarAsync($"renew-{Suffix()}", WorkflowStores.Postgres(database));
        await using var first = await WorkerHost.StartAsync(sidecar, "first");
        await using var second = await WorkerHost.StartAsync(sidecar, "second");
        var id = await first.Client.ScheduleNewWorkflowAsync("Hanging", $"renew-{Suffix()}", "", null, Token);
        await Poll.UntilAsync(() => TestWorkflows.Attempts.GetValueOrDefault(id) == 1, Deadline);
        var claimed = await ActivityLeaseAsync(database, id);

        // Held past three leases of 2 s: unrenewed, it would have gone to a worker again after the first.
        var renewed = await Poll.UntilAsync(
            () => ActivityLeaseAsync(database, id),
            lease => lease.ExpiresAt - claimed.ExpiresAt >= 6000 || lease.Token != claimed.Token,
            Deadline);
        Assert.Equal(claimed.Token, renewed.Token);
        Assert.Equal(1, TestWorkflows.Attempts[id]);
        TestWorkflows.Gates[id].TrySetResult();

        var holder = Assert.Single(TestWorkflows.WorkersByInstance[id]);
        Assert.Equal($"{holder} finished attempt 1", (await first.Client.CompletionAsync(id)).ReadOutputAs<string>());
        Assert.Equal(1, TestWorkflows.Attempts[id]);
    }

    [Fact]
    public async Task A_work_item_whose_sidecar_froze_past_its_lease_is_handed_out_again_and_the_late_completion_is_refused()
    {
        var appId = $"lease-{Suffix()}";
        var store = WorkflowStores.Redis((await servers.RedisAsync()).ConnectionString);
        await using var frozen = await StartSidecarAsync(appId, store);
        await using var other = await StartSidecarAsync(appId, store);
        using var frozenChannel = GrpcChannel.ForAddress(frozen.GrpcEndpoint);
        using var otherChannel = GrpcChannel.ForAddress(other.GrpcEndpoint);
        var client = new TaskHubSidecarService.TaskHubSidecarServiceClient(frozenChannel);
        var otherClient = new TaskHubSidecarService.TaskHubSidecarServiceClient(otherChannel);
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

        // A frozen sidecar renews nothing: once the lease runs out, the other sidecar hands the item to its own worker.
        await SignalAsync(frozen.ProcessId, "STOP");
        using var otherStream = otherClient.GetWorkItems(new GetWorkItemsRequest(), cancellationToken: Token);
        var givenAgain = await NextAsync(otherStream);
        await SignalAsync(frozen.ProcessId, "CONT");

        Assert.Equal("Step", given.ActivityRequest.Name);
        Assert.Equal(0, given.ActivityRequest.TaskId);
        Assert.Equal(given.ActivityRequest, givenAgain.ActivityRequest);
        Assert.NotEqual(given.CompletionToken, givenAgain.CompletionToken, StringComparer.Ordinal);
        var late = await Assert.ThrowsAsync<RpcException>(async () => await client.CompleteActivityTaskAsync(
            new ActivityResponse { InstanceId = id, TaskId = 0, Result = "\"late\"", CompletionToken = given.CompletionToken }, cancellationToken: Token));
        Assert.Equal(StatusCode.NotFound, late.StatusCode);
        await otherClient.CompleteActivityTaskAsync(
            new ActivityResponse { InstanceId = id, TaskId = 0, Result = "\"done\"", CompletionToken = givenAgain.CompletionToken }, cancellationToken: Token);

        var resumed = await NextAsync(otherStream);
        Assert.Contains(resumed.WorkflowRequest.PastEvents, e => e.TaskScheduled?.Name == "Step" && e.EventId == 0);
        var completed = Assert.Single(resumed.WorkflowRequest.NewEvents, e => e.TaskCompleted is not null).TaskCompleted;
        Assert.Equal(0, completed.TaskScheduledId);
        Assert.Equal("\"done\"", completed.Result);
        await otherClient.CompleteWorkflowTaskAsync(new WorkflowResponse
        {
            InstanceId = id,
            CompletionToken = resumed.CompletionToken,
            Actions = { new WorkflowAction { CompleteWorkflow = new CompleteWorkflowAction { WorkflowStatus = OrchestrationStatus.Completed, Result = completed.Result } } },
        }, cancellationToken: Token);
        var state = await client.GetInstanceAsync(new GetInstanceRequest { InstanceId = id, GetInputsAndOutputs = true }, cancellationToken: Token);
        Assert.Equal(OrchestrationStatus.Completed, state.WorkflowState.WorkflowStatus);
        Assert.Equal("\"done\"", state.WorkflowState.Output);
    }

    private static async Task SignalAsync(int processId, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", processId.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(Token);
        Assert.Equal(0, kill.ExitCode);
    }

    private async Task<DaprSidecar> StartSidecarAsync(string appId, string? store = null) =>
        await DaprSidecar.StartAsync(SidecarSettingsFor(appId, store ?? WorkflowStores.Redis((await servers.RedisAsync()).ConnectionString)));

    private static SidecarSettings SidecarSettingsFor(string appId, string store) =>
        new(appId, SidecarResources.Folder(("workflowstore.yaml", store)))
        {
            // Short leases, so that redelivery after one is seen within the test.
            Environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["CLOUDSCALE_WORKFLOW_LEASE"] = "2s" },
        };

    /// <summary>The lease on the instance's one scheduled activity, as the sidecar wrote it in the store.</summary>
    private static async Task<(string Token, long ExpiresAt)> ActivityLeaseAsync(string database, string instanceId)
    {
        var lease = await Sql.ScalarAsync<string>(
            database,
            "SELECT concat_ws(' ', v #>> '{activities,0,lease,token}', v #>> '{activities,0,lease,expiresAt}') FROM (SELECT convert_from(value, 'UTF8')::jsonb AS v FROM state WHERE key LIKE '%||workflow||' || @id) AS record",
            ("id", instanceId));
        // No activity left (it was completed) reads as no lease.
        return lease.Split(' ') is [var token, var expiresAt] ? (token, long.Parse(expiresAt, System.Globalization.CultureInfo.InvariantCulture)) : ("", 0);
    }

    private static async Task<WorkItem> NextAsync(AsyncServerStreamingCall<WorkItem> stream)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(Deadline);
        Assert.True(await stream.ResponseStream.MoveNext(timeout.Token), "the work item stream ended");
        return stream.ResponseStream.Current;
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..12];
}
