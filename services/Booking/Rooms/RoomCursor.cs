using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace CloudScale.Booking.Rooms;

/// <summary>
/// Where the next page of GET /rooms starts: the keyset (price per night, id) of the last room served. Clients get it
/// as opaque base64url text to pass back, so the sort key can change without breaking them.
/// </summary>
internal readonly record struct RoomCursor(decimal PricePerNight, Guid Id)
{
    private const char Separator = '~';

    public static RoomCursor After(Room room) => new(room.PricePerNight, room.Id);

    public string Encode() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{PricePerNight}{Separator}{Id:N}")));

    /// <summary>The cursor <paramref name="text"/> encodes, or null when it is not one <see cref="Encode"/> made.</summary>
    public static RoomCursor? Decode(string text)
    {
        if (!Base64Url.IsValid(text))
        {
            return null;
        }

        var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text)).Split(Separator);
        return parts is [var price, var id]
            && decimal.TryParse(price, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var pricePerNight)
            && Guid.TryParseExact(id, "N", out var roomId)
                ? new RoomCursor(pricePerNight, roomId)
                : null;
    }
}
