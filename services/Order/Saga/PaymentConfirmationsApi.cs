using CloudScale.Order.Api;
using CloudScale.Order.Payments;
using CloudScale.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace CloudScale.Order.Saga;

/// <summary>The body the payment provider posts to the callback URL it was given.</summary>
internal sealed record PaymentConfirmationRequest(Guid? PaymentId);

/// <summary>The payment provider's callback: it says a payment was decided, and the order's saga goes on.</summary>
internal static class PaymentConfirmationsApi
{
    public static RouteHandlerBuilder MapPaymentConfirmations(this IEndpointRouteBuilder app) =>
        app.MapPost(BookingSagaOptions.PaymentConfirmationPath, ConfirmPaymentAsync).WithTags("Payment provider callbacks");

    /// <summary>
    /// The callback is not trusted: only the payment id is read from it, and the decision and its order are asked of the
    /// provider, so a forged or replayed callback can at most repeat what the provider says. While the sidecar does not
    /// answer, or the provider cannot be asked, the callback gets 503, and the provider delivers it again.
    /// </summary>
    public static async Task<Results<Accepted, ValidationProblem, ProblemHttpResult>> ConfirmPaymentAsync(
        PaymentConfirmationRequest confirmation, PaymentProviderClient payments, BookingSagas sagas, HttpResponse response, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().When(confirmation.PaymentId is null || confirmation.PaymentId == Guid.Empty, "paymentId", "A payment id is required.");
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        Payment payment;
        try
        {
            payment = await payments.GetAsync(confirmation.PaymentId!.Value, cancellationToken);
        }
        catch (PaymentProviderException unknown) when (unknown.StatusCode == StatusCodes.Status404NotFound)
        {
            return Problems.PaymentNotFound(confirmation.PaymentId!.Value);
        }
        catch (Exception unreachable) when (unreachable is PaymentProviderException or HttpRequestException or BrokenCircuitException or TimeoutRejectedException
                                            && !cancellationToken.IsCancellationRequested)
        {
            // The provider could not say what was decided; it delivers the callback again.
            return Problems.PaymentProviderUnavailable(response, confirmation.PaymentId!.Value);
        }

        if (payment.Status is not (PaymentStatus.Authorized or PaymentStatus.Declined or PaymentStatus.Captured))
        {
            return Problems.PaymentUndecided(payment.Id, payment.Status);
        }

        var decision = new PaymentDecision(payment.Id, Authorized: payment.Status != PaymentStatus.Declined);
        try
        {
            return await sagas.DeliverPaymentDecisionAsync(payment.OrderId, decision, cancellationToken)
                ? TypedResults.Accepted((string?)null)
                : Problems.OrderNotFound(payment.OrderId);
        }
        catch (SagaUnavailableException)
        {
            return Problems.SagaUnavailable(response, payment.OrderId);
        }
    }
}
