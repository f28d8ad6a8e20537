using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using CloudScale.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudScale.Redis.Tests;

public sealed class HostingAndTelemetryTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddRedisClient_registers_the_multiplexer_and_a_ready_health_check_that_follows_the_server()
    {
        await using var server = await RedisServer.StartNewAsync();
        using var host = BuildHost(server.ConnectionString);
        var redis = host.Services.GetRequiredService<IConnectionMultiplexer>();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        Assert.Same(redis, host.Services.GetRequiredKeyedService<IConnectionMultiplexer>("redis"));
        Assert.True(await redis.GetDatabase().StringSetAsync("hosted", "yes", cancellationToken: Cancellation));
        var healthy = await health.CheckHealthAsync(Cancellation);
        Assert.Equal(HealthStatus.Healthy, healthy.Entries["redis"].Status);
        Assert.Contains("ready", healthy.Entries["redis"].Tags, StringComparer.Ordinal);

        await server.StopAsync();
        var unhealthy = await health.CheckHealthAsync(Cancellation);

        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Entries["redis"].Status);
        Assert.Equal("Redis did not answer PING.", unhealthy.Entries["redis"].Description);
        Assert.True(unhealthy.Entries["redis"].Duration < TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task The_application_starts_while_redis_is_down_and_reports_unhealthy()
    {
        await using var server = await RedisServer.StartNewAsync();
        var connectionString = server.ConnectionString;
        await server.StopAsync();
        using var host = BuildHost($"{connectionString},connectTimeout=500");

        var redis = host.Services.GetRequiredService<IConnectionMultiplexer>();
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Cancellation);

        Assert.False(redis.IsConnected);
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["redis"].Status);
    }

    [Fact]
    public void A_missing_connection_string_names_the_setting_to_provide()
    {
        var builder = Host.CreateApplicationBuilder();

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddRedisClient("cache"));

        Assert.Contains("ConnectionStrings__cache", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commands_emit_metrics_and_spans_following_the_database_conventions()
    {
        // A server of its own: the listeners are process-wide and other tests send SETs too.
        await using var server = await RedisServer.StartNewAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        var marker = $"telemetry:{Guid.NewGuid():N}";
        var activities = new ConcurrentQueue<Activity>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RedisTelemetry.Name,
            Sample = (ref _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(activityListener);
        var measurements = new ConcurrentQueue<(string Instrument, string? Operation)>();
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RedisTelemetry.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => measurements.Enqueue((instrument.Name, Operation(tags))));
        meterListener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => measurements.Enqueue((instrument.Name, Operation(tags))));
        meterListener.Start();

        await redis.GetDatabase().StringSetAsync(marker, "1", cancellationToken: Cancellation);

        var span = Assert.Single(activities, activity => activity.OperationName == "SET" && Equals(activity.GetTagItem("server.port"), server.Port));
        Assert.Equal("redis", span.GetTagItem("db.system.name"));
        Assert.Equal("SET", span.GetTagItem("db.operation.name"));
        Assert.Equal(server.Host, span.GetTagItem("server.address"));
        Assert.Equal(server.Port, span.GetTagItem("server.port"));
        Assert.Contains(("redis.client.commands", "SET"), measurements);
        Assert.Contains(("db.client.operation.duration", "SET"), measurements);
        Assert.Contains(measurements, measurement => measurement.Instrument == "redis.client.commands.in_flight");
    }

    private static string? Operation(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "db.operation.name")
            {
                return tag.Value as string;
            }
        }

        return null;
    }

    private static IHost BuildHost(string connectionString)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal) { ["ConnectionStrings:redis"] = connectionString });
        builder.AddRedisClient("redis");
        return builder.Build();
    }
}
