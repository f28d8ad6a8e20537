using CloudScale.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudScale.Booking.Api;

/// <summary>
/// The problem details (RFC 9457) Booking answers with, each with a stable <c>type</c> a client can branch on
/// (the Order saga does) instead of parsing titles.
/// </summary>
internal static class Problems
{
    public static ProblemHttpResult RoomNotFound(Guid roomId) =>
        Problem(StatusCodes.Status404NotFound, "room-not-found", "Room not found", $"There is no room {roomId}.");

    public static ProblemHttpResult ReservationNotFound(Guid reservationId) =>
        Problem(StatusCodes.Status404NotFound, "reservation-not-found", "Reservation not found", $"There is no reservation {reservationId}.");

    public static ProblemHttpResult RoomUnavailable(Guid roomId, DateOnly from, DateOnly to) =>
        Problem(StatusCodes.Status409Conflict, "room-unavailable", "Room unavailable",
            $"Room {roomId} is already held or booked for some of the nights from {from:yyyy-MM-dd} to {to:yyyy-MM-dd}.");

    public static ProblemHttpResult OrderAlreadyReserved(Guid orderId, Guid reservationId) =>
        Problem(StatusCodes.Status409Conflict, "order-already-reserved", "Order already has a reservation",
            $"Order {orderId} already holds reservation {reservationId} for a different room, customer or stay.");

    public static ProblemHttpResult ReservationExpired(Guid reservationId) =>
        Problem(StatusCodes.Status409Conflict, "reservation-expired", "Reservation expired",
            $"The hold {reservationId} lapsed before it was confirmed; the room may since have been reserved by someone else.");

    public static ProblemHttpResult ReservationReleased(Guid reservationId) =>
        Problem(StatusCodes.Status409Conflict, "reservation-released", "Reservation released",
            $"Reservation {reservationId} was released and cannot be confirmed.");

    public static ProblemHttpResult IfMatchRequired() =>
        Problem(StatusCodes.Status428PreconditionRequired, "if-match-required", "If-Match required",
            "Send the room's ETag in If-Match (or If-Match: *) so that a concurrent change is not overwritten.");

    public static ProblemHttpResult VersionMismatch(Guid roomId, string currentETag) =>
        Problem(StatusCodes.Status412PreconditionFailed, "version-mismatch", "The room has changed",
            $"Room {roomId} is now at version {currentETag}; read it again and reapply the change.");

    private static ProblemHttpResult Problem(int status, string type, string title, string detail) =>
        DomainProblem.Create(status, type, title, detail);
}
