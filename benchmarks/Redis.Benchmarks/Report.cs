using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CloudScale.Redis.Benchmarks;

/// <summary>The side-by-side table and the JSON file of one run.</summary>
internal static class Report
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string Table(IReadOnlyList<ScenarioResult> results, BenchmarkEnvironment environment)
    {
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture,
            $"redis-server {environment.RedisVersion} on 127.0.0.1, {environment.Processors} processors, {environment.Runtime}, {BenchmarkData.ValueSize}-byte values");
        table.AppendLine();
        table.AppendLine(CultureInfo.InvariantCulture,
            $"{"round",5} {"scenario",-24} {"cmd",-4} | {"SE.Redis req/s",14} {"p50 ms",7} {"p99 ms",7} | {"redis-benchmark",15} {"p50 ms",7} {"p99 ms",7} | {"SE/rb",7}");
        table.AppendLine(new string('-', 112));
        foreach (var result in results)
        {
            table.AppendLine(CultureInfo.InvariantCulture,
                $"{result.Round,5} {result.Scenario.Name,-24} {result.Command.ToString().ToUpperInvariant(),-4} | " +
                $"{result.Client.RequestsPerSecond,14:N0} {result.Client.P50Milliseconds,7:0.000} {result.Client.P99Milliseconds,7:0.000} | " +
                $"{result.RedisBenchmark.RequestsPerSecond,15:N0} {result.RedisBenchmark.P50Milliseconds,7:0.000} {result.RedisBenchmark.P99Milliseconds,7:0.000} | " +
                $"{result.ThroughputRatio,7:P0}");
        }

        table.AppendLine();
        table.AppendLine("StackExchange.Redis / redis-benchmark throughput over the rounds (min-max):");
        foreach (var rows in results.GroupBy(result => (result.Scenario.Name, result.Command)))
        {
            table.AppendLine(CultureInfo.InvariantCulture,
                $"  {rows.Key.Name,-24} {rows.Key.Command.ToString().ToUpperInvariant(),-4} {rows.Min(row => row.ThroughputRatio),7:P0} - {rows.Max(row => row.ThroughputRatio):P0}");
        }

        return table.ToString();
    }

    public static async Task WriteJsonAsync(string path, IReadOnlyList<ScenarioResult> results, BenchmarkEnvironment environment, RedisBenchmarkTool tool)
    {
        var document = new
        {
            Environment = environment,
            ValueSize = BenchmarkData.ValueSize,
            Results = results.Select(result => new
            {
                result.Round,
                Scenario = result.Scenario.Name,
                result.Scenario.Callers,
                result.Scenario.Pipeline,
                result.Scenario.Requests,
                Command = result.Command.ToString().ToUpperInvariant(),
                StackExchangeRedis = result.Client,
                result.RedisBenchmark,
                RedisBenchmarkArguments = string.Join(' ', tool.Arguments(result.Scenario, result.Command)),
                result.ThroughputRatio,
            }),
        };
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, document, Json);
    }
}

internal sealed record BenchmarkEnvironment(string RedisVersion, int Processors, string Runtime, string OperatingSystem, DateTimeOffset MeasuredAt);
