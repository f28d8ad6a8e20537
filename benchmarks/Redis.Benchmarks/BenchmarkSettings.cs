using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace CloudScale.Redis.Benchmarks;

/// <summary>The command line: <c>[--json PATH] [--scale FACTOR] [--rounds N]</c>.</summary>
internal sealed record BenchmarkSettings(string? JsonPath, double Scale, int Rounds)
{
    public const string Usage = """
        Usage: dotnet run -c Release --project benchmarks/Redis.Benchmarks -- [--json PATH] [--scale FACTOR] [--rounds N]

        Starts a throwaway redis-server, then measures GET and SET with StackExchange.Redis and with redis-benchmark at
        the same settings (1 caller, 50 callers, 50 callers pipelining 16) and prints them side by side, N times over.

          --json PATH      also write the figures as JSON to PATH (directories are created)
          --scale FACTOR   multiply every request count, e.g. 0.1 for a quick check (default 1)
          --rounds N       passes over all scenarios, to show the spread between them (default 3)
        """;

    /// <summary>Parses the arguments; on anything unknown or malformed, <paramref name="error"/> names it.</summary>
    public static bool TryParse(IReadOnlyList<string> arguments, [NotNullWhen(true)] out BenchmarkSettings? settings, [NotNullWhen(false)] out string? error)
    {
        string? jsonPath = null;
        var scale = 1.0;
        var rounds = 3;
        settings = null;
        for (var index = 0; index < arguments.Count; index++)
        {
            var name = arguments[index];
            if (name is not ("--json" or "--scale" or "--rounds"))
            {
                error = $"Unknown argument '{name}'.";
                return false;
            }

            if (++index >= arguments.Count || arguments[index].StartsWith("--", StringComparison.Ordinal))
            {
                error = $"{name} needs a value.";
                return false;
            }

            var value = arguments[index];
            if (name == "--json")
            {
                jsonPath = value;
            }
            else if (name == "--rounds")
            {
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out rounds) || rounds < 1)
                {
                    error = $"--rounds must be a positive whole number, not '{value}'.";
                    return false;
                }
            }
            else if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out scale) || scale <= 0 || !double.IsFinite(scale))
            {
                error = $"--scale must be a positive number, not '{value}'.";
                return false;
            }
        }

        settings = new BenchmarkSettings(jsonPath, scale, rounds);
        error = null;
        return true;
    }
}
