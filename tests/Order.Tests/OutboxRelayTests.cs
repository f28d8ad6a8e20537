using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using CloudScale.Order.Orders;
using CloudScale.Testing;
using Dapr;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static CloudScale.Order.Tests.OrderClient;

namespace CloudScale.Order.Tests;

public sealed class OutboxRelayTests(TestServers servers)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A stand-in for Notification on Dapr.AspNetCore: an app whose sidecar delivers <c>order.cancelled</c> to
    /// <paramref name="handler"/>, with the event's data as the body and its other attributes as <c>Cloudevent.*</c> headers.
    /// </summary>
    private static Task<InProcessApp> StartSubscriberAsync(Delegate handler) => InProcessApp.StartAsync(
        new Dictionary<string, string?>(StringComparer.Ordinal),
        _ => { },
        app =>
        {
            app.UseCloudEvents(new CloudEventsMiddlewareOptions { ForwardCloudEventPropertiesAsHeaders = true });
            app.MapSubscribeHandler();
            app.MapPost("/order-cancelled", handler).WithTopic("pubsub", "order.cancelled");
        });

    [Fact]
    public async Task An_event_written_while_the_sidecar_is_down_is_retried_then_published_once_it_is_up()
    {
        var database = await servers.CreateDatabaseAsync();
        var redis = await servers.RedisAsync();
        var received = new ConcurrentQueue<(string? Id, string? Type, string? Topic, JsonElement Data)>();
        await using var subscriber = await StartSubscriberAsync((HttpRequest request, JsonElement data) => received.Enqueue(
            (request.Headers["Cloudevent.id"], request.Headers["Cloudevent.type"], request.Headers["Cloudevent.topic"], data)));
        var sidecarSettings = new SidecarSettings("order", SidecarResources.Folder(("pubsub.yaml", SidecarResources.RedisPubSub("pubsub", redis.ConnectionString))))
        {
            AppPort = subscriber.Port,
        };
        await using var order = await OrderService.StartOrderAsync(database, redis.ConnectionString, sidecarSettings);
        // Placing an order needs the sidecar (it starts the saga), cancelling one does not.
        var orderId = await InsertPendingOrderAsync(database);
        using var cancel = await order.Client.PostEmptyAsync($"/orders/{orderId}/cancel");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);

        // The sidecar is not there: the relay keeps the row and counts its attempts.
        await Poll.UntilAsync(
            async () => await Sql.ScalarAsync<int>(database, "SELECT coalesce(max(attempts), 0) FROM outbox WHERE published_at IS NULL AND last_error IS NOT NULL") >= 2,
            Deadline);
        var eventId = await Sql.ScalarAsync<Guid>(database, "SELECT id FROM outbox");

        await using var sidecar = await DaprSidecar.StartAsync(sidecarSettings);

        await Poll.UntilAsync(() => !received.IsEmpty, Deadline, () => $"Sidecar output:\n{sidecar.Output}");
        var (id, type, topic, data) = Assert.Single(received);
        Assert.Equal((eventId.ToString(), "cloudscale.order.cancelled.v1", "order.cancelled"), (id, type, topic));
        Assert.Equal((orderId, "judy", "customer-cancelled"),
            (data.GetProperty("orderId").GetGuid(), data.GetProperty("customerId").GetString(), data.GetProperty("reason").GetString()));
        await Poll.UntilAsync(
            async () => await Sql.ScalarAsync<bool>(database, "SELECT published_at IS NOT NULL FROM outbox WHERE id = @id", ("id", eventId)),
            Deadline);
    }

    [Fact]
    public async Task Every_event_of_a_running_service_is_delivered_once_and_marked_published()
    {
        var database = await servers.CreateDatabaseAsync();
        var redis = await servers.RedisAsync();
        var received = new ConcurrentQueue<Guid>();
        await using var subscriber = await StartSubscriberAsync((JsonElement data) => received.Enqueue(data.GetProperty("orderId").GetGuid()));
        await using var sidecar = await DaprSidecar.StartAsync(new SidecarSettings("order", SidecarResources.Folder(
            ("pubsub.yaml", SidecarResources.RedisPubSub("pubsub", redis.ConnectionString)),
            OrderService.WorkflowStore(redis.ConnectionString)))
        {
            AppPort = subscriber.Port,
        });
        await using var order = await OrderService.StartOrderAsync(database, redis.ConnectionString, sidecar.Settings);

        var cancelled = new List<Guid>();
        for (var index = 0; index < 5; index++)
        {
            using var placedResponse = await order.Client.PlaceOrderAsync(OrderBody($"kim-{index}"), Guid.NewGuid().ToString());
            var placed = await placedResponse.ReadAsync<CustomerOrder>(HttpStatusCode.Accepted);
            using var cancel = await order.Client.PostEmptyAsync($"/orders/{placed.Id}/cancel");
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            cancelled.Add(placed.Id);
        }

        await Poll.UntilAsync(() => received.Count >= cancelled.Count, Deadline, () => $"{received.Count} received. Sidecar output:\n{sidecar.Output}");
        // The sidecar delivers concurrently, so arrival order is not publication order; each arrives once.
        Assert.Equal(cancelled.Order(), received.Order());
        await Poll.UntilAsync(async () => await Sql.ScalarAsync<long>(database, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0, Deadline);
    }
}
