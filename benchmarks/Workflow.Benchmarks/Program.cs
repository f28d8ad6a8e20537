using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CloudScale.Testing;
using CloudScale.Workflow;
using CloudScale.Workflow.Benchmarks;
using CloudScale.Workflow.RealSidecar;
using Dapr.Workflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

// Workflows completed per second, and latency from schedule to completion, for Dapr's two workflow benchmarks (a chain
// of 5 activities, a fan-out of 10), with the engine's Dapr state store through a real sidecar on Postgres and, for
// comparison, with the in-memory store. Load is closed-loop, as k6's virtual users: each of --concurrency callers
// schedules a workflow and waits for it to finish before it schedules the next, until --count have finished.
// Usage: dotnet run -c Release --project benchmarks/Workflow.Benchmarks -- [--json FILE] [--count N] [--concurrency N]
var jsonPath = Option("--json") ?? "artifacts/benchmarks/workflow.json";
var count = int.Parse(Option("--count") ?? "100", CultureInfo.InvariantCulture);
var concurrency = int.Parse(Option("--concurrency") ?? "10", CultureInfo.InvariantCulture);

await using var postgres = await PostgresServer.StartNewAsync();
Console.WriteLine($"Starting a sidecar ({PostgresStateSidecar.Runtime}) with state.postgresql on port {postgres.Port} …");
await using var sidecar = await PostgresStateSidecar.StartAsync("workflow-bench", await postgres.CreateDatabaseAsync());
using var watcher = new CompletionWatcher();

var stores = new (string Name, Func<IWorkflowStore> Create)[]
{
    ("dapr state (postgres)", () => new DaprStateWorkflowStore(sidecar.HttpEndpoint, apiToken: null, PostgresStateSidecar.StoreName, partitionCount: 16, TimeProvider.System, NullLoggerFactory.Instance)),
    ("in-memory", () => new InMemoryWorkflowStore()),
};
var workflows = new[] { (Name: "chain of 5", Workflow: nameof(ChainWorkflow)), (Name: "fan-out of 10", Workflow: nameof(FanOutWorkflow)) };
var results = new List<Result>();
foreach (var (storeName, createStore) in stores)
{
    foreach (var (workflowName, workflow) in workflows)
    {
        var store = createStore();
        await using var replica = await StartReplicaAsync(store);
        var client = replica.GetRequiredService<DaprWorkflowClient>();
        await RunAsync(client, workflow, $"warm-{results.Count}", Math.Min(concurrency, count));
        var run = await RunAsync(client, workflow, $"run-{results.Count}", count);
        results.Add(new Result(storeName, workflowName, count, concurrency, run.PerSecond, run.P50, run.P99));
        Console.WriteLine($"  {storeName,-22} {workflowName,-14} {run.PerSecond,8:0.0} wf/s   p50 {run.P50,7:0.0} ms   p99 {run.P99,7:0.0} ms");
        await replica.GetRequiredService<IHostedService>().StopAsync(CancellationToken.None);
        (store as IDisposable)?.Dispose();
    }
}

Console.WriteLine();
Console.WriteLine($"{"store",-22} | {"workflow",-14} | {"wf/s",8} | {"p50 ms",8} | {"p99 ms",8}   ({count} workflows, {concurrency} callers, {Environment.ProcessorCount} cores)");
foreach (var result in results)
{
    Console.WriteLine($"{result.Store,-22} | {result.Workflow,-14} | {result.WorkflowsPerSecond,8:0.0} | {result.P50Milliseconds,8:0.0} | {result.P99Milliseconds,8:0.0}");
}

Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(
    new { runtime = PostgresStateSidecar.Runtime, cores = Environment.ProcessorCount, results },
    new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
Console.WriteLine($"Wrote {jsonPath}");

async Task<ServiceProvider> StartReplicaAsync(IWorkflowStore store)
{
    var services = new ServiceCollection().AddSingleton(store).AddDaprWorkflow(options =>
    {
        options.RegisterWorkflow<ChainWorkflow>();
        options.RegisterWorkflow<FanOutWorkflow>();
        options.RegisterActivity<IncrementActivity>();
    }).BuildServiceProvider();
    await services.GetRequiredService<IHostedService>().StartAsync(CancellationToken.None);
    return services;
}

async Task<(double PerSecond, double P50, double P99)> RunAsync(DaprWorkflowClient client, string workflow, string prefix, int total)
{
    var latencies = new double[total];
    var next = -1;
    var stopwatch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, total)).Select(async _ =>
    {
        for (var index = Interlocked.Increment(ref next); index < total; index = Interlocked.Increment(ref next))
        {
            var instanceId = $"{prefix}-{index}";
            var completion = watcher.CompletionOf(instanceId);
            var started = stopwatch.Elapsed;
            await client.ScheduleNewWorkflowAsync(workflow, instanceId, index);
            await completion.WaitAsync(TimeSpan.FromMinutes(2));
            latencies[index] = (stopwatch.Elapsed - started).TotalMilliseconds;
        }
    }));
    var elapsed = stopwatch.Elapsed;
    Array.Sort(latencies);
    return (total / elapsed.TotalSeconds, Percentile(0.50), Percentile(0.99));

    double Percentile(double fraction) => latencies[(int)Math.Ceiling(fraction * latencies.Length) - 1];
}

string? Option(string name) => args.SkipWhile(argument => argument != name).Skip(1).FirstOrDefault();
