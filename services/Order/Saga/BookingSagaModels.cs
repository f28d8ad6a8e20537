using CloudScale.Order.Orders;

namespace CloudScale.Order.Saga;

/// <summary>
/// What the booking saga of one order needs. The confirmation timeout travels with the instance, so that a replay
/// reads the value the instance started with even after the configuration changed.
/// </summary>
internal sealed record BookingSagaInput(
    Guid OrderId, string CustomerId, Guid RoomId, DateOnly From, DateOnly To, decimal Amount, TimeSpan PaymentConfirmationTimeout)
{
    /// <summary>The workflow instance of an order: one saga per order, so scheduling it twice is refused.</summary>
    public static string InstanceIdOf(Guid orderId) => orderId.ToString("N");
}

/// <summary>How the saga ended: the order confirmed, or cancelled with the reason.</summary>
internal sealed record BookingSagaResult(OrderStatus Status, string? CancellationReason);

/// <summary>
/// Where the saga is, as its workflow custom status: the step it is on and what it has taken so far (the hold and the
/// payment compensation gives back). GET /orders/{id} shows it.
/// </summary>
internal sealed record BookingSagaProgress(string Step, Guid? ReservationId = null, Guid? PaymentId = null, string? CancellationReason = null);

/// <summary>The saga's steps, as <see cref="BookingSagaProgress.Step"/> names them.</summary>
internal static class BookingSagaSteps
{
    public const string HoldingRoom = "holding-room";
    public const string AuthorizingPayment = "authorizing-payment";
    public const string AwaitingPaymentConfirmation = "awaiting-payment-confirmation";
    public const string ConfirmingReservation = "confirming-reservation";
    public const string ConfirmingOrder = "confirming-order";
    public const string CapturingPayment = "capturing-payment";
    public const string Confirmed = "confirmed";
    public const string Compensating = "compensating";
    public const string Cancelled = "cancelled";
}

/// <summary>The external events the saga waits for.</summary>
internal static class BookingSagaEvents
{
    /// <summary>The payment provider decided (its callback, verified with the provider): a <see cref="PaymentDecision"/>.</summary>
    public const string PaymentDecided = "PaymentDecided";

    /// <summary>The customer cancelled the order (POST /orders/{id}/cancel).</summary>
    public const string CancelRequested = "CancelRequested";
}

/// <summary>The provider's decision on a payment.</summary>
internal sealed record PaymentDecision(Guid PaymentId, bool Authorized);

/// <summary>What came of holding the room: the reservation, or why there is none (a cancellation reason).</summary>
internal sealed record HoldResult(Guid? ReservationId, string? RefusalReason);

/// <summary>The order to cancel and why.</summary>
internal sealed record OrderCancellation(Guid OrderId, string Reason);
