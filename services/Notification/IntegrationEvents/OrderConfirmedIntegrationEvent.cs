using System.Globalization;
using CloudScale.Notification.Notifications;

namespace CloudScale.Notification.IntegrationEvents;

/// <summary>Published by Order once the booking saga has confirmed the reservation and charged the customer (README.md, "Integration events").</summary>
internal sealed record OrderConfirmedIntegrationEvent(
    Guid OrderId, string CustomerId, Guid RoomId, DateOnly From, DateOnly To, decimal Amount, DateTimeOffset ConfirmedAt) : IIntegrationEvent
{
    public static string Topic => "order.confirmed";

    public static string CloudEventType => "cloudscale.order.confirmed.v1";

    public NewNotification ToNotification() => new(
        CustomerId,
        Topic,
        "Booking confirmed",
        string.Create(CultureInfo.InvariantCulture, $"Your stay from {From:yyyy-MM-dd} to {To:yyyy-MM-dd} is booked (order {OrderId}); {Amount:0.00} was charged."));
}
