using CloudScale.Workflow.Testing;
using Dapr.Workflow;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests;

public sealed class ManagementTests
{
    [Fact]
    public async Task Terminating_a_parent_terminates_the_child_it_waits_for_and_records_the_output()
    {
        await using var host = Host();
        var parentId = await host.Client.ScheduleNewWorkflowAsync(nameof(WaitingParentWorkflow), "family", cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Running, (await host.Client.GetWorkflowStateAsync("family-child", cancellation: Cancellation)).RuntimeStatus);

        await host.Client.TerminateWorkflowAsync(parentId, "operator gave up", Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        var parent = await host.Client.GetWorkflowStateAsync(parentId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Terminated, parent.RuntimeStatus);
        Assert.Equal("operator gave up", parent.ReadOutputAs<string>());
        Assert.Equal(WorkflowRuntimeStatus.Terminated, (await host.Client.GetWorkflowStateAsync("family-child", cancellation: Cancellation)).RuntimeStatus);
        Assert.IsType<ExecutionTerminated>((await host.HistoryAsync(parentId))[^1]);

        // A finished instance ignores further operations.
        await host.Client.RaiseEventAsync(parentId, "Approval", true, Cancellation);
        await host.Client.TerminateWorkflowAsync(parentId, "again", Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        Assert.Equal("operator gave up", (await host.Client.GetWorkflowStateAsync(parentId, cancellation: Cancellation)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task A_suspended_workflow_keeps_its_events_until_it_is_resumed()
    {
        await using var host = Host();
        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        await host.Client.SuspendWorkflowAsync(instanceId, "audit", Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        await host.Client.RaiseEventAsync(instanceId, "Approval", true, Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Suspended, (await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation)).RuntimeStatus);

        await host.Client.ResumeWorkflowAsync(instanceId, "audit passed", Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal("approved", state.ReadOutputAs<string>());
        var history = await host.HistoryAsync(instanceId);
        Assert.Equal("audit", Assert.Single(history.OfType<ExecutionSuspended>()).Reason);
        Assert.Equal("audit passed", Assert.Single(history.OfType<ExecutionResumed>()).Reason);
    }

    [Fact]
    public async Task Purge_removes_a_finished_instance_and_its_children_but_not_a_running_one()
    {
        await using var host = Host();
        var parentId = await host.Client.ScheduleNewWorkflowAsync(nameof(WaitingParentWorkflow), "purged", cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        Assert.False(await host.Client.PurgeInstanceAsync(parentId, Cancellation));

        await host.Client.RaiseEventAsync("purged-child", "Approval", true, Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        Assert.Equal("approved", (await host.Client.GetWorkflowStateAsync(parentId, cancellation: Cancellation)).ReadOutputAs<string>());
        Assert.True(await host.Client.PurgeInstanceAsync(parentId, Cancellation));

        Assert.False((await host.Client.GetWorkflowStateAsync(parentId, cancellation: Cancellation)).Exists);
        Assert.False((await host.Client.GetWorkflowStateAsync("purged-child", cancellation: Cancellation)).Exists);
        Assert.False(await host.Client.PurgeInstanceAsync(parentId, Cancellation));
        Assert.True((await host.Store.GetWorkAsync(Cancellation)).IsEmpty);
    }

    [Fact]
    public async Task An_ID_can_be_reused_once_its_instance_has_finished_but_not_while_it_runs()
    {
        await using var host = Host();
        await host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), "reused", cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), "reused", cancellation: Cancellation));
        Assert.Equal("an active workflow with ID 'reused' already exists", error.Message);

        await host.Client.TerminateWorkflowAsync("reused", cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        await host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), "reused", cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        Assert.Equal(WorkflowRuntimeStatus.Running, (await host.Client.GetWorkflowStateAsync("reused", cancellation: Cancellation)).RuntimeStatus);
        Assert.Empty((await host.HistoryAsync("reused")).OfType<ExecutionTerminated>());
    }

    [Fact]
    public async Task Instance_IDs_follow_daprds_rules()
    {
        await using var host = Host();
        var invalid = await Assert.ThrowsAsync<ArgumentException>(() => host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), "no spaces", cancellation: Cancellation));
        Assert.StartsWith("workflow instance ID 'no spaces' is invalid", invalid.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), new string('x', 65), cancellation: Cancellation));

        var generated = await host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), cancellation: Cancellation);
        Assert.True(Guid.TryParse(generated, out _));
    }

    private static WorkflowTestHost Host() => new(options =>
    {
        options.RegisterWorkflow<WaitingParentWorkflow>();
        options.RegisterWorkflow<ApprovalWorkflow>();
    });
}
