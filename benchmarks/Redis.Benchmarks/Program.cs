using System.CommandLine;
using System.Runtime.InteropServices;
using CloudScale.Redis.Benchmarks;
using CloudScale.Testing;
using StackExchange.Redis;

var jsonOption = BenchmarkOptions.Json(defaultPath: null);
var scaleOption = BenchmarkOptions.PositiveNumber("--scale", 1, "Multiply every request count, e.g. 0.1 for a quick check.");
var roundsOption = BenchmarkOptions.PositiveInteger("--rounds", 3, "Passes over all scenarios, to show the spread between them.");
var rootCommand = new RootCommand("""
    Starts a throwaway redis-server, then measures GET and SET with StackExchange.Redis and with redis-benchmark at the
    same settings (1 caller, 50 callers, 50 callers pipelining 16) and prints them side by side, N times over.
    """)
{
    jsonOption, scaleOption, roundsOption,
};
var (parsed, exitCode) = await rootCommand.ParseForRunAsync(args);
if (exitCode is { } helpOrError)
{
    return helpOrError;
}

var (jsonPath, scale, rounds) = (parsed.GetValue(jsonOption), parsed.GetValue(scaleOption), parsed.GetValue(roundsOption));
// Ctrl+C needs no handling: the throwaway redis-server is reaped when this process ends, however it ends.
var scenarios = Scenario.Defaults.Select(scenario => scenario.Scaled(scale)).ToArray();
var commands = Enum.GetValues<BenchmarkCommand>();
Progress("Starting a throwaway redis-server…");
await using var server = await RedisServer.StartNewAsync();
var tool = new RedisBenchmarkTool(server.Host, server.Port);
await using var redis = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
var load = new ClientLoad(redis.GetDatabase());
var environment = new BenchmarkEnvironment(
    redis.GetServers()[0].Version.ToString(), Environment.ProcessorCount, RuntimeInformation.FrameworkDescription, RuntimeInformation.OSDescription, DateTimeOffset.UtcNow);

// The JIT compiles and then re-optimises the client's hot paths while it runs; redis-benchmark is native code.
Progress("Warming up StackExchange.Redis…");
foreach (var scenario in scenarios)
{
    foreach (var command in commands)
    {
        await load.RunAsync(scenario.Scaled(0.05), command);
    }
}

var results = new List<ScenarioResult>();
var total = rounds * scenarios.Length * commands.Length;
for (var round = 1; round <= rounds; round++)
{
    foreach (var scenario in scenarios)
    {
        foreach (var command in commands)
        {
            var label = $"[{results.Count + 1}/{total}] {scenario.Name}, {command.ToString().ToUpperInvariant()}, {scenario.Requests:N0} requests:";
            Progress($"{label} redis-benchmark…", newLine: false);
            var baseline = await tool.RunAsync(scenario, command);
            Progress($" {baseline.RequestsPerSecond:N0} req/s; StackExchange.Redis…", newLine: false);
            var client = await load.RunAsync(scenario, command);
            Progress($" {client.RequestsPerSecond:N0} req/s ({client.RequestsPerSecond / baseline.RequestsPerSecond:P0})");
            results.Add(new ScenarioResult(round, scenario, command, client, baseline));
        }
    }
}

Console.WriteLine();
Console.WriteLine(Report.Table(results, environment));
if (jsonPath is not null)
{
    await Report.WriteJsonAsync(jsonPath, results, environment, tool);
    Progress($"Wrote {Path.GetFullPath(jsonPath)}");
}

return 0;

static void Progress(string message, bool newLine = true)
{
    if (newLine)
    {
        Console.Error.WriteLine(message);
    }
    else
    {
        Console.Error.Write(message);
    }
}
