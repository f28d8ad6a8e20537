using System.Diagnostics;
using CloudScale.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CloudScale.Foundation.Tests;

public sealed partial class TelemetryTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Spans_logs_and_metrics_reach_the_otlp_endpoint_as_protobuf()
    {
        await using var collector = await OtlpListener.StartAsync();
        await using var service = await SampleService.StartAsync(MapHello, new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "sample",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "100",
        });

        var response = await service.Client.GetAsync("/hello", TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();

        await Poll.UntilAsync(
            () => collector.Count("/v1/traces") > 0 && collector.Count("/v1/logs") > 0 && collector.Count("/v1/metrics") > 0,
            Deadline,
            () => "Received: " + string.Join(", ", collector.Requests.Select(entry => $"{entry.Key} ×{entry.Value}")));
        Assert.All(collector.Requests.Keys, key => Assert.EndsWith(" application/x-protobuf", key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Nothing_is_exported_without_an_otlp_endpoint()
    {
        await using var collector = await OtlpListener.StartAsync();
        // Signal-specific endpoints alone must not switch exporting on: only OTEL_EXPORTER_OTLP_ENDPOINT does,
        // so a service started outside the AppHost never tries to reach a collector.
        var service = await SampleService.StartAsync(MapHello, new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = collector.Endpoint + "/v1/traces",
            ["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"] = collector.Endpoint + "/v1/logs",
            ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = collector.Endpoint + "/v1/metrics",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "100",
        });

        (await service.Client.GetAsync("/hello", TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        // Stopping the host disposes the providers, which flushes anything an exporter would still send.
        await service.DisposeAsync();

        Assert.Equal(0, collector.Total);
    }

    [Fact]
    public async Task Logs_written_during_a_request_carry_its_trace_and_span_ids()
    {
        var captured = new CapturingLoggerProvider();
        await using var service = await SampleService.StartAsync(MapHello, configure: builder => builder.Logging.AddProvider(captured));

        var traceId = await service.Client.GetStringAsync("/hello", TestContext.Current.CancellationToken);

        var entry = Assert.Single(captured.Entries, e => e.Message == "Said hello");
        Assert.Equal(traceId, entry.Scope.GetValueOrDefault("TraceId"));
        Assert.Matches("^[0-9a-f]{16}$", entry.Scope.GetValueOrDefault("SpanId") ?? "");
    }

    private static void MapHello(WebApplication app) => app.MapGet("/hello", (ILogger<TelemetryTests> logger) =>
    {
        LogHello(logger);
        return Results.Text(Activity.Current?.TraceId.ToString() ?? "no activity");
    });

    [LoggerMessage(Level = LogLevel.Information, Message = "Said hello")]
    private static partial void LogHello(ILogger logger);

    private sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider? _scopes;

        public List<(string Message, Dictionary<string, string?> Scope)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new CapturingLogger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class CapturingLogger(CapturingLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes?.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scope = new Dictionary<string, string?>(StringComparer.Ordinal);
                provider._scopes?.ForEachScope((value, values) =>
                {
                    if (value is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (var (key, item) in pairs)
                        {
                            values[key] = item?.ToString();
                        }
                    }
                }, scope);
                lock (provider.Entries)
                {
                    provider.Entries.Add((formatter(state, exception), scope));
                }
            }
        }
    }
}
