using CloudScale.ServiceDefaults.Errors;
using CloudScale.Booking.Api;

namespace CloudScale.Booking.Rooms;

/// <summary>The query of GET /rooms/{id}/availability: the nights from <see cref="From"/> up to, not including, <see cref="To"/>.</summary>
internal sealed record AvailabilityRequest(DateOnly? From, DateOnly? To)
{
    public const int MaxDays = 90;

    public (Stay? Nights, FieldErrors Errors) Validate()
    {
        var errors = new FieldErrors().WhenNotADateRange(From, To, MaxDays);
        return this is { From: { } from, To: { } to } && errors.IsEmpty ? (new Stay(from, to), errors) : (null, errors);
    }
}

/// <summary>A span of nights: check-in included, check-out excluded, as Postgres's <c>daterange</c> '[)'.</summary>
internal sealed record Stay(DateOnly From, DateOnly To)
{
    public bool Includes(DateOnly night) => From <= night && night < To;

    public IEnumerable<DateOnly> Nights() => Enumerable.Range(0, To.DayNumber - From.DayNumber).Select(From.AddDays);
}

internal enum DayStatus
{
    Free,
    Booked,
}

/// <summary>Whether a room is free on the night of <see cref="Date"/>; held and confirmed reservations book it.</summary>
internal sealed record DayAvailability(DateOnly Date, DayStatus Status);

internal sealed record RoomAvailability(Guid RoomId, DateOnly From, DateOnly To, IReadOnlyList<DayAvailability> Days);
