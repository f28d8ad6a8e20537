using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.Dapr;
using StackExchange.Redis;
using CloudScale.Sidecar.Benchmarks;
using CloudScale.Testing;
using Dapr.Client;

// What a Dapr building block costs: each operation through the sidecar beside the same operation done directly
// (the Redis client for state and publish, a plain HTTP call for invocation), at 1 and 32 concurrent callers: over
// the HTTP API, and through the real Dapr SDK as services call it: DaprClient over the gRPC API for state and publish,
// DaprClient.CreateInvokeHttpClient for invocation (app → its sidecar → the target's sidecar → the target app).

// The target app's own process: the benchmark starts its executable with this command.
if (args is [TargetApp.ServeCommandName, .. var serveArguments])
{
    return await TargetApp.ServeCommand().Parse(serveArguments).InvokeAsync();
}

var jsonOption = BenchmarkOptions.Json("artifacts/benchmarks/sidecar.json");
var secondsOption = BenchmarkOptions.PositiveNumber("--seconds", 3, "How long each measurement runs, in seconds.");
// One second of warm-up left the benchmark's own gRPC client partly unoptimised (tier-0 JIT code) at one caller:
// 0.25-0.28 ms added instead of 0.17-0.18 after four seconds.
var warmUpOption = BenchmarkOptions.PositiveNumber("--warm-up", 4, "How long each operation runs before it is measured, in seconds.");
var callersOption = BenchmarkOptions.PositiveIntegers("--callers", [1, 32], "The concurrent callers of each pass.");
var onlyOption = BenchmarkOptions.Prefixes("--only", Operations.All, "Just the operations whose names start with one of these prefixes, e.g. \"state get,invoke\".");
var command = new RootCommand("What a Dapr building block costs, through the sidecar beside the same operation done directly.")
{
    jsonOption, secondsOption, warmUpOption, callersOption, onlyOption,
};
var (parsed, exitCode) = await command.ParseForRunAsync(args);
if (exitCode is { } helpOrError)
{
    return helpOrError;
}

var jsonPath = parsed.GetValue(jsonOption)!;
var duration = TimeSpan.FromSeconds(parsed.GetValue(secondsOption));
var warmUp = TimeSpan.FromSeconds(parsed.GetValue(warmUpOption));
var callerCounts = parsed.GetValue(callersOption)!;
var only = parsed.GetValue(onlyOption) is { Length: > 0 } prefixes ? prefixes : null;

await using var redisServer = await RedisServer.StartNewAsync();
await using var target = await TargetApp.StartAsync(redisServer.ConnectionString, appId: "caller");
var workDirectory = Directory.CreateTempSubdirectory("cloudscale-sidecar-bench-").FullName;
try
{
    var resources = Directory.CreateDirectory(Path.Combine(workDirectory, "components")).FullName;
    await File.WriteAllTextAsync(Path.Combine(resources, "components.yaml"), Components(redisServer));
    int callerPort = LoopbackPorts.Free(), targetPort = LoopbackPorts.Free();
    var nameResolution = Path.Combine(workDirectory, "name-resolution.json");
    await File.WriteAllTextAsync(nameResolution, JsonSerializer.Serialize(new
    {
        apps = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["caller"] = new { httpEndpoint = $"http://127.0.0.1:{callerPort}" },
            ["target"] = new { httpEndpoint = $"http://127.0.0.1:{targetPort}" },
        },
    }));
    Console.WriteLine($"Starting two sidecars ({SidecarProcess.Runtime}) beside redis-server on port {redisServer.Port} …");
    await using var caller = await SidecarProcess.StartAsync("caller", callerPort, appPort: null, resources, nameResolution);
    await using var targetSidecar = await SidecarProcess.StartAsync("target", targetPort, target.Port, resources, nameResolution);

    await using var redis = await ConnectionMultiplexer.ConnectAsync(redisServer.ConnectionString);
    var database = redis.GetDatabase();
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, UseProxy = false });
    var state = new Uri(caller.Endpoint, "/v1.0/state/statestore");
    using (var seed = await http.PostAsJsonAsync(state, new[] { new { key = "bench", value = new { guest = "Ada", nights = 3 } } }))
    {
        seed.EnsureSuccessStatusCode();
    }

    using var dapr = new DaprClientBuilder().UseGrpcEndpoint(caller.GrpcEndpoint.ToString()).UseHttpEndpoint(caller.Endpoint.ToString()).Build();
    // As Order invokes Booking: http://target/… rewritten by the SDK's handler to the caller's sidecar.
    using var invoke = DaprClient.CreateInvokeHttpClient("target", caller.Endpoint.ToString());
    var order = new { orderId = "o-1", amount = 120 };
    var payload = JsonSerializer.Serialize(order);
    var saveBody = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new[] { new { key = "bench-save", value = new { orderId = "o-1", amount = 120 } } }));
    var publishBody = Encoding.UTF8.GetBytes(payload);
    var scenarios = new (string Name, Func<Task> Direct, Func<Task> ThroughSidecar)[]
    {
        // Dapr's state.redis keeps a value as hash fields data and version under "{appId}||{key}".
        (Operations.StateGet, () => database.ExecuteAsync("HMGET", "caller||bench", "data", "version"),
            () => SendAsync(http, HttpMethod.Get, new Uri(state, "statestore/bench"), body: null)),
        (Operations.StateSave, () => database.ExecuteAsync("HSET", "caller||bench-save", "data", payload, "version", "1"),
            () => SendAsync(http, HttpMethod.Post, state, saveBody)),
        (Operations.Publish, () => database.ExecuteAsync("XADD", "orders", "MAXLEN", "~", "10000", "*", "data", payload),
            () => SendAsync(http, HttpMethod.Post, new Uri(caller.Endpoint, "/v1.0/publish/pubsub/orders"), publishBody)),
        (Operations.StateGetGrpc, () => database.ExecuteAsync("HMGET", "caller||bench", "data", "version"),
            () => dapr.GetStateAsync<JsonElement>("statestore", "bench")),
        (Operations.StateSaveGrpc, () => database.ExecuteAsync("HSET", "caller||bench-save", "data", payload, "version", "1"),
            () => dapr.SaveStateAsync("statestore", "bench-save", order)),
        (Operations.PublishGrpc, () => database.ExecuteAsync("XADD", "orders", "MAXLEN", "~", "10000", "*", "data", payload),
            () => dapr.PublishEventAsync("pubsub", "orders", order)),
        (Operations.Invoke, () => SendAsync(http, HttpMethod.Get, new Uri($"http://127.0.0.1:{target.Port}/echo"), body: null),
            () => SendAsync(http, HttpMethod.Get, new Uri(caller.Endpoint, "/v1.0/invoke/target/method/echo"), body: null)),
        (Operations.InvokeSdk, () => SendAsync(http, HttpMethod.Get, new Uri($"http://127.0.0.1:{target.Port}/echo"), body: null),
            () => SendAsync(invoke, HttpMethod.Get, new Uri("/echo", UriKind.Relative), body: null)),
    };

    // The ceilings: the same state get answered by the target app through one bare hop, each beside the sidecar's row.
    using var bareDapr = new DaprClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{target.GrpcPort}").Build();
    var bareHops = new (string Name, string SidecarOperation, Func<Task> Operation)[]
    {
        ("state get, bare HTTP hop", Operations.StateGet, () => SendAsync(http, HttpMethod.Get, new Uri($"http://127.0.0.1:{target.Port}/state/bench"), body: null)),
        ("state get, bare gRPC hop", Operations.StateGetGrpc, () => bareDapr.GetStateAsync<JsonElement>("statestore", "bench")),
    };

    var cpu = new CpuMeter([
        ("callers", Environment.ProcessId), ("target app", target.ProcessId), ("caller sidecar", caller.ProcessId), ("target sidecar", targetSidecar.ProcessId),
        ("redis-server", redisServer.ProcessId ?? throw new InvalidOperationException("redis-server is not running."))]);

    var selected = scenarios.Where(scenario => only is null || only.Any(prefix => scenario.Name.StartsWith(prefix, StringComparison.Ordinal))).ToList();
    var results = new List<ScenarioResult>();
    var hop = new List<HopResult>();
    // Every one-caller row runs before the first saturating one, so that none measures the wake of a 32-caller burst.
    foreach (var callers in callerCounts)
    {
        foreach (var (name, direct, throughSidecar) in selected)
        {
            Console.Write($"  {name,-25} {callers,2} caller(s): direct …");
            var directSummary = await Latency.MeasureAsync(direct, callers, duration, warmUp, cpu);
            Console.Write(" through the sidecar …");
            var sidecarSummary = await Latency.MeasureAsync(throughSidecar, callers, duration, warmUp, cpu);
            Console.WriteLine(" done");
            results.Add(new ScenarioResult(name, callers, directSummary, sidecarSummary, sidecarSummary.P50Ms - directSummary.P50Ms));
        }

        foreach (var (name, sidecarOperation, operation) in bareHops)
        {
            if (results.SingleOrDefault(result => result.Operation == sidecarOperation && result.Callers == callers) is { } throughSidecar)
            {
                Console.Write($"  {name,-25} {callers,2} caller(s) …");
                var bare = await Latency.MeasureAsync(operation, callers, duration, warmUp, cpu);
                Console.WriteLine(" done");
                hop.Add(new HopResult(name, sidecarOperation, callers, bare, throughSidecar.ThroughSidecar));
            }
        }
    }

    results = [.. results.OrderBy(result => selected.FindIndex(scenario => scenario.Name == result.Operation)).ThenBy(result => result.Callers)];

    var report = new BenchmarkReport(SidecarProcess.Runtime, Environment.ProcessorCount, duration.TotalSeconds, results, hop, [caller.Memory(), targetSidecar.Memory()]);
    Print(report);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
    await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
    Console.WriteLine($"Figures written to {jsonPath}");
    return 0;
}
finally
{
    Directory.Delete(workDirectory, recursive: true);
}

static async Task SendAsync(HttpClient http, HttpMethod method, Uri uri, byte[]? body)
{
    using var request = new HttpRequestMessage(method, uri);
    if (body is not null)
    {
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new("application/json");
    }

    using var response = await http.SendAsync(request);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"{method} {uri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    await response.Content.CopyToAsync(Stream.Null);
}

static void Print(BenchmarkReport report)
{
    Console.WriteLine();
    Console.WriteLine($"Latency in ms through {report.Sidecar} vs direct ({report.Cores} cores, {report.SecondsPerMeasurement} s per measurement)");
    Console.WriteLine($"{"operation",-25} {"callers",7} | {"direct p50",10} {"p90",7} {"p99",7} {"ops/s",8} | {"sidecar p50",11} {"p90",7} {"p99",7} {"ops/s",8} | {"added p50",9}");
    foreach (var result in report.Results)
    {
        var (direct, sidecar) = (result.Direct, result.ThroughSidecar);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{result.Operation,-25} {result.Callers,7} | {direct.P50Ms,10:0.000} {direct.P90Ms,7:0.000} {direct.P99Ms,7:0.000} {direct.PerSecond,8:0} | {sidecar.P50Ms,11:0.000} {sidecar.P90Ms,7:0.000} {sidecar.P99Ms,7:0.000} {sidecar.PerSecond,8:0} | {result.AddedP50Ms,9:0.000}"));
    }

    Console.WriteLine("The ceiling of any hop here: Kestrel answering the same state get from StackExchange.Redis, no sidecar logic");
    foreach (var hop in report.BareHops)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{hop.Operation,-25} {hop.Callers,7} | p50 {hop.BareHop.P50Ms:0.000} ms, {hop.BareHop.PerSecond:0} ops/s | {hop.SidecarOperation} through the sidecar: {hop.Sidecar.P50Ms - hop.BareHop.P50Ms:+0.000;-0.000} ms p50, {hop.Sidecar.PerSecond / hop.BareHop.PerSecond:0.00} of its throughput"));
    }

    // Each row's CPU time per operation is what its throughput costs: on N cores no run can exceed N s / total.
    var processes = report.Results[0].Direct.CpuMicrosecondsPerOperation.Keys.ToArray();
    Console.WriteLine();
    Console.WriteLine($"CPU time per operation in µs");
    Console.WriteLine($"{"operation",-25} {"callers",7} {"side",-8} | {string.Join(" ", processes.Select(name => $"{name,14}"))} | {"total",7}");
    foreach (var (operation, callers, side, summary) in report.Results
        .SelectMany(result => new[] { (result.Operation, result.Callers, "direct", result.Direct), (result.Operation, result.Callers, "sidecar", result.ThroughSidecar) })
        .Concat(report.BareHops.Select(hop => (hop.Operation, hop.Callers, "bare hop", hop.BareHop))))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{operation,-25} {callers,7} {side,-8} | {string.Join(" ", processes.Select(name => $"{summary.CpuMicrosecondsPerOperation[name],14:0.0}"))} | {summary.CpuMicrosecondsPerOperation.Values.Sum(),7:0.0}"));
    }

    foreach (var memory in report.SidecarMemory)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Sidecar memory ({memory.AppId}): {memory.ResidentMb:0.0} MB resident at the end ({memory.PeakResidentMb:0.0} MB peak), of which {memory.AnonymousMb:0.0} MB private; {memory.ProportionalMb:0.0} MB proportional (PSS)"));
    }
}

static string Components(RedisServer redis)
{
    var password = redis.Password is null ? "" : $"\n  - name: redisPassword\n    value: \"{redis.Password}\"";
    return $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: statestore
        spec:
          type: state.redis
          version: v1
          metadata:
          - name: redisHost
            value: "127.0.0.1:{redis.Port}"{password}
        ---
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: pubsub
        spec:
          type: pubsub.redis
          version: v1
          metadata:
          - name: redisHost
            value: "127.0.0.1:{redis.Port}"
          - name: maxLenApprox
            value: "10000"{password}
        """;
}

