using System.Runtime.InteropServices;
using CloudScale.Redis.Benchmarks;
using CloudScale.Testing;
using StackExchange.Redis;

if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(BenchmarkSettings.Usage);
    return 0;
}

if (!BenchmarkSettings.TryParse(args, out var settings, out var error))
{
    await Console.Error.WriteLineAsync($"{error}\n\n{BenchmarkSettings.Usage}");
    return 2;
}

// Ctrl+C needs no handling: the throwaway redis-server is reaped when this process ends, however it ends.
var scenarios = Scenario.Defaults.Select(scenario => scenario.Scaled(settings.Scale)).ToArray();
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
var total = settings.Rounds * scenarios.Length * commands.Length;
for (var round = 1; round <= settings.Rounds; round++)
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
if (settings.JsonPath is not null)
{
    await Report.WriteJsonAsync(settings.JsonPath, results, environment, tool);
    Progress($"Wrote {Path.GetFullPath(settings.JsonPath)}");
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
