using System.Globalization;
using System.Runtime.InteropServices;

namespace CloudScale.ServiceDefaults.Paging;

/// <summary>
/// Where the next page of a listing ordered by (created at, id) starts: the keyset of the last row served, passed to
/// clients as <see cref="CursorText"/>.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public readonly record struct KeysetCursor(DateTimeOffset CreatedAt, Guid Id)
{
    // UTC ticks keep Postgres's microseconds exactly, so the next page starts precisely after this row.
    public string Encode() => CursorText.Encode(CreatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture), Id);

    /// <summary>The cursor <paramref name="text"/> encodes, or null when it is not one <see cref="Encode"/> made.</summary>
    public static KeysetCursor? Decode(string text) =>
        CursorText.TryDecode(text, out var ticksText, out var id)
        && long.TryParse(ticksText, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
        && ticks <= DateTimeOffset.MaxValue.UtcTicks
            ? new KeysetCursor(new DateTimeOffset(ticks, TimeSpan.Zero), id)
            : null;
}
