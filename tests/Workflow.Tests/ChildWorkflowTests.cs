using CloudScale.Workflow.Testing;
using Dapr.Workflow;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests;

public sealed class ChildWorkflowTests
{
    [Fact]
    public async Task Child_workflows_run_as_instances_of_their_own_and_return_their_output_to_the_parent()
    {
        await using var host = FamilyHost();

        int[] numbers = [1, 2, 3];
        var parentId = await host.Client.ScheduleNewWorkflowAsync(nameof(ParentWorkflow), "parent", numbers, cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        Assert.Equal(12, (await host.Client.GetWorkflowStateAsync(parentId, cancellation: Cancellation)).ReadOutputAs<int>());
        var children = (await host.HistoryAsync(parentId)).OfType<SubOrchestrationCreated>().ToList();
        Assert.Equal(3, children.Count);
        Assert.Equal("parent-first", children[0].InstanceId);
        Assert.Equal(3, children.Select(child => child.InstanceId).Distinct(StringComparer.Ordinal).Count());
        foreach (var child in children)
        {
            var state = await host.Client.GetWorkflowStateAsync(child.InstanceId, cancellation: Cancellation);
            Assert.Equal((WorkflowRuntimeStatus.Completed, nameof(DoublingWorkflow)), (state.RuntimeStatus, state.Name));
            Assert.Equal(await host.Store.GetMetadataAsync(child.InstanceId, Cancellation) is { Parent: { } parent } ? parent.InstanceId : null, parentId);
        }
    }

    [Fact]
    public async Task A_failed_child_fails_the_parents_call_with_the_childs_failure()
    {
        await using var host = FamilyHost();

        int[] numbers = [1, -2];
        var parentId = await host.Client.ScheduleNewWorkflowAsync(nameof(ParentWorkflow), "unlucky", numbers, cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        var state = await host.Client.GetWorkflowStateAsync(parentId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.StartsWith("child workflow 'DoublingWorkflow' (#2) failed: Only non-negative numbers double.", state.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
        var childFailure = Assert.Single((await host.HistoryAsync(parentId)).OfType<SubOrchestrationFailed>()).FailureDetails;
        Assert.True(childFailure.IsCausedBy<ArgumentOutOfRangeException>());
    }

    [Fact]
    public async Task A_child_with_the_ID_of_a_running_instance_is_not_started_and_its_call_fails()
    {
        await using var host = new WorkflowTestHost(options =>
        {
            options.RegisterWorkflow<WaitingParentWorkflow>();
            options.RegisterWorkflow<ApprovalWorkflow>();
        });
        await host.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), "taken-child", cancellation: Cancellation);

        var parentId = await host.Client.ScheduleNewWorkflowAsync(nameof(WaitingParentWorkflow), "taken", cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        var state = await host.Client.GetWorkflowStateAsync(parentId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.Contains("an active workflow with ID 'taken-child' already exists", state.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(WorkflowRuntimeStatus.Running, (await host.Client.GetWorkflowStateAsync("taken-child", cancellation: Cancellation)).RuntimeStatus);
    }

    private static WorkflowTestHost FamilyHost()
    {
        var host = new WorkflowTestHost(options =>
        {
            options.RegisterWorkflow<ParentWorkflow>();
            options.RegisterWorkflow<DoublingWorkflow>();
        });
        host.StubActivity<int, int>("Double", number => number * 2);
        return host;
    }
}
