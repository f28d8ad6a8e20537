using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace CloudScale.Notification.Notifications;

/// <summary>
/// Where the next page of a user's notifications starts: the keyset (created at, id) of the last one served, as opaque
/// base64url text so that the sort key can change without breaking clients.
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct NotificationCursor(DateTimeOffset CreatedAt, Guid Id)
{
    private const char Separator = '~';

    public static NotificationCursor After(UserNotification notification) => new(notification.CreatedAt, notification.Id);

    // UTC ticks keep Postgres's microseconds exactly, so the next page starts precisely after this row.
    public string Encode() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{CreatedAt.UtcTicks}{Separator}{Id:N}")));

    /// <summary>The cursor <paramref name="text"/> encodes, or null when it is not one <see cref="Encode"/> made.</summary>
    public static NotificationCursor? Decode(string text)
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
                ? new NotificationCursor(new DateTimeOffset(ticks, TimeSpan.Zero), id)
                : null;
    }
}
