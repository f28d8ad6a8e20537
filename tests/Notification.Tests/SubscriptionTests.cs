using System.Net;
using System.Text.Json;

namespace CloudScale.Notification.Tests;

public sealed class SubscriptionTests(NotificationServiceFixture notification) : IClassFixture<NotificationServiceFixture>
{
    private readonly HttpClient _client = notification.Client;

    [Fact]
    public async Task Dapr_subscribe_lists_both_topics_with_their_routes_and_the_dead_letter_topic()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dapr/subscribe");
        request.Headers.Add("dapr-api-token", NotificationService.AppToken);
        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);

        var subscriptions = (await response.ReadAsync<JsonElement>(HttpStatusCode.OK)).EnumerateArray()
            .Select(entry => (
                PubSub: entry.GetProperty("pubsubName").GetString(),
                Topic: entry.GetProperty("topic").GetString(),
                Route: entry.GetProperty("route").GetString(),
                DeadLetter: entry.GetProperty("deadLetterTopic").GetString()))
            .OrderBy(entry => entry.Topic, StringComparer.Ordinal);
        // Dapr.AspNetCore writes the route pattern as it is, without a leading slash; the sidecar calls it under the app's root.
        Assert.Equal(
            [
                ("pubsub", "order.cancelled", "integration-events/order.cancelled", "notification.deadletter"),
                ("pubsub", "order.confirmed", "integration-events/order.confirmed", "notification.deadletter"),
            ],
            subscriptions);
    }

    [Fact]
    public async Task Dapr_subscribe_requires_the_app_token()
    {
        using var response = await _client.GetAsync("/dapr/subscribe", TestContext.Current.CancellationToken);

        await response.ReadProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_notifications_api()
    {
        using var response = await _client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken);

        var paths = (await response.ReadAsync<JsonElement>(HttpStatusCode.OK)).GetProperty("paths");
        Assert.True(paths.TryGetProperty("/users/{userId}/notifications", out _), paths.ToString());
        Assert.True(paths.TryGetProperty("/users/{userId}/notifications/unread-count", out _));
        Assert.True(paths.TryGetProperty("/users/{userId}/notifications/{id}/read", out _));
        Assert.Contains("text/event-stream", paths.GetProperty("/users/{userId}/notifications/stream").ToString(), StringComparison.Ordinal);
    }
}
