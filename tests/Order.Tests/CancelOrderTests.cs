using System.Net;
using System.Text.Json;
using CloudScale.Order.Orders;
using CloudScale.Testing;
using static CloudScale.Order.Tests.OrderClient;

namespace CloudScale.Order.Tests;

public sealed class CancelOrderTests(OrderServiceFixture order) : IClassFixture<OrderServiceFixture>
{
    private readonly HttpClient _client = order.Client;

    private async Task<CustomerOrder> PlaceAsync(string customerId)
    {
        using var response = await _client.PlaceOrderAsync(OrderBody(customerId), Guid.NewGuid().ToString());
        return await response.ReadAsync<CustomerOrder>(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task Cancelling_a_pending_order_records_why_and_writes_order_cancelled_to_the_outbox()
    {
        var placed = await PlaceAsync("heidi");

        var cancelled = await (await _client.PostEmptyAsync($"/orders/{placed.Id}/cancel")).ReadAsync<CustomerOrder>(HttpStatusCode.OK);

        Assert.Equal((OrderStatus.Cancelled, "customer-cancelled"), (cancelled.Status, cancelled.CancellationReason));
        var details = await (await _client.FetchAsync($"/orders/{placed.Id}")).ReadAsync<OrderDetails>(HttpStatusCode.OK);
        Assert.Equal(cancelled, details.Order);
        Assert.Equal([(OrderStatus.Pending, null), (OrderStatus.Cancelled, "customer-cancelled")], details.StatusHistory.Select(step => (step.Status, step.Reason)));

        var outbox = JsonDocument.Parse(await Sql.ScalarAsync<string>(order.Database, """
            SELECT json_build_object('topic', topic, 'type', cloudevent_type, 'payload', payload)::text FROM outbox WHERE payload->>'orderId' = @id
            """, ("id", placed.Id.ToString()))).RootElement;
        Assert.Equal("order.cancelled", outbox.GetProperty("topic").GetString());
        Assert.Equal("cloudscale.order.cancelled.v1", outbox.GetProperty("type").GetString());
        var payload = outbox.GetProperty("payload");
        Assert.Equal(
            (placed.Id, "heidi", "customer-cancelled", cancelled.UpdatedAt),
            (payload.GetProperty("orderId").GetGuid(), payload.GetProperty("customerId").GetString(), payload.GetProperty("reason").GetString(),
                payload.GetProperty("cancelledAt").GetDateTimeOffset()));
    }

    [Fact]
    public async Task Cancelling_a_final_order_is_a_conflict_and_writes_no_second_event()
    {
        var placed = await PlaceAsync("ivan");
        using var first = await _client.PostEmptyAsync($"/orders/{placed.Id}/cancel");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using var again = await _client.PostEmptyAsync($"/orders/{placed.Id}/cancel");

        await again.ReadProblemAsync(HttpStatusCode.Conflict, "order-final");
        Assert.Equal(1L, await Sql.ScalarAsync<long>(order.Database, "SELECT count(*) FROM outbox WHERE payload->>'orderId' = @id", ("id", placed.Id.ToString())));
    }

    [Fact]
    public async Task An_unknown_order_is_not_found()
    {
        var id = Guid.NewGuid();

        using var cancel = await _client.PostEmptyAsync($"/orders/{id}/cancel");
        using var get = await _client.FetchAsync($"/orders/{id}");

        await cancel.ReadProblemAsync(HttpStatusCode.NotFound, "order-not-found");
        await get.ReadProblemAsync(HttpStatusCode.NotFound, "order-not-found");
    }
}
