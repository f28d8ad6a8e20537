namespace CloudScale.Booking.Rooms;

/// <summary>A room as stored, cached and served. <see cref="Version"/> grows with every update and is served as the ETag.</summary>
internal sealed record Room(Guid Id, string Name, string City, int Capacity, decimal PricePerNight, int Version)
{
    public string ETag() => $"\"{Version}\"";
}

/// <summary>One page of GET /rooms; <see cref="NextCursor"/> is null on the last page.</summary>
internal sealed record RoomPage(IReadOnlyList<Room> Items, string? NextCursor);
