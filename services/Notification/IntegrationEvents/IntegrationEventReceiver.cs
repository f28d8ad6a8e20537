using System.Text.Json;
using CloudScale.Notification.Notifications;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudScale.Notification.IntegrationEvents;

/// <summary>
/// Turns one delivery from the sidecar into a notification, answering in Dapr's terms: <c>SUCCESS</c> when the
/// notification is stored (now or by an earlier delivery of the same CloudEvent id), <c>DROP</c> for an event no retry
/// can fix (the sidecar then moves it to the dead-letter topic), and an error status, by letting the exception
/// through, when storing failed, so that the sidecar delivers it again.
/// </summary>
internal sealed partial class IntegrationEventReceiver(NotificationInbox inbox, ILogger<IntegrationEventReceiver> logger)
{
    /// <summary>
    /// Missing members and nulls in non-nullable ones are poison, not defaults; members this version does not know are
    /// ignored, so publishers can add fields without a new version.
    /// </summary>
    private static readonly JsonSerializerOptions EventJson = new(JsonSerializerDefaults.Web)
    {
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public async Task<Ok<SubscriptionReply>> ReceiveAsync<TEvent>(HttpContext context)
        where TEvent : class, IIntegrationEvent
    {
        var cancellationToken = context.RequestAborted;
        var eventId = CloudEventHeaders.Read(context.Request, CloudEventHeaders.Id);
        var type = CloudEventHeaders.Read(context.Request, CloudEventHeaders.Type);
        if (string.IsNullOrEmpty(eventId))
        {
            return Drop(TEvent.Topic, eventId, "it is not a CloudEvent with an id");
        }

        if (!string.Equals(type, TEvent.CloudEventType, StringComparison.Ordinal))
        {
            return Drop(TEvent.Topic, eventId, $"its type '{type}' is not {TEvent.CloudEventType}");
        }

        TEvent? integrationEvent;
        try
        {
            integrationEvent = await JsonSerializer.DeserializeAsync<TEvent>(context.Request.Body, EventJson, cancellationToken);
        }
        catch (JsonException exception)
        {
            return Drop(TEvent.Topic, eventId, $"its data is not a {typeof(TEvent).Name}: {exception.Message}");
        }

        if (integrationEvent is null || !UserIds.IsValid(integrationEvent.CustomerId))
        {
            return Drop(TEvent.Topic, eventId, "it names no valid customer");
        }

        var created = await inbox.ReceiveAsync(eventId, integrationEvent.ToNotification(), cancellationToken);
        if (!created)
        {
            LogDuplicate(logger, eventId, TEvent.Topic);
        }

        Count(TEvent.Topic, created ? "created" : "duplicate");
        return TypedResults.Ok(SubscriptionReply.Success);
    }

    private Ok<SubscriptionReply> Drop(string topic, string? eventId, string reason)
    {
        LogDropped(logger, eventId, topic, reason);
        Count(topic, "dropped");
        return TypedResults.Ok(SubscriptionReply.Drop);
    }

    private static void Count(string topic, string outcome) =>
        NotificationTelemetry.Events.Add(1, new KeyValuePair<string, object?>("topic", topic), new KeyValuePair<string, object?>("outcome", outcome));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped event {EventId} on topic {Topic} to the dead-letter topic: {Reason}")]
    private static partial void LogDropped(ILogger logger, string? eventId, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} on topic {Topic} was delivered again; its notification already exists")]
    private static partial void LogDuplicate(ILogger logger, string eventId, string topic);
}

/// <summary>The body a subscription answers the sidecar with (Dapr's <c>{"status": …}</c>).</summary>
internal sealed record SubscriptionReply(string Status)
{
    public static readonly SubscriptionReply Success = new("SUCCESS");

    public static readonly SubscriptionReply Drop = new("DROP");
}
