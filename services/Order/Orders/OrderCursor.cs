using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace CloudScale.Order.Orders;

/// <summary>
/// Where the next page of GET /orders starts: the keyset (created_at, id) of the last order served, newest first.
/// Clients get it as opaque base64url text to pass back, so the sort key can change without breaking them.
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct OrderCursor(DateTimeOffset CreatedAt, Guid Id)
{
    private const char Separator = '~';

    public static OrderCursor After(CustomerOrder order) => new(order.CreatedAt, order.Id);

    // Microseconds since the epoch: Postgres keeps timestamps to the microsecond, so the cursor compares exactly.
    public string Encode() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{(CreatedAt - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond}{Separator}{Id:N}")));

    /// <summary>The cursor <paramref name="text"/> encodes, or null when it is not one <see cref="Encode"/> made.</summary>
    public static OrderCursor? Decode(string text)
    {
        if (!Base64Url.IsValid(text))
        {
            return null;
        }

        var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text)).Split(Separator);
        return parts is [var micros, var id]
            && long.TryParse(micros, NumberStyles.None, CultureInfo.InvariantCulture, out var microseconds)
            && microseconds <= (DateTimeOffset.MaxValue - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond
            && Guid.TryParseExact(id, "N", out var orderId)
                ? new OrderCursor(DateTimeOffset.UnixEpoch.AddTicks(microseconds * TimeSpan.TicksPerMicrosecond), orderId)
                : null;
    }
}
