using CloudScale.Workflow.Testing;
using Dapr.Workflow;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests;

public sealed class ExternalEventTests
{
    [Fact]
    public async Task A_workflow_waits_for_its_event_however_long_it_takes()
    {
        await using var host = ApprovalHost();
        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), cancellation: Cancellation);
        await host.AdvanceTimeAsync(TimeSpan.FromDays(30), Cancellation);
        var waiting = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Running, waiting.RuntimeStatus);
        Assert.Equal("waiting for approval", waiting.ReadCustomStatusAs<string>());

        // Event names are case-insensitive.
        await host.Client.RaiseEventAsync(instanceId, "APPROVAL", true, Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal("approved", state.ReadOutputAs<string>());
        Assert.Equal("decided", state.ReadCustomStatusAs<string>());
    }

    [Fact]
    public async Task An_event_raised_before_the_workflow_waits_for_it_is_buffered()
    {
        await using var host = ApprovalHost();
        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), cancellation: Cancellation);
        await host.Client.RaiseEventAsync(instanceId, "Approval", false, Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        Assert.Equal("rejected", (await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task An_event_that_arrives_within_the_timeout_wins_and_the_timer_is_ignored()
    {
        await using var host = ApprovalHost();
        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), input: TimeSpan.FromMinutes(5), cancellation: Cancellation);
        await host.AdvanceTimeAsync(TimeSpan.FromMinutes(4), Cancellation);
        await host.Client.RaiseEventAsync(instanceId, "Approval", true, Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        await host.AdvanceTimeAsync(TimeSpan.FromMinutes(2), Cancellation);

        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal("approved", state.ReadOutputAs<string>());
        Assert.Empty((await host.HistoryAsync(instanceId)).OfType<TimerFired>());
    }

    [Fact]
    public async Task Without_an_event_the_wait_times_out_with_TaskCanceledException_and_a_late_event_is_ignored()
    {
        await using var host = ApprovalHost();
        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), input: TimeSpan.FromMinutes(5), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        await host.AdvanceTimeAsync(TimeSpan.FromMinutes(5), Cancellation);
        await host.Client.RaiseEventAsync(instanceId, "Approval", true, Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal("timed out", state.ReadOutputAs<string>());
        Assert.Empty((await host.HistoryAsync(instanceId)).OfType<EventRaised>());
    }

    [Fact]
    public async Task A_workflow_can_raise_an_event_on_another_one()
    {
        await using var host = new WorkflowTestHost(options =>
        {
            options.RegisterWorkflow<ApprovalWorkflow>();
            options.RegisterWorkflow<NotifierWorkflow>();
        });
        var waiting = await host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), "waiting", cancellation: Cancellation);
        var notifier = await host.Client.ScheduleNewWorkflowAsync(nameof(NotifierWorkflow), input: waiting, cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        Assert.Equal("approved", (await host.Client.GetWorkflowStateAsync(waiting, cancellation: Cancellation)).ReadOutputAs<string>());
        var sent = Assert.Single((await host.HistoryAsync(notifier)).OfType<EventSent>());
        Assert.Equal((waiting, "Approval"), (sent.InstanceId, sent.Name));
    }

    [Fact]
    public async Task Raising_an_event_on_an_unknown_instance_throws()
    {
        await using var host = ApprovalHost();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Client.RaiseEventAsync("nobody", "Approval", true, Cancellation));
        Assert.Equal("unable to find workflow with the provided instance ID: nobody", error.Message);
    }

    private static WorkflowTestHost ApprovalHost() => new(options => options.RegisterWorkflow<ApprovalWorkflow>());
}
