using CloudScale.ServiceDefaults.Errors;
using CloudScale.Order.Orders;
using CloudScale.Order.Payments;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudScale.Order.Api;

/// <summary>The problem details (RFC 9457) Order answers with, each with a stable <c>type</c> a client can branch on.</summary>
internal static class Problems
{
    public static ProblemHttpResult OrderNotFound(Guid orderId) =>
        Problem(StatusCodes.Status404NotFound, "order-not-found", "Order not found", $"There is no order {orderId}.");

    public static ProblemHttpResult IdempotencyKeyReused(string key) =>
        Problem(StatusCodes.Status422UnprocessableEntity, "idempotency-key-reused", "Idempotency key reused",
            $"The Idempotency-Key '{key}' was already used for a different request; use a new key for a new order.");

    /// <summary>429 with <c>Retry-After</c>, which it sets on <paramref name="response"/>.</summary>
    public static ProblemHttpResult TooManyOrders(HttpResponse response, string customerId, TimeSpan retryAfter) =>
        Problem(StatusCodes.Status429TooManyRequests, "too-many-orders", "Too many orders",
            $"Customer '{customerId}' has placed as many orders as it may for now; try again in {RetryAfter.Set(response, retryAfter)} s (Retry-After).");

    /// <summary>503 with <c>Retry-After</c>, which it sets on <paramref name="response"/>: the sidecar did not answer about the saga.</summary>
    public static ProblemHttpResult SagaUnavailable(HttpResponse response, Guid orderId) =>
        Problem(StatusCodes.Status503ServiceUnavailable, "saga-unavailable", "Saga unavailable",
            $"The booking saga of order {orderId} cannot be reached right now; try again in {RetryAfter.Set(response, TimeSpan.FromSeconds(5))} s (Retry-After).");

    /// <summary>503 with <c>Retry-After</c>, which it sets on <paramref name="response"/>: the payment provider could not be asked.</summary>
    public static ProblemHttpResult PaymentProviderUnavailable(HttpResponse response, Guid paymentId) =>
        Problem(StatusCodes.Status503ServiceUnavailable, "payment-provider-unavailable", "Payment provider unavailable",
            $"The payment provider could not be asked about payment {paymentId}; try again in {RetryAfter.Set(response, TimeSpan.FromSeconds(5))} s (Retry-After).");

    public static ProblemHttpResult OrderAlreadyFinal(CustomerOrder order) =>
        Problem(StatusCodes.Status409Conflict, "order-final", "Order already final",
            $"Order {order.Id} is already {order.Status.ToString().ToLowerInvariant()} and can no longer be cancelled.");

    public static ProblemHttpResult PaymentNotFound(Guid paymentId) =>
        Problem(StatusCodes.Status404NotFound, "payment-not-found", "Payment not found", $"The payment provider has no payment {paymentId}.");

    public static ProblemHttpResult PaymentUndecided(Guid paymentId, PaymentStatus status) =>
        Problem(StatusCodes.Status409Conflict, "payment-undecided", "Payment not decided",
            $"The payment provider reports payment {paymentId} as {status.ToString().ToLowerInvariant()}, not as authorized or declined.");

    private static ProblemHttpResult Problem(int status, string type, string title, string detail) =>
        DomainProblem.Create(status, type, title, detail);
}
