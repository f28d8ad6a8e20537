using CloudScale.Testing;
using CloudScale.Workflow.Testing;
using Dapr.Workflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests;

public sealed class ReplayTests
{
    [Fact]
    public async Task Replayed_code_gets_the_same_guids_and_times_and_knows_it_is_replaying()
    {
        await using var host = new WorkflowTestHost(options => options.RegisterWorkflow<ReplayProbeWorkflow>());
        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(ReplayProbeWorkflow), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        var firstRun = (await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation)).ReadCustomStatusAs<ReplayProbe>()!;

        await host.AdvanceTimeAsync(TimeSpan.FromMinutes(1), Cancellation);

        var replayed = (await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation)).ReadOutputAs<ReplayProbe>()!;
        Assert.False(firstRun.ReplayingAtEnd);
        Assert.Equal(firstRun.First, replayed.First);
        Assert.NotEqual(replayed.First, replayed.Second);
        Assert.Equal(firstRun.StartedAt, replayed.StartedAt);
        Assert.Equal(DateTimeKind.Utc, replayed.StartedAt.Kind);
        Assert.False(replayed.ReplayingAtEnd);
    }

    [Fact]
    public async Task A_replay_safe_logger_writes_each_message_once_however_often_the_code_replays()
    {
        var logs = new ListLoggerProvider();
        await using var host = new WorkflowTestHost(
            options => options.RegisterWorkflow<OrderWorkflow>(),
            configureServices: services => services.AddLogging(logging => logging.AddProvider(logs)));
        ChainingAndFanOutTests.StubOrderActivities(host);

        await host.Client.ScheduleNewWorkflowAsync(nameof(OrderWorkflow), input: new Order("logged", 1, 1m), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        Assert.Single(logs.Messages, message => message == "Received order logged");
        Assert.Single(logs.Messages, message => message == "Shipped order logged");
    }

    [Fact]
    public async Task Changed_code_under_a_running_instance_fails_it_with_a_nondeterminism_error_naming_the_step()
    {
        var clock = new WorkflowTestClock();
        var store = new InMemoryWorkflowStore(clock);
        await using (var before = new WorkflowTestHost(options => options.RegisterWorkflow("Payment", Payment("Charge")), store, clock))
        {
            StubPaymentActivities(before);
            await before.Client.ScheduleNewWorkflowAsync("Payment", "payment-1", new Order("o1", 1, 9m), cancellation: Cancellation);
            await before.RunUntilIdleAsync(Cancellation);
        }

        await using var after = new WorkflowTestHost(options => options.RegisterWorkflow("Payment", Payment("Refund")), store, clock);
        StubPaymentActivities(after);
        await after.Client.RaiseEventAsync("payment-1", "Go", true, Cancellation);
        await after.RunUntilIdleAsync(Cancellation);

        var state = await after.Client.GetWorkflowStateAsync("payment-1", cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.True(state.FailureDetails!.IsCausedBy<NonDeterministicWorkflowException>());
        Assert.StartsWith("step 3: history has activity 'Charge' but the workflow now schedules 'Refund'.", state.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.DoesNotContain((await after.HistoryAsync("payment-1")).OfType<TaskScheduled>(), scheduled => scheduled.Name == "Refund");

        // Version 2 refunds where version 1 charged: the third step differs, everything else is the same.
        static Func<WorkflowContext, Order, Task<string>> Payment(string thirdStep) => async (context, order) =>
        {
            foreach (var activity in new[] { "Validate", "Reserve", thirdStep })
            {
                await context.CallActivityAsync<string>(activity, order);
            }

            await context.WaitForExternalEventAsync<bool>("Go");
            return thirdStep;
        };
    }

    [Fact]
    public async Task Awaiting_something_that_is_not_a_workflow_task_fails_the_workflow_with_an_explanation()
    {
        await using var host = new WorkflowTestHost(options => options.RegisterWorkflow<SleepyWorkflow>());
        var instanceId = await host.Client.ScheduleNewWorkflowAsync(nameof(SleepyWorkflow), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.StartsWith("The workflow is awaiting something that is not a workflow task", state.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unregistered_workflows_and_activities_fail_with_their_names()
    {
        await using var host = new WorkflowTestHost(options => options.RegisterWorkflow<OrderWorkflow>());
        var unknownWorkflow = await host.Client.ScheduleNewWorkflowAsync("NoSuchWorkflow", cancellation: Cancellation);
        var unknownActivity = await host.Client.ScheduleNewWorkflowAsync(nameof(OrderWorkflow), input: new Order("o1", 1, 1m), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        Assert.Equal(
            "No workflow named 'NoSuchWorkflow' is registered with this application.",
            (await host.Client.GetWorkflowStateAsync(unknownWorkflow, cancellation: Cancellation)).FailureDetails!.ErrorMessage);
        Assert.Equal(
            "activity 'Reserve' (#1) failed: No activity named 'Reserve' is registered with this application.",
            (await host.Client.GetWorkflowStateAsync(unknownActivity, cancellation: Cancellation)).FailureDetails!.ErrorMessage);
    }

    private static void StubPaymentActivities(WorkflowTestHost host)
    {
        foreach (var name in new[] { "Validate", "Reserve", "Charge", "Refund" })
        {
            host.StubActivity<Order, string>(name, order => $"{name} {order.Id}");
        }
    }
}
