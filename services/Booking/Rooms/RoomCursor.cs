using System.Globalization;
using CloudScale.ServiceDefaults.Paging;

namespace CloudScale.Booking.Rooms;

/// <summary>
/// Where the next page of GET /rooms starts: the keyset (price per night, id) of the last room served, passed to clients
/// as <see cref="CursorText"/>.
/// </summary>
internal readonly record struct RoomCursor(decimal PricePerNight, Guid Id)
{
    public static RoomCursor After(Room room) => new(room.PricePerNight, room.Id);

    public string Encode() => CursorText.Encode(PricePerNight.ToString(CultureInfo.InvariantCulture), Id);

    /// <summary>The cursor <paramref name="text"/> encodes, or null when it is not one <see cref="Encode"/> made.</summary>
    public static RoomCursor? Decode(string text) =>
        CursorText.TryDecode(text, out var price, out var roomId)
        && decimal.TryParse(price, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var pricePerNight)
            ? new RoomCursor(pricePerNight, roomId)
            : null;
}
