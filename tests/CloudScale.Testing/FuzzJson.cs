using System.Globalization;
using System.Text.Json;
using CsCheck;

namespace CloudScale.Testing;

/// <summary>
/// Random request bodies for fuzz tests: JSON biased to the field names and values an API reads (so that many bodies get
/// past its first checks), arrays of such objects, and the same cut short or with a stray character.
/// </summary>
public static class FuzzJson
{
    /// <summary>Mostly one of <paramref name="words"/>, sometimes any string at all.</summary>
    public static Gen<string> Text(IEnumerable<string> words) => Gen.Frequency((3, Gen.OneOf([.. words])), (1, Gen.String));

    public static Gen<string> Bodies(IEnumerable<string> fieldNames, IEnumerable<string> words)
    {
        var text = Text(words);
        var names = Gen.Frequency((5, Gen.OneOf([.. fieldNames])), (1, Gen.String));
        var scalar = Gen.OneOf(
            Gen.OneOf("null", "true", "false", "1e999", "-0", "1.5", "9223372036854775808"),
            Gen.Long.Select(number => number.ToString(CultureInfo.InvariantCulture)),
            text.Select(value => JsonSerializer.Serialize(value)));
        var json = Gen.Recursive<string>((depth, inner) => depth >= 4
            ? scalar
            : Gen.Frequency(
                (3, scalar),
                (1, inner.Array[0, 4].Select(items => $"[{string.Join(',', items)}]")),
                (3, Gen.Select(names, inner).Array[0, 5]
                    .Select(fields => $"{{{string.Join(',', fields.Select(field => $"{JsonSerializer.Serialize(field.Item1)}:{field.Item2}"))}}}"))));
        return Gen.Frequency(
            (3, json),
            (3, json.Array[1, 4].Select(items => $"[{string.Join(',', items)}]")),
            (2, Gen.Select(json, Gen.Int[0, 200], Gen.Char).Select((body, at, stray) => at % 2 == 0
                ? body[..Math.Min(at / 2, body.Length)]
                : body.Insert(Math.Min(at / 2, body.Length), stray.ToString()))));
    }

    /// <summary>
    /// Text escaped for a path segment or query value, without NUL: Kestrel refuses a request target that decodes to one
    /// with a bare 400 before any middleware runs.
    /// </summary>
    public static Gen<string> UrlText(IEnumerable<string> words) =>
        Text(words).Select(text => Uri.EscapeDataString(text.Replace("\0", "", StringComparison.Ordinal)));

    /// <summary>Printable ASCII, as a header value must be (HttpClient refuses others before sending).</summary>
    public static Gen<string> HeaderValue(IEnumerable<string> words) =>
        Text(words).Select(value => new string([.. value.Where(c => c is >= ' ' and <= '~')]));
}
