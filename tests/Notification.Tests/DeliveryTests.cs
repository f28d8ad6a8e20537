using System.Net;
using CloudScale.Notification.Notifications;

namespace CloudScale.Notification.Tests;

/// <summary>Integration events delivered to the subscription routes exactly as the sidecar posts them.</summary>
public sealed class DeliveryTests(NotificationServiceFixture notification) : IClassFixture<NotificationServiceFixture>
{
    private const string ConfirmedType = "cloudscale.order.confirmed.v1";
    private readonly HttpClient _client = notification.Client;

    [Fact]
    public async Task An_order_confirmed_event_creates_one_notification_and_bumps_the_unread_count()
    {
        var user = NotificationClient.NewUser();
        // Reading the count puts it in Redis, so that the delivery's increment is what changes it.
        Assert.Equal(0, await _client.UnreadAsync(user));
        var confirmed = NotificationClient.Confirmed(user, amount: 240m);

        await _client.DeliverAsync(confirmed).AssertDaprStatusAsync("SUCCESS");

        var stored = Assert.Single((await _client.ListAsync(user)).Items);
        Assert.Equal((user, "order.confirmed", "Booking confirmed", null), (stored.UserId, stored.Kind, stored.Title, stored.ReadAt));
        Assert.Contains(confirmed.OrderId.ToString(), stored.Body, StringComparison.Ordinal);
        Assert.Contains("240.00", stored.Body, StringComparison.Ordinal);
        Assert.Equal(1L, (long)await notification.Redis.StringGetAsync(UnreadCounter.Key(user)));
        Assert.Equal(1, await _client.UnreadAsync(user));
    }

    [Fact]
    public async Task An_order_cancelled_event_tells_the_customer_why()
    {
        var user = NotificationClient.NewUser();

        await _client.DeliverAsync(NotificationClient.Cancelled(user, reason: "the payment was declined")).AssertDaprStatusAsync("SUCCESS");

        var stored = Assert.Single((await _client.ListAsync(user)).Items);
        Assert.Equal(("order.cancelled", "Order cancelled"), (stored.Kind, stored.Title));
        Assert.EndsWith("the payment was declined", stored.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redelivered_event_creates_nothing_new_and_answers_success()
    {
        var user = NotificationClient.NewUser();
        Assert.Equal(0, await _client.UnreadAsync(user));
        var confirmed = NotificationClient.Confirmed(user);
        var eventId = Guid.NewGuid().ToString();

        await _client.DeliverAsync(confirmed, eventId).AssertDaprStatusAsync("SUCCESS");
        var first = Assert.Single((await _client.ListAsync(user)).Items);
        await _client.DeliverAsync(confirmed, eventId).AssertDaprStatusAsync("SUCCESS");

        Assert.Equal(first, Assert.Single((await _client.ListAsync(user)).Items));
        Assert.Equal(1, await notification.CountRowsForEventAsync(eventId));
        Assert.Equal(1, await _client.UnreadAsync(user));
    }

    [Fact]
    public async Task Concurrent_deliveries_of_one_event_store_one_notification_and_count_it_once()
    {
        var user = NotificationClient.NewUser();
        Assert.Equal(0, await _client.UnreadAsync(user));
        var confirmed = NotificationClient.Confirmed(user);
        var eventId = Guid.NewGuid().ToString();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _client.DeliverAsync(confirmed, eventId).AssertDaprStatusAsync("SUCCESS")));

        Assert.Equal(1, await notification.CountRowsForEventAsync(eventId));
        Assert.Equal(1L, (long)await notification.Redis.StringGetAsync(UnreadCounter.Key(user)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-the-app-token")]
    public async Task Only_the_sidecar_with_the_app_token_may_deliver(string? token)
    {
        var user = NotificationClient.NewUser();
        var eventId = Guid.NewGuid().ToString();

        using var response = await _client.DeliverAsync(NotificationClient.Confirmed(user), eventId, token);

        await response.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(0, await notification.CountRowsForEventAsync(eventId));
    }

    [Theory]
    [InlineData("\"an order\"", "a string, not an object")]
    [InlineData("{}", "no members at all")]
    [InlineData("null", "null data")]
    [InlineData("""{"orderId":"not-a-uuid","customerId":"alice","roomId":"8f7c1d1e-0000-0000-0000-000000000001","from":"2030-05-03","to":"2030-05-05","amount":240,"confirmedAt":"2030-05-01T10:00:00Z"}""", "a bad order id")]
    [InlineData("""{"orderId":"8f7c1d1e-0000-0000-0000-000000000002","customerId":null,"roomId":"8f7c1d1e-0000-0000-0000-000000000001","from":"2030-05-03","to":"2030-05-05","amount":240,"confirmedAt":"2030-05-01T10:00:00Z"}""", "a null customer")]
    [InlineData("""{"orderId":"8f7c1d1e-0000-0000-0000-000000000002","customerId":" ","roomId":"8f7c1d1e-0000-0000-0000-000000000001","from":"2030-05-03","to":"2030-05-05","amount":240,"confirmedAt":"2030-05-01T10:00:00Z"}""", "a blank customer")]
    [InlineData("""{"orderId":"8f7c1d1e-0000-0000-0000-000000000002","customerId":"alice","roomId":"8f7c1d1e-0000-0000-0000-000000000001","from":"2030-05-03","to":"2030-05-05","amount":240}""", "no confirmation time")]
    public async Task Data_that_is_not_the_event_is_dropped_and_nothing_is_stored(string dataJson, string because)
    {
        var eventId = Guid.NewGuid().ToString();

        await _client.DeliverRawAsync("order.confirmed", ConfirmedType, dataJson, eventId).AssertDaprStatusAsync("DROP");

        Assert.True(await notification.CountRowsForEventAsync(eventId) == 0, because);
    }

    [Fact]
    public async Task An_event_without_data_is_dropped()
    {
        var eventId = Guid.NewGuid().ToString();

        await _client.DeliverRawAsync("order.confirmed", ConfirmedType, dataJson: null, eventId).AssertDaprStatusAsync("DROP");

        Assert.Equal(0, await notification.CountRowsForEventAsync(eventId));
    }

    [Fact]
    public async Task An_event_of_a_version_this_build_does_not_know_is_dropped()
    {
        var user = NotificationClient.NewUser();
        var eventId = Guid.NewGuid().ToString();
        var data = System.Text.Json.JsonSerializer.Serialize(NotificationClient.Confirmed(user), System.Text.Json.JsonSerializerOptions.Web);

        await _client.DeliverRawAsync("order.confirmed", "cloudscale.order.confirmed.v2", data, eventId).AssertDaprStatusAsync("DROP");

        Assert.Equal(0, await notification.CountRowsForEventAsync(eventId));
        Assert.Empty((await _client.ListAsync(user)).Items);
    }
}
