using System.Buffers.Text;
using System.Text;

namespace CloudScale.ServiceDefaults.Paging;

/// <summary>
/// The opaque text of a keyset cursor, base64url of <c>{sort key}~{id:N}</c>: clients pass it back unread, so a listing's
/// sort key can change without breaking them.
/// </summary>
public static class CursorText
{
    private const char Separator = '~';

    /// <param name="sortKey">The last row's sort key, formatted invariantly.</param>
    public static string Encode(string sortKey, Guid id) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{sortKey}{Separator}{id:N}"));

    /// <summary>The sort key and id <paramref name="text"/> holds; false when it is not text <see cref="Encode"/> made.</summary>
    public static bool TryDecode(string text, out string sortKey, out Guid id)
    {
        (sortKey, id) = (string.Empty, Guid.Empty);
        if (!Base64Url.IsValid(text))
        {
            return false;
        }

        if (Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text)).Split(Separator) is not [var key, var idText]
            || !Guid.TryParseExact(idText, "N", out id))
        {
            return false;
        }

        sortKey = key;
        return true;
    }
}
