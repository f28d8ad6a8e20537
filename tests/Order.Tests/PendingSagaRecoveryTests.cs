using System.Net;
using CloudScale.Order.Orders;
using CloudScale.Testing;

namespace CloudScale.Order.Tests;

/// <summary>Order with its recovery pass every 100 ms for orders pending over half a second.</summary>
public sealed class RecoveringOrderServiceFixture(TestServers servers) : OrderServiceFixture(servers)
{
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
        // What a crash between the order's commit and the saga's start leaves behind.
        var orderId = Guid.CreateVersion7();
        await Sql.ExecuteAsync(order.Database, """
            INSERT INTO orders (id, customer_id, room_id, stay_from, stay_to, amount, status, idempotency_key, request_hash)
            VALUES (@id, 'judy', @room, current_date + 10, current_date + 12, 100, 'pending', @key, 'hash')
            """, ("id", orderId), ("room", Guid.NewGuid()), ("key", Guid.NewGuid().ToString()));
        Assert.Equal("UNKNOWN", (await GetAsync(orderId)).Saga.RuntimeStatus);

        // The saga is scheduled (this test host runs no workflow worker, so it stays PENDING).
        await Poll.UntilAsync(async () => (await GetAsync(orderId)).Saga.RuntimeStatus == "PENDING", TimeSpan.FromSeconds(10));
    }

    private async Task<OrderDetails> GetAsync(Guid orderId) =>
        await (await order.Client.FetchAsync($"/orders/{orderId}")).ReadAsync<OrderDetails>(HttpStatusCode.OK);
}
