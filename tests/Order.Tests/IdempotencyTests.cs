using System.Net;
using CloudScale.Order.Orders;
using CloudScale.Testing;
using static CloudScale.Order.Tests.OrderClient;

namespace CloudScale.Order.Tests;

public sealed class IdempotencyTests(OrderServiceFixture order) : IClassFixture<OrderServiceFixture>
{
    private readonly HttpClient _client = order.Client;

    private Task<long> CountOrdersAsync(string key) =>
        Sql.ScalarAsync<long>(order.Database, "SELECT count(*) FROM orders WHERE idempotency_key = @key", ("key", key));

    [Fact]
    public async Task A_new_order_is_accepted_as_pending_at_its_location()
    {
        var key = Guid.NewGuid().ToString();

        using var response = await _client.PlaceOrderAsync(OrderBody(customerId: "carol", amount: 99.5m), key);

        var placed = await response.ReadAsync<CustomerOrder>(HttpStatusCode.Accepted);
        Assert.Equal($"/orders/{placed.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal(("carol", 99.5m, OrderStatus.Pending, Night(10), Night(12)), (placed.CustomerId, placed.Amount, placed.Status, placed.From, placed.To));
        var details = await (await _client.FetchAsync($"/orders/{placed.Id}")).ReadAsync<OrderDetails>(HttpStatusCode.OK);
        Assert.Equal(placed, details.Order);
        Assert.Equal([OrderStatus.Pending], details.StatusHistory.Select(step => step.Status));
    }

    [Fact]
    public async Task The_same_key_and_body_answer_the_first_order_again()
    {
        var key = Guid.NewGuid().ToString();

        using var first = await _client.PlaceOrderAsync(OrderBody(amount: 100m), key);
        // Written differently (100.00 for 100), the same request.
        using var retry = await _client.PlaceOrderAsync(OrderBody(amount: 100.00m), key);

        var original = await first.ReadAsync<CustomerOrder>(HttpStatusCode.Accepted);
        Assert.Equal(original, await retry.ReadAsync<CustomerOrder>(HttpStatusCode.Accepted));
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal(1L, await CountOrdersAsync(key));
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_refused_and_changes_nothing()
    {
        var key = Guid.NewGuid().ToString();
        using var first = await _client.PlaceOrderAsync(OrderBody(amount: 100m), key);
        var original = await first.ReadAsync<CustomerOrder>(HttpStatusCode.Accepted);
        var before = await Sql.SnapshotAsync(order.Database, "orders");

        using var reuse = await _client.PlaceOrderAsync(OrderBody(amount: 101m), key);

        await reuse.ReadProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Equal(before, await Sql.SnapshotAsync(order.Database, "orders"));
        Assert.Equal(original, (await (await _client.FetchAsync($"/orders/{original.Id}")).ReadAsync<OrderDetails>(HttpStatusCode.OK)).Order);
    }

    [Fact]
    public async Task Twenty_concurrent_duplicates_create_one_order()
    {
        var key = Guid.NewGuid().ToString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _client.PlaceOrderAsync(OrderBody(customerId: "dave"), key)));

        var orders = await Task.WhenAll(responses.Select(response => response.ReadAsync<CustomerOrder>(HttpStatusCode.Accepted)));
        Assert.Single(orders.Select(placed => placed.Id).Distinct());
        Assert.Single(responses.Select(response => response.Headers.Location).Distinct());
        Assert.Equal(1L, await CountOrdersAsync(key));
        Assert.Equal(1L, await Sql.ScalarAsync<long>(order.Database, "SELECT count(*) FROM order_status_history WHERE order_id = @id", ("id", orders[0].Id)));
    }

    [Fact]
    public async Task A_rejected_request_does_not_use_up_its_key()
    {
        var key = Guid.NewGuid().ToString();

        using var invalid = await _client.PlaceOrderAsync(OrderBody(amount: -5m), key);
        using var valid = await _client.PlaceOrderAsync(OrderBody(amount: 5m), key);

        await invalid.AssertFieldErrorAsync("amount");
        Assert.Equal(5m, (await valid.ReadAsync<CustomerOrder>(HttpStatusCode.Accepted)).Amount);
    }

    [Fact]
    public async Task A_request_that_fails_on_the_server_does_not_use_up_its_key()
    {
        var key = "fails-once-" + Guid.NewGuid();
        // The status history is written after the order, in the same transaction: failing it must take the order back too.
        await Sql.ExecuteAsync(order.Database, """
            CREATE FUNCTION fail_history() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'history unavailable'; END $$;
            CREATE TRIGGER fail_history BEFORE INSERT ON order_status_history FOR EACH ROW EXECUTE FUNCTION fail_history();
            """);
        HttpResponseMessage failed;
        try
        {
            failed = await _client.PlaceOrderAsync(OrderBody(customerId: "erin"), key);
        }
        finally
        {
            await Sql.ExecuteAsync(order.Database, "DROP TRIGGER fail_history ON order_status_history; DROP FUNCTION fail_history();");
        }

        using var retry = await _client.PlaceOrderAsync(OrderBody(customerId: "erin"), key);

        await failed.ReadProblemAsync(HttpStatusCode.InternalServerError);
        failed.Dispose();
        Assert.Equal("erin", (await retry.ReadAsync<CustomerOrder>(HttpStatusCode.Accepted)).CustomerId);
        Assert.Equal(1L, await CountOrdersAsync(key));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(" ")]
    public async Task An_order_without_an_idempotency_key_is_refused(string? key)
    {
        using var response = await _client.PlaceOrderAsync(OrderBody(), key);

        await response.AssertFieldErrorAsync("Idempotency-Key");
    }
}
