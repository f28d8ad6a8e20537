using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CloudScale.Sidecar.Configuration;

/// <summary>
/// The subset of CEL that subscription rules use in practice: comparisons of <c>event.*</c> fields with literals
/// (<c>==</c>, <c>!=</c>), joined by <c>&amp;&amp;</c> or <c>||</c> (&amp;&amp; binds tighter). Anything else is rejected at load.
/// </summary>
internal sealed partial class MatchExpression
{
    private readonly IReadOnlyList<IReadOnlyList<Comparison>> _anyOfAll;

    private MatchExpression(IReadOnlyList<IReadOnlyList<Comparison>> anyOfAll) => _anyOfAll = anyOfAll;

    public static MatchExpression? TryParse(string text)
    {
        var alternatives = new List<IReadOnlyList<Comparison>>();
        foreach (var alternative in text.Split("||"))
        {
            var all = new List<Comparison>();
            foreach (var part in alternative.Split("&&"))
            {
                var match = ComparisonPattern().Match(part);
                if (!match.Success)
                {
                    return null;
                }

                all.Add(new Comparison(
                    match.Groups["path"].Value.Split('.')[1..],
                    match.Groups["op"].Value == "==",
                    ParseLiteral(match.Groups["literal"].Value)));
            }

            alternatives.Add(all);
        }

        return new MatchExpression(alternatives);
    }

    public bool Evaluate(JsonElement cloudEvent) => _anyOfAll.Any(all => all.All(comparison => comparison.Evaluate(cloudEvent)));

    private static object? ParseLiteral(string literal) => literal switch
    {
        "true" => true,
        "false" => false,
        "null" => null,
        _ when literal.Length >= 2 && (literal[0] is '"' or '\'') => literal[1..^1],
        _ => double.Parse(literal, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex("""^\s*(?<path>event(\.[A-Za-z_][A-Za-z0-9_]*)+)\s*(?<op>==|!=)\s*(?<literal>"[^"]*"|'[^']*'|-?[0-9]+(\.[0-9]+)?|true|false|null)\s*$""", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ComparisonPattern();

    private sealed record Comparison(string[] Path, bool Equal, object? Literal)
    {
        public bool Evaluate(JsonElement cloudEvent)
        {
            var current = cloudEvent;
            foreach (var segment in Path)
            {
                if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment, out current))
                {
                    return !Equal;
                }
            }

            var equal = Literal switch
            {
                null => current.ValueKind == JsonValueKind.Null,
                bool b => current.ValueKind == (b ? JsonValueKind.True : JsonValueKind.False),
                string s => current.ValueKind == JsonValueKind.String && current.GetString() == s,
                double d => current.ValueKind == JsonValueKind.Number && current.GetDouble().Equals(d),
                _ => false,
            };
            return equal == Equal;
        }
    }
}
