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
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

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
    public async Task The_health_check_reports_unhealthy_within_its_bound_when_redis_stops_answering()
    {
        using var listener = FakeRedisServer.AnsweringOnlyTheHandshake();
        // The fake answers a bare PING handshake only, so the client must not send CLIENT SETNAME.
        using var host = BuildHost(listener.ConnectionString, options => options.ClientName = null);
        var redis = host.Services.GetRequiredService<IConnectionMultiplexer>();
        await Poll.UntilAsync(() => redis.IsConnected, Deadline);
        var stopwatch = Stopwatch.StartNew();

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Cancellation);

        Assert.Equal(HealthStatus.Unhealthy, report.Entries["redis"].Status);
        Assert.Equal("Redis did not answer PING.", report.Entries["redis"].Description);
        // Timers run on a coarse clock, so the bound may end a few milliseconds before the stopwatch says it has.
        Assert.InRange(stopwatch.Elapsed, RedisHealthCheck.Timeout - TimeSpan.FromMilliseconds(50), RedisHealthCheck.Timeout + TimeSpan.FromSeconds(1.5));
    }

    [Fact]
    public async Task Commands_emit_metrics_and_spans_following_the_database_conventions()
    {
        // A server of its own: the listeners are process-wide and other tests send SETs too.
        await using var server = await RedisServer.StartNewAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        using var telemetry = new TelemetryRecorder();

        await redis.GetDatabase().StringSetAsync($"telemetry:{Guid.NewGuid():N}", "1", cancellationToken: Cancellation);

        var span = Assert.Single(telemetry.Spans, activity => activity.OperationName == "SET" && Equals(activity.GetTagItem("server.port"), server.Port));
        Assert.Equal("redis", span.GetTagItem("db.system.name"));
        Assert.Equal("SET", span.GetTagItem("db.operation.name"));
        Assert.Equal(server.Host, span.GetTagItem("server.address"));
        Assert.Equal(server.Port, span.GetTagItem("server.port"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.Contains(("redis.client.commands", "SET", null), telemetry.Measurements);
        Assert.Contains(("db.client.operation.duration", "SET", null), telemetry.Measurements);
        Assert.Contains(telemetry.Measurements, measurement => measurement.Instrument == "redis.client.commands.in_flight");
    }

    [Fact]
    public async Task A_failing_command_marks_its_span_as_an_error_and_tags_its_metrics_with_the_error_type()
    {
        await using var server = await RedisServer.StartNewAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        using var telemetry = new TelemetryRecorder();
        // A command name no other test sends keeps other tests' process-wide measurements out of the assertions.
        var command = $"NO-SUCH-COMMAND-{Guid.NewGuid():N}";

        await Assert.ThrowsAsync<RedisServerException>(() => redis.GetDatabase().ExecuteAsync(command, [], Cancellation));

        var span = Assert.Single(telemetry.Spans, activity => activity.OperationName == command);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Contains("unknown command", span.StatusDescription, StringComparison.Ordinal);
        Assert.Equal(nameof(RedisServerException), span.GetTagItem("error.type"));
        Assert.Contains(("redis.client.commands", command, nameof(RedisServerException)), telemetry.Measurements);
        Assert.Contains(("db.client.operation.duration", command, nameof(RedisServerException)), telemetry.Measurements);
    }

    private static IHost BuildHost(string connectionString, Action<ConfigurationOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal) { ["ConnectionStrings:redis"] = connectionString });
        builder.AddRedisClient("redis", configure);
        return builder.Build();
    }

    /// <summary>Records every span and measurement of the <c>CloudScale.Redis</c> source and meter while it lives.</summary>
    private sealed class TelemetryRecorder : IDisposable
    {
        private readonly ActivityListener _spans;
        private readonly MeterListener _meters;

        public TelemetryRecorder()
        {
            _spans = new ActivityListener
            {
                ShouldListenTo = source => source.Name == RedisTelemetry.Name,
                Sample = (ref _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = Spans.Enqueue,
            };
            ActivitySource.AddActivityListener(_spans);
            _meters = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == RedisTelemetry.Name)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _meters.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Record(instrument, tags));
            _meters.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Record(instrument, tags));
            _meters.Start();
        }

        public ConcurrentQueue<Activity> Spans { get; } = new();

        public ConcurrentQueue<(string Instrument, string? Operation, string? ErrorType)> Measurements { get; } = new();

        public void Dispose()
        {
            _spans.Dispose();
            _meters.Dispose();
        }

        private void Record(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? operation = null;
            string? errorType = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "db.operation.name":
                        operation = tag.Value as string;
                        break;
                    case "error.type":
                        errorType = tag.Value as string;
                        break;
                }
            }

            Measurements.Enqueue((instrument.Name, operation, errorType));
        }
    }
}
