using CloudScale.Order.Saga;
using CloudScale.Testing;
using Dapr.Workflow;

namespace CloudScale.Order.Tests;

public sealed class SagaWorkerTests(RecoveringOrderServiceFixture order) : IClassFixture<RecoveringOrderServiceFixture>
{
    [Fact]
    public async Task The_worker_has_the_saga_and_each_of_its_activities_registered_once()
    {
        var orderId = await OrderClient.InsertPendingOrderAsync(order.Database);

        // A saga that runs was taken from the worker's registrations.
        await Poll.UntilAsync(
            async () => (await order.Workflows.GetWorkflowStateAsync(BookingSagaInput.InstanceIdOf(orderId), getInputsAndOutputs: false,
                TestContext.Current.CancellationToken))?.RuntimeStatus == WorkflowRuntimeStatus.Running,
            TimeSpan.FromSeconds(10));

        Assert.DoesNotContain(order.Logs.Messages, message => message.Contains("is already registered", StringComparison.Ordinal));
    }
}
