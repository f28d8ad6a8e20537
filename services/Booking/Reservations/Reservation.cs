namespace CloudScale.Booking.Reservations;

/// <summary>
/// Held until confirmed or released, or until <see cref="Reservation.ExpiresAt"/> passes (then expired). Held and
/// confirmed reservations are active: they keep their room for their nights.
/// </summary>
internal enum ReservationStatus
{
    Held,
    Confirmed,
    Released,
    Expired,
}

/// <summary>
/// A room reserved for the nights from <see cref="From"/> up to, not including, <see cref="To"/> on behalf of an order.
/// <see cref="ExpiresAt"/> is the hold's deadline; confirmation clears it.
/// </summary>
internal sealed record Reservation(
    Guid Id, Guid RoomId, string CustomerId, Guid OrderId, DateOnly From, DateOnly To, ReservationStatus Status, DateTimeOffset? ExpiresAt);
