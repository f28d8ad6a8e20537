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
            $"{"scenario",-24} {"cmd",-4} | {"ours req/s",11} {"p50 ms",7} {"p99 ms",7} | {"redis-benchmark",15} {"p50 ms",7} {"p99 ms",7} | {"ours/rb",7} {"target",-10}");
        table.AppendLine(new string('-', 113));
        foreach (var result in results)
        {
            var target = result.Scenario.TargetRatio is { } ratio ? $">={ratio:P0} {(result.MeetsTarget == true ? "met" : "MISSED")}" : "";
            table.AppendLine(CultureInfo.InvariantCulture,
                $"{result.Scenario.Name,-24} {result.Command.ToString().ToUpperInvariant(),-4} | " +
                $"{result.Ours.RequestsPerSecond,11:N0} {result.Ours.P50Milliseconds,7:0.000} {result.Ours.P99Milliseconds,7:0.000} | " +
                $"{result.RedisBenchmark.RequestsPerSecond,15:N0} {result.RedisBenchmark.P50Milliseconds,7:0.000} {result.RedisBenchmark.P99Milliseconds,7:0.000} | " +
                $"{result.ThroughputRatio,7:P0} {target,-10}");
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
                Scenario = result.Scenario.Name,
                result.Scenario.Callers,
                result.Scenario.Pipeline,
                result.Scenario.Requests,
                Command = result.Command.ToString().ToUpperInvariant(),
                result.Ours,
                result.RedisBenchmark,
                RedisBenchmarkArguments = string.Join(' ', tool.Arguments(result.Scenario, result.Command)),
                result.ThroughputRatio,
                result.Scenario.TargetRatio,
                result.MeetsTarget,
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
