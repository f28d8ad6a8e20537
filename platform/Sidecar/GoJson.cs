using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CloudScale.Sidecar;

/// <summary>
/// Writes JSON byte for byte as daprd's Go code does, so that what ours stores or publishes is interchangeable with
/// what daprd would. <c>encoding/json</c> (Postgres values, CloudEvents, Redis stream metadata) sorts object keys and
/// escapes &lt;, &gt;, &amp;; jsoniter ConfigFastest (Redis values) keeps key order, escapes no HTML and writes small
/// floats with at most 6 decimals. Numbers are float64 when Go decoded into <c>any</c>, and kept as written when it
/// decoded with <c>UseNumber</c> (CloudEvent data).
/// </summary>
internal static class GoJson
{
    /// <summary>
    /// A field of a JSON object as Go's encoding/json finds a struct field: by name without regard to case, and when
    /// several keys match, the last one (each overwrites the field). Throws, as TryGetProperty does, on a non-object.
    /// </summary>
    public static bool TryGetField(this JsonElement element, string name, out JsonElement value)
    {
        value = default;
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
            }
        }

        return value.ValueKind != JsonValueKind.Undefined;
    }

    /// <summary>
    /// The elements of an array field as Go decodes a slice: none when the field is absent or null, a
    /// <see cref="JsonException"/> (daprd's "cannot unmarshal", a 400) when it holds anything but an array.
    /// </summary>
    public static IEnumerable<JsonElement> ArrayField(this JsonElement element, string name) =>
        !element.TryGetField(name, out var value) || value.ValueKind == JsonValueKind.Null ? []
        : value.ValueKind == JsonValueKind.Array ? value.EnumerateArray()
        : throw new JsonException($"{name} must be an array, not {value.ValueKind}");

    /// <summary>A string field as Go decodes one: null when absent or null, a <see cref="JsonException"/> for another kind.</summary>
    public static string? StringField(this JsonElement element, string name) =>
        !element.TryGetField(name, out var value) ? null : value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null => null,
            _ => throw new JsonException($"{name} must be a string"),
        };

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private enum Numbers
    {
        Float64,
        SixDigitFloat64,
        AsWritten,
    }

    /// <summary>A value daprd decoded into <c>any</c> and a store re-marshals with <c>encoding/json</c>.</summary>
    public static byte[] EncodingJson(JsonElement value) => Write(value, sortKeys: true, escapeHtml: true, Numbers.Float64);

    /// <summary>A value decoded with <c>UseNumber</c> and re-marshalled with <c>encoding/json</c>: numbers keep their text.</summary>
    public static byte[] EncodingJsonKeepingNumbers(JsonElement value) => Write(value, sortKeys: true, escapeHtml: true, Numbers.AsWritten);

    public static byte[] JsoniterFastest(JsonElement value) => Write(value, sortKeys: false, escapeHtml: false, Numbers.SixDigitFloat64);

    /// <summary><c>encoding/json</c> of a <c>map[string]string</c>.</summary>
    public static byte[] EncodingJson(IReadOnlyDictionary<string, string> map)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in map.OrderBy(entry => entry.Key, StringComparer.Ordinal))
            {
                writer.WritePropertyName(name);
                writer.WriteRawValue(QuoteGoString(value, escapeHtml: true), skipInputValidation: true);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Write(JsonElement value, bool sortKeys, bool escapeHtml, Numbers numbers)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteValue(writer, value, sortKeys, escapeHtml, numbers);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteValue(Utf8JsonWriter writer, JsonElement value, bool sortKeys, bool escapeHtml, Numbers numbers)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                var properties = value.EnumerateObject().ToList();
                if (sortKeys)
                {
                    // Go sorts map keys by their bytes; a later duplicate key wins when decoding into a map.
                    properties = [.. properties.GroupBy(p => p.Name, StringComparer.Ordinal).Select(g => g.Last()).OrderBy(p => p.Name, StringComparer.Ordinal)];
                }

                foreach (var property in properties)
                {
                    writer.WritePropertyName(property.Name);
                    WriteValue(writer, property.Value, sortKeys, escapeHtml, numbers);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    WriteValue(writer, item, sortKeys, escapeHtml, numbers);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteRawValue(QuoteGoString(value.GetString()!, escapeHtml), skipInputValidation: true);
                break;
            case JsonValueKind.Number:
                writer.WriteRawValue(numbers == Numbers.AsWritten ? value.GetRawText() : FormatFloat(value.GetDouble(), numbers == Numbers.SixDigitFloat64), skipInputValidation: true);
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>Go's float64 encoding: shortest round-trip digits, exponent form only below 1e-6 or from 1e21.</summary>
    private static string FormatFloat(double number, bool sixDigitFloats)
    {
        if (sixDigitFloats && Math.Abs(number) < 0x4ffffff && number != Math.Floor(number))
        {
            return number.ToString("0.######", CultureInfo.InvariantCulture);
        }

        var abs = Math.Abs(number);
        if (abs != 0 && (abs < 1e-6 || abs >= 1e21))
        {
            // Go writes e-07 / e+21: at least two exponent digits.
            var text = number.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
            var e = text.IndexOf('e', StringComparison.Ordinal);
            var mantissa = text[..e];
            var exponent = int.Parse(text[(e + 1)..], CultureInfo.InvariantCulture);
            return $"{mantissa}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
        }

        return number.ToString("R", CultureInfo.InvariantCulture) is var plain && plain.Contains('E', StringComparison.Ordinal)
            ? number.ToString("0.#################################", CultureInfo.InvariantCulture)
            : plain;
    }

    private static string QuoteGoString(string text, bool escapeHtml)
    {
        var builder = new StringBuilder(text.Length + 2);
        builder.Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '<' or '>' or '&' when escapeHtml: builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"); break;
                case '\u2028' or '\u2029' when escapeHtml: builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"); break;
                case < ' ': builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"); break;
                default: builder.Append(c); break;
            }
        }

        builder.Append('"');
        return builder.ToString();
    }
}
