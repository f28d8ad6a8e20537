using System.Net;
using System.Text;
using System.Text.Json;
using CloudScale.Notification.IntegrationEvents;
using CloudScale.Notification.Notifications;

namespace CloudScale.Notification.Tests;

/// <summary>The calls and assertions the tests share: Notification's API as the sidecar and a client see it.</summary>
internal static class NotificationClient
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>A user no other test touches.</summary>
    public static string NewUser() => "user-" + Guid.NewGuid().ToString("N")[..12];

    public static OrderConfirmedIntegrationEvent Confirmed(string userId, decimal amount = 240m) =>
        new(Guid.NewGuid(), userId, Guid.NewGuid(), new DateOnly(2030, 5, 3), new DateOnly(2030, 5, 5), amount, DateTimeOffset.UtcNow);

    public static OrderCancelledIntegrationEvent Cancelled(string userId, string reason = "payment declined") =>
        new(Guid.NewGuid(), userId, reason, DateTimeOffset.UtcNow);

    /// <summary>Delivers <paramref name="integrationEvent"/> as the sidecar does: a CloudEvent with its v1 type, posted to its topic's route.</summary>
    public static Task<HttpResponseMessage> DeliverAsync<TEvent>(
        this HttpClient client, TEvent integrationEvent, string? eventId = null, string? token = NotificationService.AppToken)
        where TEvent : IIntegrationEvent =>
        client.DeliverRawAsync(TEvent.Topic, TEvent.CloudEventType, JsonSerializer.Serialize(integrationEvent, JsonSerializerOptions.Web), eventId, token);

    /// <summary>Delivers a CloudEvent whose <c>data</c> is the JSON text <paramref name="dataJson"/> (none when null), for events a publisher should never produce.</summary>
    public static Task<HttpResponseMessage> DeliverRawAsync(
        this HttpClient client, string topic, string type, string? dataJson, string? eventId = null, string? token = NotificationService.AppToken)
    {
        var envelope = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["specversion"] = "1.0",
            ["id"] = eventId ?? Guid.NewGuid().ToString(),
            ["source"] = "order",
            ["type"] = type,
            ["datacontenttype"] = "application/json",
            ["pubsubname"] = "pubsub",
            ["topic"] = topic,
        };
        if (dataJson is not null)
        {
            envelope["data"] = JsonDocument.Parse(dataJson).RootElement;
        }

        var request = new HttpRequestMessage(HttpMethod.Post, $"/integration-events/{topic}")
        {
            Content = new StringContent(JsonSerializer.Serialize(envelope), Encoding.UTF8, "application/cloudevents+json"),
        };
        if (token is not null)
        {
            request.Headers.Add("dapr-api-token", token);
        }

        return client.SendAsync(request, Cancellation);
    }

    /// <summary>Asserts the subscription answered 200 with Dapr status <paramref name="expected"/> (SUCCESS, DROP).</summary>
    public static async Task AssertDaprStatusAsync(this Task<HttpResponseMessage> delivery, string expected)
    {
        using var response = await delivery;
        var reply = await response.ReadAsync<JsonElement>(HttpStatusCode.OK);
        Assert.Equal(expected, reply.GetProperty("status").GetString());
    }

    public static async Task<NotificationPage> ListAsync(this HttpClient client, string userId, string query = "")
    {
        using var response = await client.GetAsync($"/users/{userId}/notifications{query}", Cancellation);
        return await response.ReadAsync<NotificationPage>(HttpStatusCode.OK);
    }

    public static async Task<long> UnreadAsync(this HttpClient client, string userId)
    {
        using var response = await client.GetAsync($"/users/{userId}/notifications/unread-count", Cancellation);
        return (await response.ReadAsync<UnreadCount>(HttpStatusCode.OK)).Unread;
    }

    public static Task<HttpResponseMessage> MarkReadAsync(this HttpClient client, string userId, object id) =>
        client.PostAsync($"/users/{userId}/notifications/{id}/read", content: null, Cancellation);

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == expected, $"Expected {expected}, got {response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<T>(body, JsonSerializerOptions.Web)!;
    }

    /// <summary>Asserts an RFC 9457 problem with the status and a trace id; returns its body.</summary>
    public static async Task<JsonElement> ReadProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var problem = await response.ReadAsync<JsonElement>(expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
        return problem;
    }

    /// <summary>Stores one notification for <paramref name="userId"/> through a delivery; returns it as the list shows it.</summary>
    public static async Task<UserNotification> CreateNotificationAsync(this HttpClient client, string userId)
    {
        await client.DeliverAsync(Confirmed(userId)).AssertDaprStatusAsync("SUCCESS");
        return (await client.ListAsync(userId, "?limit=1")).Items.Single();
    }
}
