using CloudScale.Workflow.Testing;
using Dapr.Workflow;
using Microsoft.Extensions.DependencyInjection;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests;

public sealed class ChainingAndFanOutTests
{
    [Fact]
    public async Task Chained_activities_run_in_order_each_result_feeding_the_next()
    {
        await using var host = new WorkflowTestHost(options => options.RegisterWorkflow<OrderWorkflow>());
        StubOrderActivities(host);

        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(OrderWorkflow), "order-1", new Order("o1", 2, 50m), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.True(state.IsWorkflowCompleted);
        Assert.Equal(new OrderResult("R-o1", "P-50", "S-R-o1"), state.ReadOutputAs<OrderResult>());
        Assert.Equal(new Order("o1", 2, 50m), state.ReadInputAs<Order>());
        Assert.Equal(nameof(OrderWorkflow), state.Name);
        Assert.Equal(host.Clock.GetUtcNow(), state.LastUpdatedAt);
        var history = await host.HistoryAsync(instanceId);
        Assert.Equal(["Reserve", "Charge", "Ship"], history.OfType<TaskScheduled>().Select(scheduled => scheduled.Name), StringComparer.Ordinal);
        Assert.Equal([1, 2, 3], history.OfType<TaskCompleted>().Select(completed => completed.TaskId));
        Assert.Equal(nameof(OrderWorkflow), Assert.Single(history.OfType<ExecutionStarted>()).Name);
        Assert.Equal(WorkflowRuntimeStatus.Completed, Assert.IsType<ExecutionCompleted>(history[^1]).Status);
    }

    [Fact]
    public async Task Fan_out_schedules_every_activity_in_one_step_and_fans_in_when_all_are_back()
    {
        await using var host = new WorkflowTestHost(options =>
        {
            options.RegisterWorkflow<SumOfSquaresWorkflow>();
            options.RegisterActivity<SquareActivity>();
        });

        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(SumOfSquaresWorkflow), input: Enumerable.Range(1, 10).ToArray(), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(385, state.ReadOutputAs<int>());
        var history = (await host.HistoryAsync(instanceId)).ToList();
        var scheduled = history.OfType<TaskScheduled>().ToList();
        Assert.Equal(10, scheduled.Count);
        Assert.True(history.IndexOf(scheduled[^1]) < history.FindIndex(entry => entry is TaskCompleted), "all ten were scheduled before the first result");
        Assert.All(ResultsPerTask(history).Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task Activities_are_created_with_their_dependencies_and_delegates_can_be_workflows()
    {
        await using var host = new WorkflowTestHost(
            options =>
            {
                options.RegisterWorkflow<int, int>("Triple", (context, input) => context.CallActivityAsync<int>(nameof(MultiplyActivity), input));
                options.RegisterActivity<MultiplyActivity>();
            },
            configureServices: services => services.AddSingleton(new Multiplier(3)));

        var instanceId = await host.Client.ScheduleNewWorkflowAsync("Triple", input: 14, cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        Assert.Equal(42, (await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation)).ReadOutputAs<int>());
    }

    [Fact]
    public async Task A_workflow_scheduled_for_later_stays_pending_until_then()
    {
        await using var host = new WorkflowTestHost(options => options.RegisterWorkflow<OrderWorkflow>());
        StubOrderActivities(host);

        var startTime = host.Clock.GetUtcNow().AddHours(1);
        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(OrderWorkflow), input: new Order("o2", 1, 5m), startTime: startTime, cancellation: Cancellation);
        await host.AdvanceTimeAsync(TimeSpan.FromMinutes(59), Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Pending, (await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation)).RuntimeStatus);

        await host.AdvanceTimeAsync(TimeSpan.FromMinutes(1), Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Completed, (await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation)).RuntimeStatus);
    }

    [Fact]
    public async Task Only_inputs_and_outputs_that_were_asked_for_are_read()
    {
        await using var host = new WorkflowTestHost(options => options.RegisterWorkflow<OrderWorkflow>());
        StubOrderActivities(host);
        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(OrderWorkflow), input: new Order("o3", 1, 5m), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        var state = await host.Client.GetWorkflowStateAsync(instanceId, getInputsAndOutputs: false, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Null(state.ReadInputAs<Order>());
        Assert.Null(state.ReadOutputAs<OrderResult>());
        Assert.False((await host.Client.GetWorkflowStateAsync("no-such-instance", cancellation: Cancellation)).Exists);
    }

    internal static void StubOrderActivities(WorkflowTestHost host)
    {
        host.StubActivity<Order, string>("Reserve", order => $"R-{order.Id}");
        host.StubActivity<Order, string>("Charge", order => $"P-{order.Amount}");
        host.StubActivity<string, string>("Ship", reservation => $"S-{reservation}");
    }
}

public sealed record Multiplier(int Factor);

public sealed class MultiplyActivity(Multiplier multiplier) : WorkflowActivity<int, int>
{
    public override Task<int> RunAsync(WorkflowActivityContext context, int input) => Task.FromResult(input * multiplier.Factor);
}
