using CloudScale.Notification.Notifications;

namespace CloudScale.Notification.IntegrationEvents;

/// <summary>Published by Order when an order ends without a booking: the saga compensated or the customer cancelled (README.md, "Integration events").</summary>
internal sealed record OrderCancelledIntegrationEvent(Guid OrderId, string CustomerId, string Reason, DateTimeOffset CancelledAt) : IIntegrationEvent
{
    public static string Topic => "order.cancelled";

    public static string CloudEventType => "cloudscale.order.cancelled.v1";

    public NewNotification ToNotification() => new(CustomerId, Topic, "Order cancelled", $"Your order {OrderId} was cancelled: {Reason}");
}
