using CloudScale.ServiceDefaults.Errors;
using CloudScale.Booking.Api;

namespace CloudScale.Booking.Reservations;

/// <summary>The body of POST /reservations: hold <see cref="RoomId"/> for the nights from <see cref="From"/> to <see cref="To"/>.</summary>
internal sealed record HoldRequest(Guid? RoomId, string? CustomerId, DateOnly? From, DateOnly? To, Guid? OrderId)
{
    public const int MaxNights = 30;
    public const int MaxDaysAhead = 730;
    public const int MaxCustomerIdLength = 100;

    /// <summary>The hold this request asks for, or what is wrong with it. Stays start today or later and end within two years.</summary>
    public (Hold? Hold, FieldErrors Errors) Validate(DateOnly today)
    {
        var errors = new FieldErrors()
            .When(RoomId is null, "roomId", "A room id is required.")
            .When(string.IsNullOrWhiteSpace(CustomerId), "customerId", "A customer id is required.")
            .When(CustomerId?.Length > MaxCustomerIdLength, "customerId", $"The customer id may have at most {MaxCustomerIdLength} characters.")
            .When(OrderId is null || OrderId == Guid.Empty, "orderId", "An order id is required.")
            .When(From < today, "from", "The stay cannot start in the past.")
            .WhenNotADateRange(From, To, MaxNights)
            .When(To > today.AddDays(MaxDaysAhead), "to", $"Stays can be reserved at most {MaxDaysAhead} days ahead.");
        return this is { RoomId: { } roomId, CustomerId: { } customerId, From: { } from, To: { } to, OrderId: { } orderId } && errors.IsEmpty
            ? (new Hold(roomId, customerId, orderId, from, to), errors)
            : (null, errors);
    }
}

/// <summary>A validated <see cref="HoldRequest"/>.</summary>
internal sealed record Hold(Guid RoomId, string CustomerId, Guid OrderId, DateOnly From, DateOnly To)
{
    /// <summary>Whether <paramref name="reservation"/> is what this hold would create, i.e. this hold is a retry of it.</summary>
    public bool IsRepeatOf(Reservation reservation) =>
        reservation.RoomId == RoomId && string.Equals(reservation.CustomerId, CustomerId, StringComparison.Ordinal)
        && reservation.From == From && reservation.To == To;
}

/// <summary>What came of a hold.</summary>
internal abstract record HoldOutcome
{
    public sealed record Created(Reservation Reservation) : HoldOutcome;

    /// <summary>The order already held exactly this: a retry, answered with the first reservation.</summary>
    public sealed record Repeated(Reservation Reservation) : HoldOutcome;

    public sealed record RoomUnavailable : HoldOutcome;

    public sealed record RoomNotFound : HoldOutcome;

    /// <summary>The order already has a different reservation.</summary>
    public sealed record OrderAlreadyReserved(Reservation Existing) : HoldOutcome;
}
