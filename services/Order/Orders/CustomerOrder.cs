namespace CloudScale.Order.Orders;

/// <summary>Where an order is: <see cref="Pending"/> while the booking saga runs, then confirmed or cancelled for good.</summary>
internal enum OrderStatus
{
    Pending,
    Confirmed,
    Cancelled,
}

/// <summary>A customer's order for a stay in one room, as GET /orders lists it.</summary>
internal sealed record CustomerOrder(
    Guid Id,
    string CustomerId,
    Guid RoomId,
    DateOnly From,
    DateOnly To,
    decimal Amount,
    OrderStatus Status,
    string? CancellationReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public bool IsFinal => Status != OrderStatus.Pending;
}

/// <summary>One status an order has had, and why (a cancellation reason).</summary>
internal sealed record OrderStatusChange(OrderStatus Status, string? Reason, DateTimeOffset ChangedAt);

/// <summary>An order as stored, with every status it has had.</summary>
internal sealed record StoredOrder(CustomerOrder Order, IReadOnlyList<OrderStatusChange> StatusHistory);

/// <summary>
/// How far the booking saga got: its workflow's runtime status (<c>RUNNING</c>, <c>COMPLETED</c>, …; <c>UNKNOWN</c> before
/// it starts), the step it is on, and the reservation and payment it holds.
/// </summary>
internal sealed record SagaProgress(string RuntimeStatus, string? Step, Guid? ReservationId, Guid? PaymentId);

/// <summary>The body of GET /orders/{id}: the order, every status it has had, and its saga.</summary>
internal sealed record OrderDetails(CustomerOrder Order, IReadOnlyList<OrderStatusChange> StatusHistory, SagaProgress Saga);

/// <summary>One page of GET /orders; pass <see cref="NextCursor"/> back as <c>cursor</c> for the next (null on the last page).</summary>
internal sealed record OrderPage(IReadOnlyList<CustomerOrder> Items, string? NextCursor);

/// <summary>Why an order was cancelled, as <c>cancellationReason</c> and <c>order.cancelled</c> carry it.</summary>
internal static class CancellationReasons
{
    public const string CustomerCancelled = "customer-cancelled";

    /// <summary>Another order holds the room for some of those nights, or the room does not exist.</summary>
    public const string RoomUnavailable = "room-unavailable";

    public const string PaymentDeclined = "payment-declined";

    /// <summary>The payment provider kept failing (or its circuit was open) when asked to authorize.</summary>
    public const string PaymentFailed = "payment-failed";

    /// <summary>The provider's confirmation did not arrive in time.</summary>
    public const string PaymentTimeout = "payment-timeout";

    /// <summary>The hold lapsed before it could be confirmed.</summary>
    public const string HoldExpired = "hold-expired";

    /// <summary>Booking kept failing when asked to hold the room or to confirm the hold.</summary>
    public const string BookingFailed = "booking-failed";
}
