using CloudScale.ServiceDefaults.Errors;
using CloudScale.PaymentSimulator.Behaviour;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudScale.PaymentSimulator.Payments;

/// <summary>The simulated provider's API: authorize (decided later, by callback), void, capture, read.</summary>
internal static class PaymentsApi
{
    public static RouteGroupBuilder MapPaymentsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/payments").WithTags("Payments").FailAtErrorRate();
        api.MapPost("/authorize", Authorize);
        api.MapGet("/{id:guid}", GetPayment);
        api.MapPost("/{id:guid}/void", (Guid id, PaymentLedger ledger) => Answer(id, ledger.Void(id), "voided"));
        api.MapPost("/{id:guid}/capture", (Guid id, PaymentLedger ledger) => Answer(id, ledger.Capture(id), "captured"));
        return api;
    }

    /// <summary>
    /// Accepts an authorization and posts the decision to <c>callbackUrl</c> after the configured latency. Authorizing
    /// an order again answers its first payment and posts its decision again.
    /// </summary>
    public static Results<Accepted<PaymentAuthorizationAccepted>, ValidationProblem, ProblemHttpResult> Authorize(
        AuthorizePaymentRequest request, PaymentLedger ledger, PaymentCallbacks callbacks, BehaviourSettings behaviour)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.OrderId is null || request.OrderId == Guid.Empty)
        {
            errors["orderId"] = ["An order id is required."];
        }

        if (request.Amount is null or <= 0)
        {
            errors["amount"] = ["An amount above 0 is required."];
        }

        if (request.CallbackUrl is not { IsAbsoluteUri: true, Scheme: "http" or "https" })
        {
            errors["callbackUrl"] = ["An absolute http(s) callback URL is required."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The request is invalid.");
        }

        var decline = Random.Shared.NextDouble() < behaviour.Current.DeclineRate;
        if (ledger.Authorize(request.OrderId!.Value, request.Amount!.Value, request.CallbackUrl!, decline) is not { } payment)
        {
            return Problem(StatusCodes.Status409Conflict, "payment-amount-mismatch", "Order already authorized for another amount",
                $"Order {request.OrderId} already has a payment for a different amount.");
        }

        if (!callbacks.TrySchedule(payment.Id))
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "payments-overloaded", "Too many pending payments",
                "The simulator has too many decisions waiting; try again later.");
        }

        return TypedResults.Accepted($"/payments/{payment.Id}", new PaymentAuthorizationAccepted(payment.Id));
    }

    public static Results<Ok<Payment>, ProblemHttpResult> GetPayment(Guid id, PaymentLedger ledger) =>
        ledger.Find(id) is { } payment ? TypedResults.Ok(payment) : NotFound(id);

    private static Results<Ok<Payment>, ProblemHttpResult> Answer(Guid id, PaymentTransition transition, string change) => transition switch
    {
        { Payment: null } => NotFound(id),
        { Allowed: true, Payment: { } changed } => TypedResults.Ok(changed),
        { Payment: { } unchanged } => Problem(StatusCodes.Status409Conflict, "payment-state-conflict", "Payment cannot change",
            $"Payment {id} is {unchanged.Status.ToString().ToLowerInvariant()} and cannot be {change}."),
    };

    private static ProblemHttpResult NotFound(Guid id) =>
        Problem(StatusCodes.Status404NotFound, "payment-not-found", "Payment not found", $"There is no payment {id}.");

    private static ProblemHttpResult Problem(int status, string type, string title, string detail) =>
        DomainProblem.Create(status, type, title, detail);
}
