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

/// <summary>How far the booking saga got; its steps are the order's status history until the saga records its own.</summary>
internal sealed record SagaProgress(IReadOnlyList<OrderStatusChange> Steps);

/// <summary>The body of GET /orders/{id}.</summary>
internal sealed record OrderDetails(CustomerOrder Order, SagaProgress Saga);

/// <summary>One page of GET /orders; pass <see cref="NextCursor"/> back as <c>cursor</c> for the next (null on the last page).</summary>
internal sealed record OrderPage(IReadOnlyList<CustomerOrder> Items, string? NextCursor);

/// <summary>Why an order was cancelled, as <c>cancellationReason</c> and <c>order.cancelled</c> carry it.</summary>
internal static class CancellationReasons
{
    public const string CustomerCancelled = "customer-cancelled";
}
