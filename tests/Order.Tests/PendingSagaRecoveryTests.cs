using System.Net;
using CloudScale.Order.Orders;
using CloudScale.Order.Saga;
using CloudScale.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CloudScale.Order.Tests;

/// <summary>
/// Order with its recovery pass every 100 ms for orders pending over half a second, running the sagas it starts; with
/// Booking unreachable through its sidecar, a saga keeps retrying the hold of its room for seconds before it gives up.
/// </summary>
public sealed class RecoveringOrderServiceFixture(TestServers servers) : OrderServiceFixture(servers)
{
    protected override bool RunsSagas => true;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(StringComparer.Ordinal)
    {
        ["BookingSaga:RecoveryInterval"] = "00:00:00.100",
        ["BookingSaga:RecoveryAge"] = "00:00:00.500",
    };
}

public sealed class PendingSagaRecoveryTests(RecoveringOrderServiceFixture order) : IClassFixture<RecoveringOrderServiceFixture>
{
    [Fact]
    public async Task An_order_committed_without_its_saga_gets_one()
    {
        // Only the recovery pass can start its saga.
        var orderId = await OrderClient.InsertPendingOrderAsync(order.Database);

        await Poll.UntilAsync(async () => (await GetAsync(orderId)).Saga.RuntimeStatus is "PENDING" or "RUNNING", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task An_order_whose_saga_ended_while_it_stayed_pending_is_reported_and_not_run_again()
    {
        var orderId = await OrderClient.InsertPendingOrderAsync(order.Database);
        await Poll.UntilAsync(async () => (await GetAsync(orderId)).Saga.RuntimeStatus is "PENDING" or "RUNNING", TimeSpan.FromSeconds(10));

        // An operator's terminate leaves the order pending with a saga that ended half-way.
        await order.Workflows.TerminateWorkflowAsync(BookingSagaInput.InstanceIdOf(orderId), cancellation: TestContext.Current.CancellationToken);
        await Poll.UntilAsync(async () => (await GetAsync(orderId)).Saga.RuntimeStatus == "TERMINATED", TimeSpan.FromSeconds(10));
        await Poll.UntilAsync(
            () => order.Logs.Messages.Any(message => message.StartsWith($"Order {orderId} is pending but its booking saga ended Terminated", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10));

        var details = await GetAsync(orderId);
        Assert.Equal((OrderStatus.Pending, "TERMINATED"), (details.Order.Status, details.Saga.RuntimeStatus));
    }

    [Fact]
    public async Task An_order_read_while_pending_whose_saga_then_ended_with_it_is_not_reported()
    {
        var orderId = await OrderClient.InsertPendingOrderAsync(order.Database);
        await Poll.UntilAsync(async () => (await GetAsync(orderId)).Saga.RuntimeStatus is "PENDING" or "RUNNING", TimeSpan.FromSeconds(10));
        var readWhilePending = (await GetAsync(orderId)).Order;

        // The order ends and then its saga, as a recovery pass that read a batch of pending orders sees it a moment later.
        (await order.Client.PostEmptyAsync($"/orders/{orderId}/cancel")).Dispose();
        await order.Workflows.TerminateWorkflowAsync(BookingSagaInput.InstanceIdOf(orderId), cancellation: TestContext.Current.CancellationToken);
        await Poll.UntilAsync(async () => (await GetAsync(orderId)).Saga.RuntimeStatus == "TERMINATED", TimeSpan.FromSeconds(10));

        var started = await order.Services.GetRequiredService<BookingSagas>().EnsureStartedAsync(readWhilePending, TestContext.Current.CancellationToken);

        Assert.Equal((OrderStatus.Pending, false), (readWhilePending.Status, started));
        Assert.Equal(OrderStatus.Cancelled, (await GetAsync(orderId)).Order.Status);
        Assert.DoesNotContain(order.Logs.Messages, message => message.StartsWith($"Order {orderId} is pending but", StringComparison.Ordinal));
    }

    private async Task<OrderDetails> GetAsync(Guid orderId) =>
        await (await order.Client.FetchAsync($"/orders/{orderId}")).ReadAsync<OrderDetails>(HttpStatusCode.OK);
}
