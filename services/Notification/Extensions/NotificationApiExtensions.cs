using Dapr;
using CloudScale.Notification.IntegrationEvents;
using CloudScale.Notification.Notifications;

namespace CloudScale.Notification.Extensions;

internal static class NotificationApiExtensions
{
    /// <summary>The subscriptions the sidecar delivers to, the notifications API (see README.md) and its OpenAPI document at /openapi/v1.json.</summary>
    public static WebApplication MapNotificationApi(this WebApplication app)
    {
        // Subscription handlers read the CloudEvent's data as their body, and its id and type as headers.
        app.UseCloudEvents(new CloudEventsMiddlewareOptions
        {
            ForwardCloudEventPropertiesAsHeaders = true,
            IncludedCloudEventPropertiesAsHeaders = [CloudEventHeaders.Id, CloudEventHeaders.Type],
        });
        app.MapOpenApi();
        app.MapIntegrationEventSubscriptions();
        app.MapNotificationsApi();
        return app;
    }
}
