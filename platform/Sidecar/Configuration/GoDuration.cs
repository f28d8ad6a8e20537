using System.Globalization;

namespace CloudScale.Sidecar.Configuration;

/// <summary>Go's <c>time.ParseDuration</c> format ("300ms", "1.5h", "2h45m"), which every Dapr YAML duration uses.</summary>
internal static class GoDuration
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (text is "0")
        {
            return true;
        }

        var span = text.AsSpan().Trim();
        var negative = span.StartsWith("-");
        if (negative || span.StartsWith("+"))
        {
            span = span[1..];
        }

        if (span.IsEmpty)
        {
            return false;
        }

        double total = 0;
        while (!span.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < span.Length && (char.IsAsciiDigit(span[numberLength]) || span[numberLength] == '.'))
            {
                numberLength++;
            }

            var unitLength = 0;
            while (numberLength + unitLength < span.Length && !char.IsAsciiDigit(span[numberLength + unitLength]) && span[numberLength + unitLength] != '.')
            {
                unitLength++;
            }

            if (numberLength == 0 || unitLength == 0 ||
                !double.TryParse(span[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            var milliseconds = ToMilliseconds(number, span.Slice(numberLength, unitLength));
            if (milliseconds is null)
            {
                return false;
            }

            total += milliseconds.Value;
            span = span[(numberLength + unitLength)..];
        }

        value = TimeSpan.FromMilliseconds(negative ? -total : total);
        return true;
    }

    private static double? ToMilliseconds(double number, ReadOnlySpan<char> unit) => unit switch
    {
        "ns" => number / 1_000_000,
        "us" or "µs" => number / 1_000,
        "ms" => number,
        "s" => number * 1_000,
        "m" => number * 60_000,
        "h" => number * 3_600_000,
        _ => null,
    };
}
