using System.Collections.Concurrent;
using CloudScale.Testing;
using Dapr.Workflow;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests.Scenarios;

/// <summary>
/// The workflow patterns end to end, through the hosted worker in real time, over the store a subclass supplies: every
/// store must pass the same suite. Timers and back-offs are a few hundred milliseconds, so the suite stays quick over
/// any store; waiting is always for a state, with a deadline.
/// </summary>
public abstract class WorkflowScenarios
{
    private const string FlakyWorkflow = "Flaky";
    private const string TimerWorkflow = "ShortTimer";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly int[] ChildInputs = [1, 2, 3];
    private static readonly TimeSpan ShortDelay = TimeSpan.FromMilliseconds(300);
    private static readonly WorkflowRetryPolicy QuickRetries = new(maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromMilliseconds(100), backoffCoefficient: 2);

    private readonly ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>> _attemptsByInstance = new(StringComparer.Ordinal);

    /// <summary>The store under test; instances of different tests share it, so every test uses IDs of its own.</summary>
    protected abstract IWorkflowStore Store { get; }

    [Fact]
    public async Task Chained_activities_feed_each_other()
    {
        await using var replica = await StartReplicaAsync();
        var instanceId = await replica.Client.ScheduleNewWorkflowAsync(nameof(OrderWorkflow), NewId("chain"), new Order("o1", 2, 50m), cancellation: Cancellation);

        var state = await CompletionAsync(replica, instanceId);

        Assert.Equal(new OrderResult("R-o1", "P-50", "S-R-o1"), state.ReadOutputAs<OrderResult>());
        Assert.Equal(["Reserve", "Charge", "Ship"], (await HistoryAsync(instanceId)).OfType<TaskScheduled>().Select(scheduled => scheduled.Name), StringComparer.Ordinal);
    }

    [Fact]
    public async Task Fan_out_fans_in_with_each_result_recorded_once()
    {
        await using var replica = await StartReplicaAsync();
        var instanceId = await replica.Client.ScheduleNewWorkflowAsync(nameof(SumOfSquaresWorkflow), NewId("fan"), Enumerable.Range(1, 10).ToArray(), cancellation: Cancellation);

        var state = await CompletionAsync(replica, instanceId);

        Assert.Equal(385, state.ReadOutputAs<int>());
        Assert.Equal(Enumerable.Range(1, 10).ToDictionary(taskId => taskId, _ => 1), ResultsPerTask(await HistoryAsync(instanceId)));
    }

    [Fact]
    public async Task A_failing_activity_is_retried_after_growing_back_offs()
    {
        await using var replica = await StartReplicaAsync();
        var instanceId = await replica.Client.ScheduleNewWorkflowAsync(FlakyWorkflow, NewId("retry"), cancellation: Cancellation);

        var state = await CompletionAsync(replica, instanceId);

        Assert.Equal("succeeded on attempt 3", state.ReadOutputAs<string>());
        var attempts = _attemptsByInstance[instanceId].ToArray();
        Assert.Equal(3, attempts.Length);
        Assert.True(attempts[1] - attempts[0] >= TimeSpan.FromMilliseconds(100), $"first back-off {attempts[1] - attempts[0]}");
        Assert.True(attempts[2] - attempts[1] >= TimeSpan.FromMilliseconds(200), $"second back-off {attempts[2] - attempts[1]}");
        Assert.Equal(2, (await HistoryAsync(instanceId)).OfType<TaskFailed>().Count());
    }

    [Fact]
    public async Task A_durable_timer_fires_after_its_delay()
    {
        await using var replica = await StartReplicaAsync();
        var instanceId = await replica.Client.ScheduleNewWorkflowAsync(TimerWorkflow, NewId("timer"), ShortDelay, cancellation: Cancellation);

        var state = await CompletionAsync(replica, instanceId);

        Assert.True(state.ReadOutputAs<TimeSpan>() >= ShortDelay, $"workflow time passed: {state.ReadOutputAs<TimeSpan>()}");
        Assert.Single((await HistoryAsync(instanceId)).OfType<TimerFired>());
    }

    [Fact]
    public async Task An_external_event_is_awaited_without_a_timeout()
    {
        await using var replica = await StartReplicaAsync();
        var instanceId = await replica.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), NewId("event"), cancellation: Cancellation);
        await WaitForStatusAsync(replica, instanceId, WorkflowRuntimeStatus.Running);

        await replica.Client.RaiseEventAsync(instanceId, "Approval", true, Cancellation);

        Assert.Equal("approved", (await CompletionAsync(replica, instanceId)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task An_external_event_that_does_not_come_times_out()
    {
        await using var replica = await StartReplicaAsync();
        var instanceId = await replica.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), NewId("timeout"), (TimeSpan?)ShortDelay, cancellation: Cancellation);

        Assert.Equal("timed out", (await CompletionAsync(replica, instanceId)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task Child_workflows_return_their_results_to_the_parent()
    {
        await using var replica = await StartReplicaAsync();
        var instanceId = await replica.Client.ScheduleNewWorkflowAsync(nameof(ParentWorkflow), NewId("parent"), ChildInputs, cancellation: Cancellation);

        Assert.Equal(12, (await CompletionAsync(replica, instanceId)).ReadOutputAs<int>());
        Assert.Equal(WorkflowRuntimeStatus.Completed, (await replica.Client.GetWorkflowStateAsync($"{instanceId}-first", cancellation: Cancellation)).RuntimeStatus);
    }

    [Fact]
    public async Task ContinueAsNew_starts_each_run_with_a_fresh_history_and_carries_unconsumed_events_over()
    {
        await using var replica = await StartReplicaAsync();
        var instanceId = await replica.Client.ScheduleNewWorkflowAsync(nameof(AccumulatorWorkflow), NewId("loop"), new AccumulatorState(Target: 6, Total: 0), cancellation: Cancellation);
        foreach (var amount in new[] { 1, 2, 3 })
        {
            await replica.Client.RaiseEventAsync(instanceId, "Add", amount, Cancellation);
        }

        Assert.Equal(6, (await CompletionAsync(replica, instanceId)).ReadOutputAs<int>());
        var history = await HistoryAsync(instanceId);
        Assert.IsType<ContinueAsNew>(history[0]);
        Assert.Single(history.OfType<EventRaised>());
    }

    [Fact]
    public async Task Terminating_a_parent_terminates_the_child_it_waits_for()
    {
        await using var replica = await StartReplicaAsync();
        var parentId = await replica.Client.ScheduleNewWorkflowAsync(nameof(WaitingParentWorkflow), NewId("term"), cancellation: Cancellation);
        await WaitForStatusAsync(replica, $"{parentId}-child", WorkflowRuntimeStatus.Running);

        await replica.Client.TerminateWorkflowAsync(parentId, "operator gave up", Cancellation);

        var parent = await CompletionAsync(replica, parentId);
        Assert.Equal((WorkflowRuntimeStatus.Terminated, "operator gave up"), (parent.RuntimeStatus, parent.ReadOutputAs<string>()));
        Assert.Equal(WorkflowRuntimeStatus.Terminated, (await CompletionAsync(replica, $"{parentId}-child")).RuntimeStatus);
    }

    [Fact]
    public async Task A_suspended_workflow_keeps_its_events_until_it_is_resumed()
    {
        await using var replica = await StartReplicaAsync();
        var instanceId = await replica.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), NewId("suspend"), cancellation: Cancellation);
        await WaitForStatusAsync(replica, instanceId, WorkflowRuntimeStatus.Running);
        await replica.Client.SuspendWorkflowAsync(instanceId, "audit", Cancellation);
        await WaitForStatusAsync(replica, instanceId, WorkflowRuntimeStatus.Suspended);

        await replica.Client.RaiseEventAsync(instanceId, "Approval", true, Cancellation);
        var kept = await Poll.UntilAsync(() => Store.LoadAsync(instanceId, Cancellation), record => record!.Inbox.Any(message => message.Event is EventRaised), Deadline);
        Assert.Equal(WorkflowRuntimeStatus.Suspended, kept!.Metadata.RuntimeStatus);

        await replica.Client.ResumeWorkflowAsync(instanceId, "audit passed", Cancellation);

        Assert.Equal("approved", (await CompletionAsync(replica, instanceId)).ReadOutputAs<string>());
        var history = await HistoryAsync(instanceId);
        Assert.Equal("audit", Assert.Single(history.OfType<ExecutionSuspended>()).Reason);
        Assert.Equal("audit passed", Assert.Single(history.OfType<ExecutionResumed>()).Reason);
    }

    [Fact]
    public async Task Purge_removes_a_finished_instance_and_its_children_but_not_a_running_one()
    {
        await using var replica = await StartReplicaAsync();
        var parentId = await replica.Client.ScheduleNewWorkflowAsync(nameof(WaitingParentWorkflow), NewId("purge"), cancellation: Cancellation);
        await WaitForStatusAsync(replica, $"{parentId}-child", WorkflowRuntimeStatus.Running);
        Assert.False(await replica.Client.PurgeInstanceAsync(parentId, Cancellation));

        await replica.Client.RaiseEventAsync($"{parentId}-child", "Approval", true, Cancellation);
        Assert.Equal("approved", (await CompletionAsync(replica, parentId)).ReadOutputAs<string>());
        Assert.True(await replica.Client.PurgeInstanceAsync(parentId, Cancellation));

        Assert.False((await replica.Client.GetWorkflowStateAsync(parentId, cancellation: Cancellation)).Exists);
        Assert.False((await replica.Client.GetWorkflowStateAsync($"{parentId}-child", cancellation: Cancellation)).Exists);
        Assert.Null(await Store.LoadAsync(parentId, Cancellation));
    }

    /// <summary>A 32-character ID unique to this test, readable in the store.</summary>
    private static string NewId(string scenario) => $"{scenario}-{Guid.NewGuid():N}"[..32];

    private Task<WorkerReplica> StartReplicaAsync() => WorkerReplica.StartAsync(Store, options =>
    {
        options.PollingInterval = TimeSpan.FromMilliseconds(50);
        options.RegisterWorkflow<OrderWorkflow>();
        options.RegisterActivity<Order, string>("Reserve", (_, order) => Task.FromResult($"R-{order.Id}"));
        options.RegisterActivity<Order, string>("Charge", (_, order) => Task.FromResult($"P-{order.Amount}"));
        options.RegisterActivity<string, string>("Ship", (_, reservation) => Task.FromResult($"S-{reservation}"));
        options.RegisterWorkflow<SumOfSquaresWorkflow>();
        options.RegisterActivity<SquareActivity>();
        options.RegisterWorkflow<object?, string>(FlakyWorkflow, (context, _) => context.CallActivityAsync<string>("FailTwice", null, new WorkflowTaskOptions(QuickRetries)));
        options.RegisterActivity<object?, string>("FailTwice", (context, _) =>
        {
            var attempts = _attemptsByInstance.GetOrAdd(context.InstanceId, _ => new ConcurrentQueue<DateTimeOffset>());
            attempts.Enqueue(DateTimeOffset.UtcNow);
            return attempts.Count < 3 ? throw new TimeoutException("not yet") : Task.FromResult($"succeeded on attempt {attempts.Count}");
        });
        options.RegisterWorkflow<TimeSpan, TimeSpan>(TimerWorkflow, async (context, delay) =>
        {
            var start = context.CurrentUtcDateTime;
            await context.CreateTimer(delay);
            return context.CurrentUtcDateTime - start;
        });
        options.RegisterWorkflow<ApprovalWorkflow>();
        options.RegisterWorkflow<ParentWorkflow>();
        options.RegisterWorkflow<DoublingWorkflow>();
        options.RegisterActivity<int, int>("Double", (_, number) => Task.FromResult(number * 2));
        options.RegisterWorkflow<AccumulatorWorkflow>();
        options.RegisterWorkflow<WaitingParentWorkflow>();
    });

    private async Task<IReadOnlyList<HistoryEvent>> HistoryAsync(string instanceId) => (await Store.LoadAsync(instanceId, Cancellation))?.History ?? [];

    private static async Task<WorkflowState> CompletionAsync(WorkerReplica replica, string instanceId)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        deadline.CancelAfter(Deadline);
        return await replica.Client.WaitForWorkflowCompletionAsync(instanceId, cancellation: deadline.Token);
    }

    private static Task WaitForStatusAsync(WorkerReplica replica, string instanceId, WorkflowRuntimeStatus status) =>
        Poll.UntilAsync(
            async () => (await replica.Client.GetWorkflowStateAsync(instanceId, getInputsAndOutputs: false, Cancellation)).RuntimeStatus == status,
            Deadline,
            () => $"{instanceId} did not become {status}");
}
