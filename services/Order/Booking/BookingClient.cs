using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudScale.Order.Orders;
using CloudScale.Order.Saga;
using CloudScale.ServiceDefaults.Errors;
using Dapr.Client;

namespace CloudScale.Order.Booking;

/// <summary>A reservation as Booking answers it (the fields the saga reads).</summary>
internal sealed record BookingReservation(Guid Id, string Status);

/// <summary>Booking answered something the saga cannot act on: retried by the activity's retry policy, then compensated.</summary>
internal sealed class BookingUnavailableException(string message) : Exception(message);

/// <summary>
/// Booking's reservation API, reached only through Dapr service invocation (app id <c>booking</c>) with the SDK's
/// invocation HttpClient (<see cref="DaprClient.CreateInvokeHttpClient"/>): the sidecar resolves the app, applies the
/// Resiliency policy of the <c>booking</c> target (the only layer that retries these calls) and carries the trace. Every
/// call is repeat-safe, because activities run at least once: a hold is keyed by the order, confirm and release answer
/// the same when repeated.
/// </summary>
internal sealed class BookingClient(HttpClient http)
{
    public const string AppId = "booking";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Holds the room for the order; a refusal (taken, no such room) is an answer, not a failure.</summary>
    public async Task<HoldResult> HoldAsync(BookingSagaInput order, CancellationToken cancellationToken)
    {
        var body = new { order.RoomId, order.CustomerId, order.From, order.To, order.OrderId };
        using var response = await SendAsync("reservations", JsonContent.Create(body, options: Json), cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return new HoldResult(await ReadReservationAsync(response, cancellationToken), RefusalReason: null);
        }

        return await ProblemTypeAsync(response, cancellationToken) switch
        {
            "room-unavailable" or "room-not-found" => new HoldResult(null, CancellationReasons.RoomUnavailable),
            _ => throw await UnexpectedAsync(response, "hold", cancellationToken),
        };
    }

    /// <summary>Confirms the hold; false when it can no longer be confirmed (it expired or was released).</summary>
    public async Task<bool> ConfirmAsync(Guid reservationId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync($"reservations/{reservationId}/confirm", content: null, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return true;
        }

        return await ProblemTypeAsync(response, cancellationToken) switch
        {
            "reservation-expired" or "reservation-released" => false,
            _ => throw await UnexpectedAsync(response, "confirm", cancellationToken),
        };
    }

    /// <summary>Frees the room; releasing a reservation that no longer holds it answers it as it is.</summary>
    public async Task ReleaseAsync(Guid reservationId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync($"reservations/{reservationId}/release", content: null, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await UnexpectedAsync(response, "release", cancellationToken);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using (content)
        {
            // http://booking/{path}: the SDK's handler sends it to the sidecar as /v1.0/invoke/booking/method/{path}.
            var response = await http.PostAsync(new Uri(path, UriKind.Relative), content, cancellationToken);
            // An error body is read twice (its problem type, then the message), so it must not be a one-pass stream.
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            return response;
        }
    }

    private static async Task<Guid> ReadReservationAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        (await response.Content.ReadFromJsonAsync<BookingReservation>(Json, cancellationToken))?.Id
        ?? throw new BookingUnavailableException("Booking answered a hold without a reservation.");

    /// <summary>The problem <c>type</c>'s last segment of a 404/409 answer; null for anything else.</summary>
    private static async Task<string?> ProblemTypeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.Conflict))
        {
            return null;
        }

        try
        {
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return problem.RootElement.ValueKind == JsonValueKind.Object && problem.RootElement.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                ? DomainProblem.ShortType(type.GetString())
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<BookingUnavailableException> UnexpectedAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken) =>
        new($"Booking answered the {operation} with {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
}
