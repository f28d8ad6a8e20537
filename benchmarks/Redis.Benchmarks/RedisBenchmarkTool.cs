using System.Diagnostics;
using System.Globalization;
using CloudScale.Testing;

namespace CloudScale.Redis.Benchmarks;

/// <summary>Runs <c>redis-benchmark</c> (from redis-tools) with a scenario's settings and reads its <c>--csv</c> figures.</summary>
internal sealed class RedisBenchmarkTool(string host, int port)
{
    private readonly string _executable = Prerequisites.Find("redis-benchmark", "redis-tools");

    /// <summary>The command line for a scenario, as printed in the report so that it can be run by hand.</summary>
    public IReadOnlyList<string> Arguments(Scenario scenario, BenchmarkCommand command) =>
    [
        "-h", host, "-p", port.ToString(CultureInfo.InvariantCulture),
        "-t", command.ToString().ToLowerInvariant(),
        "-n", scenario.Requests.ToString(CultureInfo.InvariantCulture),
        "-c", scenario.Callers.ToString(CultureInfo.InvariantCulture),
        "-P", scenario.Pipeline.ToString(CultureInfo.InvariantCulture),
        "-d", BenchmarkData.ValueSize.ToString(CultureInfo.InvariantCulture),
        "--csv",
    ];

    public async Task<Measurement> RunAsync(Scenario scenario, BenchmarkCommand command)
    {
        var start = new ProcessStartInfo(_executable) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in Arguments(scenario, command))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {_executable}.");
        var errors = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-benchmark exited with code {process.ExitCode}: {await errors}");
        }

        return ParseCsv(output, command);
    }

    /// <summary>
    /// Reads the row of <paramref name="command"/> from redis-benchmark's CSV, whose header (7.0 and later) is
    /// <c>"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"</c>.
    /// </summary>
    internal static Measurement ParseCsv(string csv, BenchmarkCommand command)
    {
        var rows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(',').Select(cell => cell.Trim('"')).ToArray())
            .ToArray();
        var header = rows.FirstOrDefault() ?? throw new FormatException("redis-benchmark printed no CSV.");
        var name = command.ToString().ToUpperInvariant();
        var row = rows.Skip(1).FirstOrDefault(cells => cells[0] == name)
            ?? throw new FormatException($"redis-benchmark printed no {name} row:\n{csv}");

        return new Measurement(Column("rps"), Column("p50_latency_ms"), Column("p99_latency_ms"));

        double Column(string column)
        {
            var index = Array.IndexOf(header, column);
            if (index < 0 || index >= row.Length)
            {
                throw new FormatException($"redis-benchmark's CSV has no '{column}' column (redis-benchmark 7.0 or later prints it):\n{csv}");
            }

            return double.Parse(row[index], NumberStyles.Float, CultureInfo.InvariantCulture);
        }
    }
}
