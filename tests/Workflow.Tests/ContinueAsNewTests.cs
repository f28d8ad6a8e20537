using CloudScale.Workflow.Testing;
using Dapr.Workflow;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests;

public sealed class ContinueAsNewTests
{
    [Fact]
    public async Task Each_run_starts_over_with_a_fresh_history_and_the_new_input()
    {
        await using var host = AccumulatorHost();
        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(AccumulatorWorkflow), input: new AccumulatorState(Target: 10, Total: 0), cancellation: Cancellation);

        foreach (var amount in new[] { 4, 3 })
        {
            await host.Client.RaiseEventAsync(instanceId, "Add", amount, Cancellation);
            await host.RunUntilIdleAsync(Cancellation);
        }

        var running = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Running, running.RuntimeStatus);
        Assert.Equal(new AccumulatorState(10, 7), running.ReadInputAs<AccumulatorState>());
        var history = await host.HistoryAsync(instanceId);
        Assert.IsType<ContinueAsNew>(history[0]);
        Assert.Single(history.OfType<ExecutionStarted>());
        Assert.Empty(history.OfType<EventRaised>());

        await host.Client.RaiseEventAsync(instanceId, "Add", 5, Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        Assert.Equal(12, (await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation)).ReadOutputAs<int>());
    }

    [Fact]
    public async Task Events_the_last_run_did_not_consume_carry_over_to_the_next()
    {
        await using var host = AccumulatorHost();
        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(AccumulatorWorkflow), input: new AccumulatorState(Target: 6, Total: 0), cancellation: Cancellation);
        foreach (var amount in new[] { 1, 2, 3 })
        {
            await host.Client.RaiseEventAsync(instanceId, "Add", amount, Cancellation);
        }

        await host.RunUntilIdleAsync(Cancellation);

        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(6, state.ReadOutputAs<int>());
    }

    private static WorkflowTestHost AccumulatorHost() => new(options => options.RegisterWorkflow<AccumulatorWorkflow>());
}
