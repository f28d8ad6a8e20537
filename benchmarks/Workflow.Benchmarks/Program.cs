using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using CloudScale.Testing;
using CloudScale.Workflow.Benchmarks;
using Dapr.Workflow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Workflows completed per second, and latency from schedule to completion, for Dapr's two workflow benchmarks (a chain
// of 5 activities, a fan-out of 10), on the real Dapr.Workflow SDK (worker and client in this process) through
// CloudScale's sidecar, whose durable task backend keeps the workflows in a state.postgresql store (actorStateStore), as
// the AppHost runs Order's. Load is closed-loop, as k6's virtual users: each of the callers schedules a workflow and
// waits for its completion (the client's server-side wait) before it schedules the next, until --count have finished,
// after a warm-up of the same workflow.
var jsonOption = BenchmarkOptions.Json("artifacts/benchmarks/workflow.json");
var countOption = BenchmarkOptions.PositiveInteger("--count", 1000, "Workflows measured per row.");
var concurrencyOption = BenchmarkOptions.PositiveIntegers("--concurrency", [10, 50], "The concurrent callers of each pass.");
var command = new RootCommand("Workflows completed per second and their latency, for a chain of 5 activities and a fan-out of 10.")
{
    jsonOption, countOption, concurrencyOption,
};
var (parsed, exitCode) = await command.ParseForRunAsync(args);
if (exitCode is { } helpOrError)
{
    return helpOrError;
}

var jsonPath = parsed.GetValue(jsonOption)!;
var count = parsed.GetValue(countOption);
var concurrencies = parsed.GetValue(concurrencyOption)!;

await using var postgres = await PostgresServer.StartNewAsync();
var store = SidecarResources.Component("workflowstore", "state.postgresql", ("connectionString", await postgres.CreateDatabaseAsync()), ("actorStateStore", "true"));
await using var sidecar = await DaprSidecar.StartAsync(new SidecarSettings("workflow-bench", SidecarResources.Folder(("workflowstore.yaml", store))));
var runtime = sidecar.Settings.Runtime.Command == "dotnet" ? "managed" : "native";
Console.WriteLine($"CloudScale's sidecar ({runtime}) with state.postgresql on port {postgres.Port}; {Environment.ProcessorCount} cores");
using var app = await StartAppAsync(sidecar);
var client = app.Services.GetRequiredService<DaprWorkflowClient>();

var workflows = new[] { (Name: "chain of 5", Workflow: nameof(ChainWorkflow)), (Name: "fan-out of 10", Workflow: nameof(FanOutWorkflow)) };
var results = new List<Result>();
foreach (var concurrency in concurrencies)
{
    foreach (var (workflowName, workflow) in workflows)
    {
        // Five workflows per caller first (at least 100), so that the row measures the steady state rather than the
        // SDK's code still being compiled from tier 0: the first row of a run otherwise came out 20-30 % slower.
        await RunAsync(workflow, $"warm-{results.Count}", Math.Max(100, 5 * concurrency), concurrency);
        var run = await RunAsync(workflow, $"run-{results.Count}", count, concurrency);
        results.Add(new Result(workflowName, count, concurrency, run.PerSecond, run.P50, run.P99));
        Console.WriteLine($"  {workflowName,-14} {concurrency,3} callers {run.PerSecond,8:0.0} wf/s   p50 {run.P50,7:0.0} ms   p99 {run.P99,7:0.0} ms");
    }
}

await app.StopAsync();
Console.WriteLine();
Console.WriteLine($"{"workflow",-14} | {"callers",7} | {"wf/s",8} | {"p50 ms",8} | {"p99 ms",8}   ({count} workflows a row, {Environment.ProcessorCount} cores)");
foreach (var result in results)
{
    Console.WriteLine($"{result.Workflow,-14} | {result.Concurrency,7} | {result.WorkflowsPerSecond,8:0.0} | {result.P50Milliseconds,8:0.0} | {result.P99Milliseconds,8:0.0}");
}

Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(
    new { sidecar = runtime, store = "state.postgresql", cores = Environment.ProcessorCount, results },
    new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
Console.WriteLine($"Wrote {jsonPath}");
return 0;

static async Task<IHost> StartAppAsync(DaprSidecar sidecar)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal)
    {
        ["DAPR_GRPC_ENDPOINT"] = sidecar.GrpcEndpoint.ToString().TrimEnd('/'),
    });
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddDaprWorkflow(); // the SDK's source generator registers this assembly's workflows and activities
    var host = builder.Build();
    await host.StartAsync();
    return host;
}

async Task<(double PerSecond, double P50, double P99)> RunAsync(string workflow, string prefix, int total, int concurrency)
{
    var latencies = new double[total];
    var next = -1;
    var stopwatch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, total)).Select(async _ =>
    {
        for (var index = Interlocked.Increment(ref next); index < total; index = Interlocked.Increment(ref next))
        {
            var instanceId = $"{prefix}-{index}";
            var started = stopwatch.Elapsed;
            await client.ScheduleNewWorkflowAsync(workflow, instanceId, index, startTime: null, CancellationToken.None);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var state = await client.WaitForWorkflowCompletionAsync(instanceId, getInputsAndOutputs: false, timeout.Token);
            if (state.RuntimeStatus != WorkflowRuntimeStatus.Completed)
            {
                throw new InvalidOperationException($"{instanceId} ended {state.RuntimeStatus}: {state.FailureDetails?.ErrorMessage}");
            }

            latencies[index] = (stopwatch.Elapsed - started).TotalMilliseconds;
        }
    }));
    var elapsed = stopwatch.Elapsed;
    Array.Sort(latencies);
    return (total / elapsed.TotalSeconds, Percentile(0.50), Percentile(0.99));

    double Percentile(double fraction) => latencies[(int)Math.Ceiling(fraction * latencies.Length) - 1];
}
