using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace CloudScale.ServiceDefaults.Paging;

/// <summary>
/// Where the next page of a listing ordered by (created at, id) starts: the keyset of the last row served. Clients get it
/// as opaque base64url text to pass back, so the sort key can change without breaking them.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public readonly record struct KeysetCursor(DateTimeOffset CreatedAt, Guid Id)
{
    private const char Separator = '~';

    // UTC ticks keep Postgres's microseconds exactly, so the next page starts precisely after this row.
    public string Encode() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{CreatedAt.UtcTicks}{Separator}{Id:N}")));

    /// <summary>The cursor <paramref name="text"/> encodes, or null when it is not one <see cref="Encode"/> made.</summary>
    public static KeysetCursor? Decode(string text)
    {
        if (!Base64Url.IsValid(text))
        {
            return null;
        }

        var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text)).Split(Separator);
        return parts is [var ticksText, var idText]
            && long.TryParse(ticksText, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && ticks <= DateTimeOffset.MaxValue.UtcTicks
            && Guid.TryParseExact(idText, "N", out var id)
                ? new KeysetCursor(new DateTimeOffset(ticks, TimeSpan.Zero), id)
                : null;
    }
}
