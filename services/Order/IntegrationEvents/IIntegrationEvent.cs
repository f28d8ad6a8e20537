namespace CloudScale.Order.IntegrationEvents;

/// <summary>
/// An event Order publishes for other services (README.md, "Integration events"). The record is the contract: a change
/// that a consumer could not read gets a new CloudEvent type (<c>….v2</c>), published beside the old one until consumers move.
/// </summary>
internal interface IIntegrationEvent
{
    /// <summary>The pub/sub topic it is published on.</summary>
    static abstract string Topic { get; }

    /// <summary>The CloudEvent <c>type</c>, versioned.</summary>
    static abstract string CloudEventType { get; }
}

/// <summary>The booking saga confirmed the reservation and the payment.</summary>
internal sealed record OrderConfirmedIntegrationEvent(
    Guid OrderId, string CustomerId, Guid RoomId, DateOnly From, DateOnly To, decimal Amount, DateTimeOffset ConfirmedAt) : IIntegrationEvent
{
    public static string Topic => "order.confirmed";

    public static string CloudEventType => "cloudscale.order.confirmed.v1";
}

/// <summary>The order ended without a booking: the customer cancelled it or the saga compensated; <see cref="Reason"/> says which.</summary>
internal sealed record OrderCancelledIntegrationEvent(Guid OrderId, string CustomerId, string Reason, DateTimeOffset CancelledAt) : IIntegrationEvent
{
    public static string Topic => "order.cancelled";

    public static string CloudEventType => "cloudscale.order.cancelled.v1";
}
