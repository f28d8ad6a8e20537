using System.Diagnostics;
using CloudScale.Booking.Api;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudScale.Booking.Reservations;

/// <summary>
/// Holds, confirmations and releases; the Order saga calls these through Dapr service invocation, so only the sidecar
/// (presenting <c>APP_API_TOKEN</c>) may. Reading a reservation is open to anyone.
/// </summary>
internal static class ReservationsApi
{
    public static RouteGroupBuilder MapReservationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/reservations").WithTags("Reservations");
        api.MapPost("/", HoldAsync).RequireAuthorization(DaprSidecarExtensions.SidecarPolicy);
        api.MapGet("/{id:guid}", GetReservationAsync);
        api.MapPost("/{id:guid}/confirm", ConfirmAsync).RequireAuthorization(DaprSidecarExtensions.SidecarPolicy);
        api.MapPost("/{id:guid}/release", ReleaseAsync).RequireAuthorization(DaprSidecarExtensions.SidecarPolicy);
        return api;
    }

    /// <summary>Holds a room until the configured deadline. Repeating the hold of an order answers 200 with the first one.</summary>
    public static async Task<Results<Created<Reservation>, Ok<Reservation>, ValidationProblem, ProblemHttpResult>> HoldAsync(
        HoldRequest request, ReservationStore reservations, CancellationToken cancellationToken)
    {
        var (hold, errors) = request.Validate(DateOnly.FromDateTime(DateTime.UtcNow));
        if (hold is null)
        {
            return errors.ToProblem();
        }

        var outcome = await reservations.HoldAsync(hold, cancellationToken);
        BookingTelemetry.Holds.Add(1, new KeyValuePair<string, object?>("outcome", outcome.GetType().Name));
        return outcome switch
        {
            HoldOutcome.Created(var reservation) => TypedResults.Created($"/reservations/{reservation.Id}", reservation),
            HoldOutcome.Repeated(var reservation) => TypedResults.Ok(reservation),
            HoldOutcome.RoomUnavailable => Problems.RoomUnavailable(hold.RoomId, hold.From, hold.To),
            HoldOutcome.RoomNotFound => Problems.RoomNotFound(hold.RoomId),
            HoldOutcome.OrderAlreadyReserved(var existing) => Problems.OrderAlreadyReserved(hold.OrderId, existing.Id),
            _ => throw new UnreachableException($"Unknown hold outcome {outcome}."),
        };
    }

    public static async Task<Results<Ok<Reservation>, ProblemHttpResult>> GetReservationAsync(
        Guid id, ReservationStore reservations, CancellationToken cancellationToken) =>
        await reservations.FindAsync(id, cancellationToken) is { } reservation
            ? TypedResults.Ok(reservation)
            : Problems.ReservationNotFound(id);

    /// <summary>Confirms a live hold; confirming again answers the same confirmed reservation.</summary>
    public static async Task<Results<Ok<Reservation>, ProblemHttpResult>> ConfirmAsync(
        Guid id, ReservationStore reservations, CancellationToken cancellationToken)
    {
        if (await reservations.ConfirmAsync(id, cancellationToken) is { } confirmed)
        {
            return TypedResults.Ok(confirmed);
        }

        return await reservations.FindAsync(id, cancellationToken) switch
        {
            null => Problems.ReservationNotFound(id),
            { Status: ReservationStatus.Confirmed } alreadyConfirmed => TypedResults.Ok(alreadyConfirmed),
            { Status: ReservationStatus.Released } => Problems.ReservationReleased(id),
            _ => Problems.ReservationExpired(id),
        };
    }

    /// <summary>
    /// Frees the room. A reservation that no longer holds it (released or expired) is answered as it is, so that a
    /// compensating release can be retried safely.
    /// </summary>
    public static async Task<Results<Ok<Reservation>, ProblemHttpResult>> ReleaseAsync(
        Guid id, ReservationStore reservations, CancellationToken cancellationToken) =>
        (await reservations.ReleaseAsync(id, cancellationToken) ?? await reservations.FindAsync(id, cancellationToken)) is { } reservation
            ? TypedResults.Ok(reservation)
            : Problems.ReservationNotFound(id);
}
