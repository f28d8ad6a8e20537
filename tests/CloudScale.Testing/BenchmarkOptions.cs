using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace CloudScale.Testing;

/// <summary>
/// The kinds of option the benchmark commands take, each refusing a bad value at parse time with a one-line error
/// (System.CommandLine then prints it with the usage and exits non-zero) instead of failing mid-run.
/// </summary>
public static class BenchmarkOptions
{
    /// <summary>
    /// Parses a benchmark's command line. Help and a bad argument each have an action of their own (the usage, or the
    /// error with exit code 1), which runs here and gives the exit code; a command line for a run has none.
    /// </summary>
    public static async Task<(ParseResult Parsed, int? ExitCode)> ParseForRunAsync(
        this RootCommand command, IReadOnlyList<string> args, InvocationConfiguration? console = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parsed = command.Parse(args);
        return (parsed, parsed.Action is null ? null : await parsed.InvokeAsync(console));
    }

    public static Option<string?> Json(string? defaultPath) => new("--json")
    {
        Description = defaultPath is null ? "Also write the figures as JSON to FILE (directories are created)." : "Where to write the figures as JSON (directories are created).",
        HelpName = "FILE",
        DefaultValueFactory = _ => defaultPath,
    };

    public static Option<double> PositiveNumber(string name, double defaultValue, string description) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => double.TryParse(result.Tokens.Single().Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number > 0 && double.IsFinite(number)
            ? number
            : Refuse(result, $"{name} must be a positive number, not '{result.Tokens.Single().Value}'.", 0d),
    };

    public static Option<int> PositiveInteger(string name, int defaultValue, string description) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => TryParsePositiveInteger(result.Tokens.Single().Value, out var number)
            ? number
            : Refuse(result, $"{name} must be a positive whole number, not '{result.Tokens.Single().Value}'.", 0),
    };

    /// <summary>Positive whole numbers given as <c>1,32</c> (or <c>1 32</c>).</summary>
    public static Option<int[]> PositiveIntegers(string name, int[] defaultValues, string description) => new(name)
    {
        Description = description,
        HelpName = "N,N",
        AllowMultipleArgumentsPerToken = true,
        DefaultValueFactory = _ => defaultValues,
        CustomParser = result =>
        {
            var values = new List<int>();
            foreach (var value in result.Tokens.SelectMany(token => token.Value.Split(',', StringSplitOptions.TrimEntries)))
            {
                if (!TryParsePositiveInteger(value, out var number))
                {
                    return Refuse(result, $"{name} takes positive whole numbers separated by commas; '{value}' is not one.", Array.Empty<int>());
                }

                values.Add(number);
            }

            return [.. values];
        },
    };

    /// <summary>
    /// Prefixes given as <c>a,b</c> (each trimmed, empty ones dropped), each of which must start one of
    /// <paramref name="names"/>.
    /// </summary>
    public static Option<string[]> Prefixes(string name, IReadOnlyList<string> names, string description) => new(name)
    {
        Description = $"{description} The names: {Quoted(names)}.",
        HelpName = "A,B",
        CustomParser = result =>
        {
            string[] prefixes = [.. result.Tokens.SelectMany(token => token.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))];
            return prefixes.FirstOrDefault(prefix => !names.Any(known => known.StartsWith(prefix, StringComparison.Ordinal))) is { } unknown
                ? Refuse(result, $"{name} '{unknown}' starts no name; the names are {Quoted(names)}.", Array.Empty<string>())
                : prefixes;
        },
    };

    private static string Quoted(IReadOnlyList<string> names) => string.Join(", ", names.Select(known => $"\"{known}\""));

    private static bool TryParsePositiveInteger(string text, out int number) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out number) && number > 0;

    private static T Refuse<T>(ArgumentResult result, string error, T placeholder)
    {
        result.AddError(error);
        return placeholder;
    }
}
