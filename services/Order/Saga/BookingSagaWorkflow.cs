using CloudScale.Order.Orders;
using Dapr.Workflow;

namespace CloudScale.Order.Saga;

/// <summary>
/// The booking saga of one order: hold the room → authorize the payment → wait for the provider's decision (or the
/// customer's cancel, or the timeout) → confirm the reservation → confirm the order (publishing <c>order.confirmed</c>) →
/// capture the payment. Whatever stops it on the way gives back what it took, in reverse: void the payment, release the
/// hold, cancel the order with the reason (publishing <c>order.cancelled</c>).
/// Confirming the order is the point of no return: it succeeds only while the order is still pending, so a customer's
/// cancel that got there first turns the saga into compensation even after the payment was authorized.
/// </summary>
internal sealed class BookingSagaWorkflow : Workflow<BookingSagaInput, BookingSagaResult>
{
    // Transient failures of Booking or the provider are retried durably; what still fails after that is compensated.
    private static readonly WorkflowTaskOptions Forward = new(new WorkflowRetryPolicy(
        maxNumberOfAttempts: 4, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2));

    // Giving back must not give up early: a hold or an authorization left behind costs the customer.
    private static readonly WorkflowTaskOptions Compensation = new(new WorkflowRetryPolicy(
        maxNumberOfAttempts: 10, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(1)));

    public override async Task<BookingSagaResult> RunAsync(WorkflowContext context, BookingSagaInput order)
    {
        var progress = Report(context, new BookingSagaProgress(BookingSagaSteps.HoldingRoom));
        HoldResult hold;
        try
        {
            hold = await context.CallActivityAsync<HoldResult>(nameof(HoldRoomActivity), order, Forward);
        }
        catch (WorkflowTaskFailedException)
        {
            return await CompensateAsync(context, order, progress, CancellationReasons.BookingFailed);
        }

        if (hold.ReservationId is not { } reservationId)
        {
            return await CompensateAsync(context, order, progress, hold.RefusalReason ?? CancellationReasons.RoomUnavailable);
        }

        progress = Report(context, progress with { Step = BookingSagaSteps.AuthorizingPayment, ReservationId = reservationId });
        Guid paymentId;
        try
        {
            paymentId = await context.CallActivityAsync<Guid>(nameof(AuthorizePaymentActivity), order, Forward);
        }
        catch (WorkflowTaskFailedException)
        {
            return await CompensateAsync(context, order, progress, CancellationReasons.PaymentFailed);
        }

        progress = Report(context, progress with { Step = BookingSagaSteps.AwaitingPaymentConfirmation, PaymentId = paymentId });
        if (await WaitForPaymentAsync(context, order, paymentId) is { } stopReason)
        {
            return await CompensateAsync(context, order, progress, stopReason);
        }

        progress = Report(context, progress with { Step = BookingSagaSteps.ConfirmingReservation });
        bool reservationConfirmed;
        try
        {
            reservationConfirmed = await context.CallActivityAsync<bool>(nameof(ConfirmReservationActivity), reservationId, Forward);
        }
        catch (WorkflowTaskFailedException)
        {
            return await CompensateAsync(context, order, progress, CancellationReasons.BookingFailed);
        }

        if (!reservationConfirmed)
        {
            return await CompensateAsync(context, order, progress, CancellationReasons.HoldExpired);
        }

        progress = Report(context, progress with { Step = BookingSagaSteps.ConfirmingOrder });
        if (!await context.CallActivityAsync<bool>(nameof(ConfirmOrderActivity), order.OrderId, Compensation))
        {
            return await CompensateAsync(context, order, progress, CancellationReasons.CustomerCancelled);
        }

        progress = Report(context, progress with { Step = BookingSagaSteps.CapturingPayment });
        await context.CallActivityAsync<Payments.PaymentStatus>(nameof(CapturePaymentActivity), paymentId, Compensation);
        Report(context, progress with { Step = BookingSagaSteps.Confirmed });
        return new BookingSagaResult(OrderStatus.Confirmed, CancellationReason: null);
    }

    /// <summary>Null once the provider authorized the payment; otherwise why the saga stops.</summary>
    private static async Task<string?> WaitForPaymentAsync(WorkflowContext context, BookingSagaInput order, Guid paymentId)
    {
        using var stopWaiting = new CancellationTokenSource();
        var cancelled = context.WaitForExternalEventAsync<object?>(BookingSagaEvents.CancelRequested, stopWaiting.Token);
        var timeout = context.CreateTimer(order.PaymentConfirmationTimeout, stopWaiting.Token);
        while (true)
        {
            // A decision about another payment (a stale callback) is not this one's: wait for the next.
            var decided = context.WaitForExternalEventAsync<PaymentDecision>(BookingSagaEvents.PaymentDecided, stopWaiting.Token);
            var first = await Task.WhenAny(cancelled, decided, timeout);
            if (first == decided && decided.Result.PaymentId != paymentId)
            {
                continue;
            }

            // Synchronously: the callbacks must run on the workflow's own dispatcher, which CancelAsync would leave.
            stopWaiting.Cancel();
            return first == cancelled ? CancellationReasons.CustomerCancelled
                : first == timeout ? CancellationReasons.PaymentTimeout
                : decided.Result.Authorized ? null
                : CancellationReasons.PaymentDeclined;
        }
    }

    private static async Task<BookingSagaResult> CompensateAsync(WorkflowContext context, BookingSagaInput order, BookingSagaProgress progress, string reason)
    {
        progress = Report(context, progress with { Step = BookingSagaSteps.Compensating, CancellationReason = reason });
        if (progress.PaymentId is { } paymentId)
        {
            await context.CallActivityAsync<Payments.PaymentStatus>(nameof(VoidPaymentActivity), paymentId, Compensation);
        }

        if (progress.ReservationId is { } reservationId)
        {
            await context.CallActivityAsync<bool>(nameof(ReleaseReservationActivity), reservationId, Compensation);
        }

        await context.CallActivityAsync<OrderStatus>(nameof(CancelOrderActivity), new OrderCancellation(order.OrderId, reason), Compensation);
        Report(context, progress with { Step = BookingSagaSteps.Cancelled });
        return new BookingSagaResult(OrderStatus.Cancelled, reason);
    }

    private static BookingSagaProgress Report(WorkflowContext context, BookingSagaProgress progress)
    {
        context.SetCustomStatus(progress);
        return progress;
    }
}
