using CloudScale.Workflow.Testing;
using Dapr.Workflow;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests;

public sealed class RetryAndTimerTests
{
    [Fact]
    public async Task A_failing_activity_is_retried_on_durable_timers_with_exponential_backoff()
    {
        await using var host = new WorkflowTestHost(options => options.RegisterWorkflow<ChargeWithRetriesWorkflow>());
        var attempts = new List<DateTimeOffset>();
        host.StubActivity<Order, string>("Charge", _ =>
        {
            attempts.Add(host.Clock.GetUtcNow());
            return attempts.Count < 3 ? throw new TimeoutException("payment provider timed out") : "charged";
        });
        var start = host.Clock.GetUtcNow();

        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(ChargeWithRetriesWorkflow), input: new Order("o1", 1, 10m), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        await host.AdvanceTimeAsync(TimeSpan.FromMilliseconds(999), Cancellation);
        Assert.Single(attempts);

        await host.AdvanceTimeAsync(TimeSpan.FromMilliseconds(1), Cancellation);
        await host.AdvanceTimeAsync(TimeSpan.FromMilliseconds(1999), Cancellation);
        Assert.Equal(2, attempts.Count);

        await host.AdvanceTimeAsync(TimeSpan.FromMilliseconds(1), Cancellation);
        Assert.Equal([start, start.AddSeconds(1), start.AddSeconds(3)], attempts);
        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal("charged", state.ReadOutputAs<string>());
        var history = await host.HistoryAsync(instanceId);
        Assert.Equal(2, history.OfType<TaskFailed>().Count());
        Assert.Equal([start.AddSeconds(1), start.AddSeconds(3)], history.OfType<TimerCreated>().Select(timer => timer.FireAt));
    }

    [Fact]
    public async Task When_retries_run_out_the_failure_surfaces_with_its_details_and_the_workflow_compensates()
    {
        await using var host = new WorkflowTestHost(options => options.RegisterWorkflow<ChargeWithRetriesWorkflow>());
        var attempts = 0;
        var refunds = 0;
        host.StubActivity<Order, string>("Charge", _ =>
        {
            attempts++;
            throw new InvalidOperationException("card declined");
        });
        host.StubActivity<Order, object?>("Refund", _ => refunds++);

        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(ChargeWithRetriesWorkflow), input: new Order("o2", 1, 10m), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        foreach (var backOff in new[] { 1, 2, 4 })
        {
            await host.AdvanceTimeAsync(TimeSpan.FromSeconds(backOff), Cancellation);
        }

        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(ChargeWithRetriesWorkflow.Retries.MaxNumberOfAttempts, attempts);
        Assert.Equal(1, refunds);
        Assert.Equal("refunded after System.InvalidOperationException: card declined", state.ReadOutputAs<string>());
    }

    [Fact]
    public async Task An_uncaught_activity_failure_fails_the_workflow_with_the_details()
    {
        await using var host = new WorkflowTestHost(options => options.RegisterWorkflow<OrderWorkflow>());
        host.StubActivity<Order, string>("Reserve", _ => throw new KeyNotFoundException("no such room"));

        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(OrderWorkflow), input: new Order("o3", 1, 10m), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Failed, state.RuntimeStatus);
        var failure = Assert.IsType<WorkflowTaskFailureDetails>(state.FailureDetails);
        Assert.True(failure.IsCausedBy<WorkflowTaskFailedException>());
        Assert.False(failure.IsCausedBy<KeyNotFoundException>());
        Assert.Equal("activity 'Reserve' (#1) failed: no such room", failure.ErrorMessage);
        Assert.Contains(nameof(OrderWorkflow), failure.StackTrace, StringComparison.Ordinal);
        var activityFailure = Assert.Single((await host.HistoryAsync(instanceId)).OfType<TaskFailed>()).FailureDetails;
        Assert.True(activityFailure.IsCausedBy<KeyNotFoundException>());
        Assert.True(activityFailure.IsCausedBy<SystemException>());
    }

    [Fact]
    public async Task Durable_timers_fire_at_their_time_by_delay_and_by_date()
    {
        await using var host = new WorkflowTestHost(options => options.RegisterWorkflow<ReminderWorkflow>());

        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(ReminderWorkflow), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        await host.AdvanceTimeAsync(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1), Cancellation);
        Assert.Single((await host.HistoryAsync(instanceId)).OfType<TimerCreated>());

        await host.AdvanceTimeAsync(TimeSpan.FromTicks(1), Cancellation);
        Assert.Single((await host.HistoryAsync(instanceId)).OfType<TimerFired>());
        await host.AdvanceTimeAsync(TimeSpan.FromMinutes(20) - TimeSpan.FromTicks(1), Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Running, (await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation)).RuntimeStatus);

        await host.AdvanceTimeAsync(TimeSpan.FromTicks(1), Cancellation);
        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(TimeSpan.FromMinutes(30), state.ReadOutputAs<TimeSpan>());
    }
}
