namespace CloudScale.Notification.IntegrationEvents;

/// <summary>
/// The CloudEvent attributes Dapr.AspNetCore's <c>UseCloudEvents</c> forwards as request headers when asked to
/// (<c>Cloudevent.{name}</c>), so that a handler that reads the data as its body still knows the event's id and type.
/// </summary>
internal static class CloudEventHeaders
{
    public const string Id = "id";
    public const string Type = "type";

    /// <summary>The attribute's value; null when the request carried none (it was not a CloudEvent, or had no such attribute).</summary>
    public static string? Read(HttpRequest request, string attribute) =>
        request.Headers.TryGetValue("Cloudevent." + attribute, out var value) && !string.IsNullOrEmpty(value) ? value.ToString() : null;
}
