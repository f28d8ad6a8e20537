using System.Diagnostics;
using CloudScale.Testing;
using Dapr.Workflow;
using Dapr.Workflow.Client;
using Grpc.Core;

namespace CloudScale.Sidecar.Workflow.Tests;

/// <summary>
/// The backend's semantics as the real SDK sees them, the same tests on each workflow store (one sidecar and one worker
/// per class; each test uses instance ids of its own).
/// </summary>
public abstract class WorkflowSemanticsTests(WorkflowFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private DaprWorkflowClient Client => fixture.Worker.Client;

    [Fact]
    public async Task A_chain_of_activities_completes_with_its_output()
    {
        var id = await Client.StartNewAsync(nameof(ChainWorkflow), 39);

        var state = await Client.CompletionAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(42, state.ReadOutputAs<int>());
        Assert.Equal(39, state.ReadInputAs<int>());
        Assert.Equal(nameof(ChainWorkflow), state.WorkflowName);
    }

    [Fact]
    public async Task A_fan_out_runs_every_activity_and_fans_in_their_results()
    {
        var id = await Client.StartNewAsync("FanOut", 10);

        var state = await Client.CompletionAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(Enumerable.Range(1, 10).Sum(n => n * n), state.ReadOutputAs<int>());
    }

    [Fact]
    public async Task A_durable_timer_fires_no_earlier_than_its_time()
    {
        var watch = Stopwatch.StartNew();
        var id = await Client.StartNewAsync("Timer", 1500);

        var state = await Client.CompletionAsync(id);

        Assert.Equal("fired", state.ReadOutputAs<string>());
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(1500), $"the timer fired after {watch.Elapsed}");
    }

    [Fact]
    public async Task A_workflow_scheduled_for_later_stays_pending_until_its_start_time()
    {
        var id = $"later-{Guid.NewGuid():N}";
        var startAt = DateTimeOffset.UtcNow.AddSeconds(1.5);

        await Client.ScheduleNewWorkflowAsync(nameof(ChainWorkflow), id, 1, startAt, Token);

        Assert.Equal(WorkflowRuntimeStatus.Pending, (await Client.GetWorkflowStateAsync(id, cancellation: Token)).RuntimeStatus);
        var state = await Client.CompletionAsync(id);
        Assert.Equal(4, state.ReadOutputAs<int>());
        Assert.True(DateTimeOffset.UtcNow >= startAt, "the workflow ran before its start time");
    }

    [Fact]
    public async Task An_external_event_raised_while_the_workflow_waits_completes_the_wait()
    {
        var id = await Client.StartNewAsync("Approval", 60_000);
        await Poll.UntilAsync(async () => (await Client.GetWorkflowStateAsync(id, cancellation: Token)).ReadCustomStatusAs<string>() == "waiting", Deadline);

        await Client.RaiseEventAsync(id, "approval", "approved", cancellation: Token);

        Assert.Equal("approved", (await Client.CompletionAsync(id)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task An_external_event_raised_before_the_workflow_waits_is_kept_for_the_wait()
    {
        var id = await Client.StartNewAsync("WaitAfterTimer", 1000);

        await Client.RaiseEventAsync(id, "early", "kept", cancellation: Token);

        Assert.Equal("kept", (await Client.CompletionAsync(id)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task A_wait_for_an_event_that_never_comes_times_out()
    {
        var id = await Client.StartNewAsync("Approval", 500);

        Assert.Equal("timed out", (await Client.CompletionAsync(id)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task A_failing_activity_is_retried_by_the_SDK_policy_until_it_succeeds()
    {
        var id = await Client.StartNewAsync("Retry", 2);

        var state = await Client.CompletionAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(3, state.ReadOutputAs<int>());
        Assert.Equal(3, TestWorkflows.Attempts[id]);
    }

    [Fact]
    public async Task An_uncaught_activity_failure_fails_the_workflow_with_its_details()
    {
        var id = await Client.StartNewAsync("Fails", "the card was declined");

        var state = await Client.CompletionAsync(id);

        Assert.Equal(WorkflowRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.NotNull(state.FailureDetails);
        Assert.Contains("the card was declined", state.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("WorkflowTaskFailedException", state.FailureDetails.ErrorType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_terminated_workflow_and_its_child_end_terminated()
    {
        var child = $"child-{Guid.NewGuid():N}";
        var id = await Client.StartNewAsync("ParentOfForever", child);
        await Poll.UntilAsync(async () => (await Client.GetWorkflowStateAsync(child, cancellation: Token)).RuntimeStatus == WorkflowRuntimeStatus.Running, Deadline);

        await Client.TerminateWorkflowAsync(id, "stopped by the test", cancellation: Token);

        var state = await Client.CompletionAsync(id);
        Assert.Equal(WorkflowRuntimeStatus.Terminated, state.RuntimeStatus);
        Assert.Equal("stopped by the test", state.ReadOutputAs<string>());
        Assert.Equal(WorkflowRuntimeStatus.Terminated, (await Client.CompletionAsync(child)).RuntimeStatus);
    }

    [Fact]
    public async Task A_suspended_workflow_holds_its_events_until_it_is_resumed()
    {
        var id = await Client.StartNewAsync("Approval", 60_000);
        await Poll.UntilAsync(async () => (await Client.GetWorkflowStateAsync(id, cancellation: Token)).ReadCustomStatusAs<string>() == "waiting", Deadline);

        await Client.SuspendWorkflowAsync(id, "a pause", cancellation: Token);
        await Client.RaiseEventAsync(id, "approval", "approved while suspended", cancellation: Token);
        var history = await Client.GetInstanceHistoryAsync(id, cancellation: Token);

        Assert.Equal(WorkflowRuntimeStatus.Suspended, (await Client.GetWorkflowStateAsync(id, cancellation: Token)).RuntimeStatus);
        Assert.DoesNotContain(history, historyEvent => historyEvent.EventType == WorkflowHistoryEventType.EventRaised);
        await Client.ResumeWorkflowAsync(id, "go on", cancellation: Token);
        Assert.Equal("approved while suspended", (await Client.CompletionAsync(id)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task A_purged_workflow_is_gone_and_a_running_one_cannot_be_purged()
    {
        var id = await Client.StartNewAsync(nameof(ChainWorkflow), 1);
        await Client.CompletionAsync(id);
        var running = await Client.StartNewAsync("Forever", "");

        Assert.True(await Client.PurgeInstanceAsync(id, cancellation: Token));
        Assert.False((await Client.GetWorkflowStateAsync(id, cancellation: Token)).Exists);
        var refused = await Assert.ThrowsAsync<RpcException>(() => Client.PurgeInstanceAsync(running, cancellation: Token));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        await Client.TerminateWorkflowAsync(running, cancellation: Token);
    }

    [Fact]
    public async Task A_child_workflow_returns_its_result_to_the_parent()
    {
        var id = await Client.StartNewAsync("Parent", 10);

        Assert.Equal(13, (await Client.CompletionAsync(id)).ReadOutputAs<int>());
    }

    [Fact]
    public async Task A_child_whose_instance_id_is_active_elsewhere_fails_the_parents_child_task_and_leaves_that_instance_alone()
    {
        var occupant = await Client.StartNewAsync("Forever", "");

        var parent = await Client.StartNewAsync("ParentReportingChildFailure", occupant);

        Assert.Equal(
            $"WorkflowInstanceAlreadyExists: an active workflow with ID '{occupant}' already exists",
            (await Client.CompletionAsync(parent)).ReadOutputAs<string>());
        var state = await Client.GetWorkflowStateAsync(occupant, cancellation: Token);
        Assert.Equal(WorkflowRuntimeStatus.Running, state.RuntimeStatus);
        Assert.Equal("Forever", state.WorkflowName);
        Assert.Equal("", state.ReadInputAs<string>());
        await Client.TerminateWorkflowAsync(occupant, cancellation: Token);
    }

    [Fact]
    public async Task Continue_as_new_starts_over_with_the_new_input_and_the_carried_over_events()
    {
        var id = await Client.StartNewAsync("Collect", new Collected(0, 0));

        foreach (var item in new[] { 1, 2, 3 })
        {
            await Client.RaiseEventAsync(id, "item", item, cancellation: Token);
        }

        var state = await Client.CompletionAsync(id);
        Assert.Equal(6, state.ReadOutputAs<int>());
        Assert.Equal(new Collected(2, 3), state.ReadInputAs<Collected>());
    }

    [Fact]
    public async Task An_unknown_instance_is_not_found()
    {
        var unknown = $"unknown-{Guid.NewGuid():N}";

        Assert.False((await Client.GetWorkflowStateAsync(unknown, cancellation: Token)).Exists);
        var raise = await Assert.ThrowsAsync<RpcException>(() => Client.RaiseEventAsync(unknown, "approval", "x", cancellation: Token));
        Assert.Equal(StatusCode.NotFound, raise.StatusCode);
        var terminate = await Assert.ThrowsAsync<RpcException>(() => Client.TerminateWorkflowAsync(unknown, cancellation: Token));
        Assert.Equal(StatusCode.NotFound, terminate.StatusCode);
    }

    [Fact]
    public async Task Starting_an_id_that_is_active_fails_and_an_ended_one_starts_again()
    {
        var id = await Client.StartNewAsync("Forever", "");

        var duplicate = await Assert.ThrowsAsync<RpcException>(() => Client.ScheduleNewWorkflowAsync("Forever", id, "", null, Token));
        Assert.Equal(StatusCode.AlreadyExists, duplicate.StatusCode);
        Assert.Contains($"an active workflow with ID '{id}' already exists", duplicate.Status.Detail, StringComparison.Ordinal);
        await Client.TerminateWorkflowAsync(id, cancellation: Token);
        await Client.CompletionAsync(id);
        await Client.ScheduleNewWorkflowAsync(nameof(ChainWorkflow), id, 0, null, Token);
        Assert.Equal(3, (await Client.CompletionAsync(id)).ReadOutputAs<int>());
    }

    [Fact]
    public async Task The_callers_trace_flows_into_the_activities()
    {
        using var source = new ActivitySource("CloudScale.Sidecar.Workflow.Tests");
        using var listener = new ActivityListener
        {
            ShouldListenTo = candidate => candidate.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        string id;
        string traceId;
        using (var caller = source.StartActivity("start the workflow"))
        {
            traceId = caller!.TraceId.ToHexString();
            id = await Client.StartNewAsync("Traced", "");
        }

        await Client.CompletionAsync(id);

        Assert.Equal(traceId, TestWorkflows.ActivityTraceIds[id]);
    }
}

public sealed class RedisWorkflowTests(RedisWorkflowFixture fixture) : WorkflowSemanticsTests(fixture), IClassFixture<RedisWorkflowFixture>;

public sealed class PostgresWorkflowTests(PostgresWorkflowFixture fixture) : WorkflowSemanticsTests(fixture), IClassFixture<PostgresWorkflowFixture>;
