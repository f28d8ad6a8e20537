using CloudScale.ServiceDefaults.Errors;
using CloudScale.Booking.Api;

namespace CloudScale.Booking.Rooms;

/// <summary>The body of POST /rooms and PUT /rooms/{id}: everything about a room but its identity.</summary>
internal sealed record RoomRequest(string? Name, string? City, int? Capacity, decimal? PricePerNight)
{
    public const int MaxNameLength = 200;
    public const int MaxCityLength = 100;
    public const int MaxCapacity = 100;
    public const decimal MaxPricePerNight = 100_000m;

    /// <summary>The room this request describes, or what is wrong with it.</summary>
    public (RoomDetails? Details, FieldErrors Errors) Validate()
    {
        var errors = new FieldErrors()
            .When(string.IsNullOrWhiteSpace(Name), "name", "A name is required.")
            .When(Name?.Length > MaxNameLength, "name", $"The name may have at most {MaxNameLength} characters.")
            .When(string.IsNullOrWhiteSpace(City), "city", "A city is required.")
            .When(City?.Length > MaxCityLength, "city", $"The city may have at most {MaxCityLength} characters.")
            .When(Capacity is null, "capacity", "A capacity is required.")
            .When(Capacity is < 1 or > MaxCapacity, "capacity", $"The capacity must be between 1 and {MaxCapacity}.")
            .When(PricePerNight is null, "pricePerNight", "A price per night is required.")
            .When(PricePerNight is <= 0 or > MaxPricePerNight, "pricePerNight", $"The price per night must be above 0 and at most {MaxPricePerNight}.")
            .When(PricePerNight is { } price && decimal.Round(price, 2) != price, "pricePerNight", "The price per night has at most two decimals.");
        return this is { Name: { } name, City: { } city, Capacity: { } capacity, PricePerNight: { } pricePerNight } && errors.IsEmpty
            ? (new RoomDetails(name, city, capacity, pricePerNight), errors)
            : (null, errors);
    }
}

/// <summary>A validated <see cref="RoomRequest"/>.</summary>
internal sealed record RoomDetails(string Name, string City, int Capacity, decimal PricePerNight);
