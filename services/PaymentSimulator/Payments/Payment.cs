using System.Text.Json.Serialization;

namespace CloudScale.PaymentSimulator.Payments;

internal enum PaymentStatus
{
    /// <summary>Accepted; the decision is posted to the callback URL after the configured latency.</summary>
    Pending,
    Authorized,
    Declined,
    Voided,
    Captured,
}

/// <summary>
/// A simulated payment. <see cref="Decision"/> is drawn when the authorization arrives (at the decline rate) and becomes
/// the status when the simulated provider "decides"; it is not shown to clients.
/// </summary>
internal sealed record Payment(
    Guid Id,
    Guid OrderId,
    decimal Amount,
    PaymentStatus Status,
    [property: JsonIgnore] PaymentStatus Decision,
    [property: JsonIgnore] Uri CallbackUrl);

/// <summary>The body of POST /payments/authorize.</summary>
internal sealed record AuthorizePaymentRequest(Guid? OrderId, decimal? Amount, Uri? CallbackUrl);

/// <summary>The answer to POST /payments/authorize: the decision follows at the callback URL.</summary>
internal sealed record PaymentAuthorizationAccepted(Guid PaymentId);

/// <summary>What the simulator posts to the callback URL once it has decided.</summary>
internal sealed record PaymentConfirmation(Guid PaymentId, Guid OrderId, PaymentStatus Status);
