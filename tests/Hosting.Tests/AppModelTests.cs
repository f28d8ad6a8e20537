using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using CloudScale.Testing;
using Npgsql;

namespace CloudScale.Hosting.Tests;

public sealed partial class AppModelTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Injected_variables_have_aspires_names_and_formats_and_work()
    {
        await using var builder = DistributedApplicationTestingBuilder.Create();
        var cache = builder.AddRedis("cache");
        var db = builder.AddPostgres("pg").AddDatabase("db");
        var api = builder.AddProject<Projects.EchoService>("api").WithHttpHealthCheck("/health");
        builder.AddProject<Projects.EchoService>("web")
            .WithReference(cache).WithReference(db).WithReference(api)
            .WithEnvironment("Feature__Flag", "on")
            .WithHttpHealthCheck("/health")
            .WaitFor(cache).WaitFor(db).WaitFor(api);
        await using var app = await StartHealthyAsync(builder, "web");

        var env = await app.CreateHttpClient("web").GetFromJsonAsync<Dictionary<string, string?>>("/env", TestContext.Current.CancellationToken);

        Assert.NotNull(env);
        Assert.Matches(@"^localhost:\d+,password=[A-Za-z0-9]{22}$", env["ConnectionStrings__cache"]);
        Assert.Matches(@"^Host=localhost;Port=\d+;Username=postgres;Password=[A-Za-z0-9]{22};Database=db$", env["ConnectionStrings__db"]);
        Assert.Equal(app.GetEndpoint("api").ToString().TrimEnd('/'), env["services__api__http__0"]);
        Assert.Matches(@"^http://localhost:\d+$", env["services__api__http__0"]);
        Assert.Matches(@"^http://localhost:\d+$", env["ASPNETCORE_URLS"]);
        Assert.NotEqual(app.GetEndpoint("web").ToString().TrimEnd('/'), env["ASPNETCORE_URLS"], StringComparer.Ordinal);
        Assert.Equal("web", env["OTEL_SERVICE_NAME"]);
        Assert.Matches("^service.instance.id=[a-z]{8}$", env["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.Equal("true", env["OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES"]);
        Assert.Equal("true", env["OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES"]);
        Assert.Equal("in_memory", env["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"]);
        Assert.Equal("simple", env["LOGGING__CONSOLE__FORMATTERNAME"]);
        Assert.Equal("true", env["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"]);
        Assert.Equal("on", env["Feature__Flag"]);

        // The connection strings are not only well-formed: they reach the real servers.
        await using var connection = new NpgsqlConnection(env["ConnectionStrings__db"]!.Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        Assert.Equal("db", connection.Database);
        Assert.Equal("+PONG", await RedisPingAsync(env["ConnectionStrings__cache"]!));
    }

    [Fact]
    public async Task A_project_that_waits_for_postgres_starts_only_once_postgres_is_healthy()
    {
        await using var builder = DistributedApplicationTestingBuilder.Create();
        var db = builder.AddPostgres("pg").AddDatabase("db");
        builder.AddProject<Projects.EchoService>("waiter").WithReference(db).WaitFor(db).WithHttpHealthCheck("/health");
        await using var app = await StartHealthyAsync(builder, "waiter");

        var startup = await app.CreateHttpClient("waiter").GetFromJsonAsync<StartupReport>("/startup", TestContext.Current.CancellationToken);

        Assert.True(startup!.DatabaseAtStartup, "The project started before its database answered.");
    }

    [Fact]
    public async Task A_killed_process_is_restarted_and_its_restart_reported()
    {
        await using var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddProject<Projects.EchoService>("echo").WithHttpHealthCheck("/health");
        await using var app = await StartHealthyAsync(builder, "echo");
        var client = app.CreateHttpClient("echo");
        var firstPid = await client.GetFromJsonAsync<int>("/pid", TestContext.Current.CancellationToken);

        KillProcess(firstPid);

        var restarted = await app.ResourceNotifications.WaitForResourceAsync("echo",
            e => e.Snapshot is { Restarts: >= 1, State: KnownResourceStates.Running, HealthStatus: Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy },
            TestContext.Current.CancellationToken).WaitAsync(Deadline, TestContext.Current.CancellationToken);
        var secondPid = await client.GetFromJsonAsync<int>("/pid", TestContext.Current.CancellationToken);
        Assert.NotEqual(firstPid, secondPid);
        Assert.Equal(secondPid, Assert.Single(restarted.Snapshot.Replicas).ProcessId);
    }

    [Fact]
    public async Task Three_replicas_share_one_endpoint_and_a_killed_one_leaves_the_rotation()
    {
        await using var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddProject<Projects.EchoService>("echo").WithReplicas(3).WithHttpHealthCheck("/health");
        await using var app = await StartHealthyAsync(builder, "echo");

        var seen = new HashSet<int>();
        for (var request = 0; request < 30; request++)
        {
            seen.Add(await PidThroughEndpointAsync(app));
        }

        Assert.Equal(3, seen.Count);
        var victim = seen.First();
        KillProcess(victim);
        // Out of rotation once the AppHost has seen it exit; until then the kernel may still queue connections for it.
        await Poll.UntilAsync(() => !ProcessIds(app).Contains(victim), Deadline, () => $"Replica {victim} is still reported as running.");

        for (var request = 0; request < 20; request++)
        {
            Assert.NotEqual(victim, await PidThroughEndpointAsync(app));
        }
    }

    [Fact]
    public async Task Nothing_is_left_running_after_shutdown()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddRedis("cache");
        builder.AddPostgres("pg").AddDatabase("db");
        builder.AddProject<Projects.EchoService>("echo").WithReplicas(2).WithHttpHealthCheck("/health");
        var app = await StartHealthyAsync(builder, "cache", "db", "echo");
        var pids = ProcessIds(app);
        Assert.Equal(4, pids.Count);
        Assert.All(pids, pid => Assert.True(ProcessInfo.IsRunning(pid)));

        await builder.DisposeAsync();

        await Poll.UntilAsync(() => !pids.Any(ProcessInfo.IsRunning), TimeSpan.FromSeconds(15),
            () => "Still running: " + string.Join(", ", pids.Where(ProcessInfo.IsRunning)));
    }

    internal static async Task<DistributedApplication> StartHealthyAsync(IDistributedApplicationTestingBuilder builder, params string[] resources)
    {
        var app = await builder.BuildAsync(TestContext.Current.CancellationToken);
        await app.StartAsync(TestContext.Current.CancellationToken);
        foreach (var resource in resources)
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(resource, TestContext.Current.CancellationToken).WaitAsync(Deadline, TestContext.Current.CancellationToken);
        }

        return app;
    }

    internal static List<int> ProcessIds(DistributedApplication app) =>
        [.. app.ResourceNotifications.CurrentStates.SelectMany(e => e.Snapshot.Replicas).Select(r => r.ProcessId).OfType<int>()];

    private static async Task<int> PidThroughEndpointAsync(DistributedApplication app)
    {
        // A new connection per request: the proxy balances connections, as DCP's does.
        using var client = new HttpClient { BaseAddress = app.GetEndpoint("echo"), Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.ConnectionClose = true;
        return await client.GetFromJsonAsync<int>("/pid", TestContext.Current.CancellationToken);
    }

    private static void KillProcess(int pid)
    {
        using var process = System.Diagnostics.Process.GetProcessById(pid);
        process.Kill();
    }

    private static async Task<string> RedisPingAsync(string connectionString)
    {
        var match = RedisConnectionString().Match(connectionString);
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync("127.0.0.1", int.Parse(match.Groups["port"].Value), TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        var password = match.Groups["password"].Value;
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"AUTH {password}\r\nPING\r\n"), TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream);
        Assert.Equal("+OK", await reader.ReadLineAsync(TestContext.Current.CancellationToken));
        return (await reader.ReadLineAsync(TestContext.Current.CancellationToken))!;
    }

    [GeneratedRegex("^localhost:(?<port>\\d+),password=(?<password>[A-Za-z0-9]+)$", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex RedisConnectionString();

    private sealed record StartupReport(bool? DatabaseAtStartup);
}
