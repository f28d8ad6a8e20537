using CloudScale.ServiceDefaults.Errors;
using CloudScale.Booking.Api;

namespace CloudScale.Booking.Rooms;

/// <summary>The query of GET /rooms: optional filters, the cursor of the previous page and the page size.</summary>
internal sealed record ListRoomsRequest(string? City, int? MinCapacity, decimal? MaxPricePerNight, string? Cursor, int? Limit)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public int PageSize => Limit ?? DefaultLimit;

    /// <summary>Where this page starts; null for the first page or a cursor that <see cref="Validate"/> rejects.</summary>
    public RoomCursor? After => Cursor is null ? null : RoomCursor.Decode(Cursor);

    public FieldErrors Validate() => new FieldErrors()
        .When(City is { Length: 0 or > RoomRequest.MaxCityLength }, "city", $"The city must have 1 to {RoomRequest.MaxCityLength} characters.")
        .When(MinCapacity < 1, "minCapacity", "The minimum capacity must be at least 1.")
        .When(MaxPricePerNight <= 0, "maxPricePerNight", "The maximum price per night must be above 0.")
        .When(Cursor is not null && After is null, "cursor", "The cursor is not one this service issued; pass nextCursor back unchanged.")
        .When(Limit is < 1 or > MaxLimit, "limit", $"The page size must be between 1 and {MaxLimit}.");
}
