using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Aspire.Hosting.Dapr;
using CloudScale.ServiceDefaults.Health;
using CloudScale.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CloudScale.Foundation.Tests;

public sealed class HealthEndpointTests
{
    // Reconnecting StackExchange.Redis backs off for several seconds after an outage.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(40);

    /// <summary>The names Aspire.Npgsql and Aspire.StackExchange.Redis give their checks.</summary>
    private const string PostgresCheck = "PostgreSql";
    private const string RedisCheck = "StackExchange.Redis";
    private static readonly Dictionary<string, string?> OneSecondChecks = new(StringComparer.Ordinal) { ["ServiceDefaults:HealthCheckTimeout"] = "00:00:01" };

    [Fact]
    public async Task Readiness_follows_postgres_and_redis_while_liveness_stays_up()
    {
        await using var postgres = await PostgresServer.StartNewAsync();
        await using var redis = await RedisServer.StartNewAsync(new RedisServerOptions { Password = "redis-secret" });
        var configuration = new Dictionary<string, string?>(OneSecondChecks, StringComparer.Ordinal)
        {
            ["ConnectionStrings:bookingdb"] = await postgres.CreateDatabaseAsync("bookingdb"),
            ["ConnectionStrings:cache"] = redis.ConnectionString,
        };
        await using var service = await SampleService.StartAsync(_ => { }, configuration, builder =>
        {
            builder.AddNpgsqlDataSource("bookingdb");
            builder.AddRedisClient("cache");
        });
        var client = service.Client;

        // The Redis client connects in the background after start-up.
        var healthy = await Poll.UntilAsync(() => TimedGetAsync(client, "/health"), result => result.Status == HttpStatusCode.OK, Deadline);
        Assert.Equal("Healthy", CheckStatus(healthy.Body, PostgresCheck));
        Assert.Equal("Healthy", CheckStatus(healthy.Body, RedisCheck));

        await postgres.StopAsync();
        await AssertOnlyReadinessFailsAsync(client, PostgresCheck, postgres.Password, postgres.Port);
        await postgres.StartAsync();
        await Poll.UntilAsync(() => TimedGetAsync(client, "/health"), result => result.Status == HttpStatusCode.OK, Deadline);

        await redis.StopAsync();
        await AssertOnlyReadinessFailsAsync(client, RedisCheck, redis.Password!, redis.Port);
        await redis.StartAsync();
        var recovered = await Poll.UntilAsync(() => TimedGetAsync(client, "/health"), result => result.Status == HttpStatusCode.OK, Deadline);
        Assert.Equal("Healthy", CheckStatus(recovered.Body, RedisCheck));
    }

    [Fact]
    public async Task Dapr_readiness_follows_the_sidecars_outbound_health_not_whether_the_sidecar_has_reached_the_app()
    {
        // The sidecar's app port is closed: its /v1.0/healthz stays 500 ("app" not ready), /v1.0/healthz/outbound is 204.
        await using var sidecar = await DaprSidecar.StartAsync(new SidecarSettings("sample", SidecarResources.Folder())
        {
            AppPort = LoopbackPorts.Free(),
            ReadinessPath = "/v1.0/healthz/outbound",
        });
        var configuration = new Dictionary<string, string?>(OneSecondChecks, StringComparer.Ordinal)
        {
            ["DAPR_HTTP_ENDPOINT"] = sidecar.HttpEndpoint.ToString().TrimEnd('/'),
            ["DAPR_GRPC_ENDPOINT"] = sidecar.GrpcEndpoint.ToString().TrimEnd('/'),
            ["APP_API_TOKEN"] = "app-token",
        };
        await using var service = await SampleService.StartAsync(_ => { }, configuration, builder => builder.AddDaprSidecar());
        using (var notReady = await sidecar.Http.GetAsync("/v1.0/healthz", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, notReady.StatusCode);
        }

        var ready = await TimedGetAsync(service.Client, "/health");
        Assert.Equal((HttpStatusCode.OK, "Healthy"), (ready.Status, CheckStatus(ready.Body, "dapr")));

        await sidecar.KillAsync();
        var unhealthy = await Poll.UntilAsync(() => TimedGetAsync(service.Client, "/health"), result => result.Status == HttpStatusCode.ServiceUnavailable, Deadline);
        Assert.Equal("Unhealthy", CheckStatus(unhealthy.Body, "dapr"));
        Assert.Equal(HttpStatusCode.OK, (await TimedGetAsync(service.Client, "/alive")).Status);
    }

    private static async Task AssertOnlyReadinessFailsAsync(HttpClient client, string check, string password, int port)
    {
        var unhealthy = await Poll.UntilAsync(() => TimedGetAsync(client, "/health"), result => result.Status == HttpStatusCode.ServiceUnavailable, Deadline);
        Assert.Equal("Unhealthy", CheckStatus(unhealthy.Body, check));
        Assert.True(unhealthy.Elapsed < TimeSpan.FromSeconds(5), $"/health took {unhealthy.Elapsed} with a 1 s check timeout: {unhealthy.Body}");
        Assert.DoesNotContain(password, unhealthy.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(port.ToString(System.Globalization.CultureInfo.InvariantCulture), unhealthy.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", unhealthy.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task A_hanging_check_is_cut_off_by_the_timeout()
    {
        await using var service = await SampleService.StartAsync(_ => { }, OneSecondChecks, builder =>
            builder.Services.AddHealthChecks().AddAsyncCheck("hangs", async cancellationToken =>
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
                return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy();
            }, [HealthEndpoints.ReadyTag]));

        var result = await TimedGetAsync(service.Client, "/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, result.Status);
        Assert.Equal("Unhealthy", CheckStatus(result.Body, "hangs"));
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(5), $"/health took {result.Elapsed} with a 1 s check timeout.");
        var alive = await service.Client.GetAsync("/alive", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Null(CheckStatus(await alive.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), "hangs"));
    }

    [Fact]
    public async Task Readiness_turns_off_when_shutdown_begins()
    {
        await using var service = await SampleService.StartAsync(_ => { });
        var lifetime = service.App.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>();
        var check = service.App.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>();

        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, (await check.CheckHealthAsync(TestContext.Current.CancellationToken)).Status);
        lifetime.StopApplication();

        var report = await check.CheckHealthAsync(TestContext.Current.CancellationToken);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, report.Entries["shutdown"].Status);
    }

    private static async Task<(HttpStatusCode Status, string Body, TimeSpan Elapsed)> TimedGetAsync(HttpClient client, string path)
    {
        var stopwatch = Stopwatch.StartNew();
        using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, body, stopwatch.Elapsed);
    }

    private static string? CheckStatus(string body, string name)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("checks").EnumerateArray()
            .Where(check => check.GetProperty("name").GetString() == name)
            .Select(check => check.GetProperty("status").GetString())
            .FirstOrDefault();
    }
}
