using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CloudScale.Dapr.Tests;

/// <summary>An event as a subscribed handler received it: its route, the unwrapped body and the CloudEvent envelope.</summary>
public sealed record Delivery(string Route, string ContentType, string Body, JsonElement? CloudEvent);

/// <summary>
/// One app that publishes through its sidecar and subscribes through <c>MapSubscribeHandler()</c> and <c>UseCloudEvents()</c>,
/// on a <c>pubsub.redis</c> component over the shared Redis server.
/// </summary>
public sealed class PubSubFixture(TestServers servers) : IAsyncLifetime
{
    private DaprSidecar? _sidecar;

    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    public TestApp App { get; private set; } = null!;

    public DaprClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var redis = await servers.RedisAsync();
        App = await TestApp.StartAsync(MapSubscriber);
        _sidecar = await DaprSidecar.StartAsync(new SidecarSettings("shop", SidecarResources.Folder(("pubsub.yaml", SidecarResources.RedisPubSub("pubsub", redis.ConnectionString)))) { AppPort = App.Port });
        Client = _sidecar.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync();
        }

        await App.DisposeAsync();
    }

    /// <summary>Waits for the deliveries to <paramref name="route"/> until there are <paramref name="count"/>.</summary>
    public async Task<IReadOnlyList<Delivery>> DeliveredAsync(string route, int count = 1)
    {
        await Poll.UntilAsync(() => Deliveries.Count(delivery => delivery.Route == route) >= count, TimeSpan.FromSeconds(15), () => $"{Deliveries.Count} deliveries so far");
        return [.. Deliveries.Where(delivery => delivery.Route == route)];
    }

    private void MapSubscriber(WebApplication app)
    {
        app.UseCloudEvents();
        app.MapSubscribeHandler();
        app.MapPost("/orders", RecordAsync).WithTopic("pubsub", "orders");
        app.MapPost("/orders/cancelled", RecordAsync).WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "orders", Match = "event.type == \"order.cancelled\"" });
        app.MapPost("/raw", RecordAsync).WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "raw-orders", EnableRawPayload = true });
        app.MapPost("/bulk", RecordAsync).WithTopic("pubsub", "bulk-orders");
    }

    /// <summary>Records the delivery; the empty 200 it answers is SUCCESS to the sidecar.</summary>
    private async Task RecordAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        Deliveries.Enqueue(new Delivery(context.Request.Path.Value!, context.Request.ContentType ?? "", await reader.ReadToEndAsync(context.RequestAborted), context.GetCloudEvent()));
    }
}

public sealed class PubSubTests(PubSubFixture fixture) : IClassFixture<PubSubFixture>
{
    private readonly DaprClient _dapr = fixture.Client;
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_published_event_reaches_the_subscribed_handler_as_its_data()
    {
        await _dapr.PublishEventAsync("pubsub", "orders", new Order("o-1", 1, "placed"), Cancellation);

        var delivery = (await fixture.DeliveredAsync("/orders")).Single();
        Assert.Equal(new Order("o-1", 1, "placed"), JsonSerializer.Deserialize<Order>(delivery.Body, JsonSerializerOptions.Web));
        Assert.Equal("application/json", delivery.ContentType);
        var envelope = delivery.CloudEvent!.Value;
        Assert.Equal("com.dapr.event.sent", envelope.GetProperty("type").GetString());
        Assert.Equal("shop", envelope.GetProperty("source").GetString());
        Assert.Equal("orders", envelope.GetProperty("topic").GetString());
    }

    [Fact]
    public async Task Metadata_overrides_the_event_type_and_the_match_rule_routes_it()
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["cloudevent.type"] = "order.cancelled", ["cloudevent.id"] = "cancel-1" };

        await _dapr.PublishEventAsync("pubsub", "orders", new Order("o-2", 1, "cancelled"), metadata, Cancellation);

        var delivery = (await fixture.DeliveredAsync("/orders/cancelled")).Single();
        Assert.Equal("cancel-1", delivery.CloudEvent!.Value.GetProperty("id").GetString());
        Assert.Equal(new Order("o-2", 1, "cancelled"), JsonSerializer.Deserialize<Order>(delivery.Body, JsonSerializerOptions.Web));
    }

    [Fact]
    public async Task A_raw_payload_arrives_as_published_without_an_envelope_of_its_own()
    {
        var raw = new Dictionary<string, string>(StringComparer.Ordinal) { ["rawPayload"] = "true" };

        await _dapr.PublishEventAsync("pubsub", "raw-orders", new Order("o-3", 3, "placed"), raw, Cancellation);

        var delivery = (await fixture.DeliveredAsync("/raw")).Single();
        Assert.Equal("""{"id":"o-3","quantity":3,"status":"placed"}""", delivery.Body);
        Assert.Equal("application/octet-stream", delivery.ContentType);
    }

    [Fact]
    public async Task A_bulk_publish_delivers_every_event()
    {
        Order[] orders = [new("b-1", 1, "placed"), new("b-2", 2, "placed"), new("b-3", 3, "placed")];

        var response = await _dapr.BulkPublishEventAsync("pubsub", "bulk-orders", orders, cancellationToken: Cancellation);

        Assert.Empty(response.FailedEntries);
        var received = (await fixture.DeliveredAsync("/bulk", orders.Length)).Select(delivery => JsonSerializer.Deserialize<Order>(delivery.Body, JsonSerializerOptions.Web)!);
        Assert.Equal(orders.Select(order => order.Id).Order(StringComparer.Ordinal), received.Select(order => order.Id).Order(StringComparer.Ordinal), StringComparer.Ordinal);
    }

    [Fact]
    public async Task Publishing_to_an_unknown_pubsub_gives_daprs_404()
    {
        var unknown = await Assert.ThrowsAsync<DaprApiException>(() => _dapr.PublishEventAsync("no-such-pubsub", "orders", new Order("x", 1, "placed"), Cancellation));
        var unknownBulk = await Assert.ThrowsAsync<DaprApiException>(() => _dapr.BulkPublishEventAsync("no-such-pubsub", "orders", [1, 2], cancellationToken: Cancellation));

        Assert.Equal(("ERR_PUBSUB_NOT_FOUND", HttpStatusCode.NotFound, "pubsub no-such-pubsub is not found"), (unknown.ErrorCode, unknown.StatusCode, unknown.Message));
        Assert.Equal("ERR_PUBSUB_NOT_FOUND", unknownBulk.ErrorCode);
    }
}
