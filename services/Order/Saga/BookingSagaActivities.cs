using CloudScale.Order.Booking;
using CloudScale.Order.Orders;
using CloudScale.Order.Payments;
using Dapr.Workflow;
using Microsoft.Extensions.Options;

namespace CloudScale.Order.Saga;

// The saga's side effects, one activity each. Activities run at least once, so each is safe to repeat: Booking keys the
// hold by order, the provider keys the authorization by order, and every other call answers the same when repeated.

internal sealed class HoldRoomActivity(BookingClient booking) : WorkflowActivity<BookingSagaInput, HoldResult>
{
    public override Task<HoldResult> RunAsync(WorkflowActivityContext context, BookingSagaInput order) =>
        booking.HoldAsync(order, CancellationToken.None);
}

/// <summary>Confirms the hold: false when it lapsed or was released before the payment came through.</summary>
internal sealed class ConfirmReservationActivity(BookingClient booking) : WorkflowActivity<Guid, bool>
{
    public override Task<bool> RunAsync(WorkflowActivityContext context, Guid reservationId) =>
        booking.ConfirmAsync(reservationId, CancellationToken.None);
}

internal sealed class ReleaseReservationActivity(BookingClient booking) : WorkflowActivity<Guid, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, Guid reservationId)
    {
        await booking.ReleaseAsync(reservationId, CancellationToken.None);
        return true;
    }
}

/// <summary>Asks the provider to authorize the amount; it answers the payment id now and its decision at the callback.</summary>
internal sealed class AuthorizePaymentActivity(PaymentProviderClient payments, IOptions<BookingSagaOptions> options)
    : WorkflowActivity<BookingSagaInput, Guid>
{
    public override async Task<Guid> RunAsync(WorkflowActivityContext context, BookingSagaInput order) =>
        (await payments.AuthorizeAsync(order.OrderId, order.Amount, options.Value.PaymentCallbackUrl(), CancellationToken.None)).PaymentId;
}

/// <summary>Gives the authorization back. A payment the provider declined has nothing to give back.</summary>
internal sealed class VoidPaymentActivity(PaymentProviderClient payments) : WorkflowActivity<Guid, PaymentStatus>
{
    public override async Task<PaymentStatus> RunAsync(WorkflowActivityContext context, Guid paymentId)
    {
        try
        {
            return (await payments.VoidAsync(paymentId, CancellationToken.None)).Status;
        }
        catch (PaymentProviderException conflict) when (conflict.StatusCode == StatusCodes.Status409Conflict)
        {
            var payment = await payments.GetAsync(paymentId, CancellationToken.None);
            return payment.Status == PaymentStatus.Declined
                ? payment.Status
                : throw new InvalidOperationException($"Payment {paymentId} is {payment.Status} and cannot be voided.", conflict);
        }
    }
}

internal sealed class CapturePaymentActivity(PaymentProviderClient payments) : WorkflowActivity<Guid, PaymentStatus>
{
    public override async Task<PaymentStatus> RunAsync(WorkflowActivityContext context, Guid paymentId) =>
        (await payments.CaptureAsync(paymentId, CancellationToken.None)).Status;
}

/// <summary>Marks the order confirmed and writes <c>order.confirmed</c>; false when the customer cancelled it first.</summary>
internal sealed class ConfirmOrderActivity(OrderStore orders) : WorkflowActivity<Guid, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, Guid orderId) =>
        await orders.ConfirmAsync(orderId, CancellationToken.None) switch
        {
            (null, _) => throw new InvalidOperationException($"Order {orderId} does not exist."),
            ({ } order, var changed) => changed || order.Status == OrderStatus.Confirmed,
        };
}

/// <summary>Marks the order cancelled with its reason and writes <c>order.cancelled</c>, unless the customer already cancelled it.</summary>
internal sealed class CancelOrderActivity(OrderStore orders) : WorkflowActivity<OrderCancellation, OrderStatus>
{
    public override async Task<OrderStatus> RunAsync(WorkflowActivityContext context, OrderCancellation cancellation) =>
        (await orders.CancelAsync(cancellation.OrderId, cancellation.Reason, CancellationToken.None)).Order?.Status
        ?? throw new InvalidOperationException($"Order {cancellation.OrderId} does not exist.");
}
