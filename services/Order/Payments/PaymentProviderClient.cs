using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CloudScale.Order.Payments;

/// <summary>What the payment provider says a payment is.</summary>
internal enum PaymentStatus
{
    Pending,
    Authorized,
    Declined,
    Voided,
    Captured,
}

/// <summary>A payment as the provider reports it.</summary>
internal sealed record Payment(Guid Id, Guid OrderId, decimal Amount, PaymentStatus Status);

/// <summary>The provider's answer to an authorization: it decides later and posts the decision to the callback URL.</summary>
internal sealed record PaymentAuthorizationAccepted(Guid PaymentId);

/// <summary>The provider answered with an error the resilience pipeline did not (or no longer) retry.</summary>
internal sealed class PaymentProviderException(HttpMethod method, string path, int statusCode, string body)
    : Exception($"The payment provider answered {method} {path} with {statusCode}: {body}")
{
    public int StatusCode { get; } = statusCode;
}

/// <summary>
/// The external payment provider (the PaymentSimulator in development), at <c>http://payments</c> through service discovery.
/// Every call goes through the ServiceDefaults resilience pipeline of this client: retries of transient failures,
/// a per-attempt timeout and a circuit breaker that, once the provider keeps failing, fails calls at once with
/// <c>Polly.CircuitBreaker.BrokenCircuitException</c> instead of waiting on it.
/// </summary>
internal sealed class PaymentProviderClient(HttpClient http)
{
    public const string ServiceName = "payments";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Asks for an authorization of <paramref name="amount"/>; repeat-safe per order (the provider answers the first payment).</summary>
    public Task<PaymentAuthorizationAccepted> AuthorizeAsync(Guid orderId, decimal amount, Uri callbackUrl, CancellationToken cancellationToken) =>
        SendAsync<PaymentAuthorizationAccepted>(HttpMethod.Post, "/payments/authorize", new { orderId, amount, callbackUrl }, cancellationToken);

    public Task<Payment> GetAsync(Guid paymentId, CancellationToken cancellationToken) =>
        SendAsync<Payment>(HttpMethod.Get, $"/payments/{paymentId}", body: null, cancellationToken);

    /// <summary>Cancels an authorization: the saga's compensation. Voiding again answers the voided payment.</summary>
    public Task<Payment> VoidAsync(Guid paymentId, CancellationToken cancellationToken) =>
        SendAsync<Payment>(HttpMethod.Post, $"/payments/{paymentId}/void", body: null, cancellationToken);

    public Task<Payment> CaptureAsync(Guid paymentId, CancellationToken cancellationToken) =>
        SendAsync<Payment>(HttpMethod.Post, $"/payments/{paymentId}/capture", body: null, cancellationToken);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body, options: Json) };
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new PaymentProviderException(method, path, (int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }

        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
            ?? throw new PaymentProviderException(method, path, (int)response.StatusCode, "an empty body");
    }
}
