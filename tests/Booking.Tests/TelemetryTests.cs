using System.Diagnostics;
using System.Net;
using CloudScale.Testing;
using CloudScale.Testing.Otlp;

namespace CloudScale.Booking.Tests;

public sealed class TelemetryTests(BookingServiceFixture booking) : IClassFixture<BookingServiceFixture>
{
    private const int ServerKind = 2;

    private static readonly ActivitySource TestSource = new("CloudScale.Booking.Tests");

    [Fact]
    public async Task A_room_read_exports_its_postgres_and_redis_spans_under_the_request_span()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var replica = await booking.StartReplicaAsync(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "booking-traced",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        });
        var room = await booking.Client.CreateRoomAsync();

        // A room this replica has never read: its memory misses, so the read goes to Redis, then to Postgres. The request is
        // made inside a span of the test's own (a CloudScale.* source, which ServiceDefaults records), as other tests'
        // requests in this process are exported too.
        string traceId;
        using (var span = TestSource.StartActivity("read the room"))
        {
            traceId = span!.TraceId.ToHexString();
            using var response = await replica.Client.FetchAsync($"/rooms/{room.Id}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await Poll.UntilAsync(
            () => RequestTrace(collector, traceId) is { } trace && trace.Any(span => span.Scope == "Npgsql") && trace.Any(span => span.Scope.Contains("StackExchangeRedis", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20),
            () => "Exported in the trace: " + string.Join(", ", collector.Spans.Where(span => span.TraceId == traceId).Select(span => $"{span.Scope}/{span.Name} {span.SpanId}<{span.ParentSpanId}")));
    }

    /// <summary>The spans below the server span of GET /rooms/{id}, once it has been exported.</summary>
    private static List<ExportedSpan>? RequestTrace(OtlpCollector collector, string traceId)
    {
        var spans = collector.Spans;
        if (spans.FirstOrDefault(span => span.TraceId == traceId && span.Kind == ServerKind && span.Name == "GET /rooms/{id:guid}") is not { } request)
        {
            return null;
        }

        var byId = spans.Where(span => span.TraceId == request.TraceId).ToDictionary(span => span.SpanId, StringComparer.Ordinal);
        return [.. byId.Values.Where(span => IsBelow(span, request.SpanId, byId))];
    }

    private static bool IsBelow(ExportedSpan span, string ancestor, Dictionary<string, ExportedSpan> byId) =>
        span.ParentSpanId is { } parent && (parent == ancestor || (byId.TryGetValue(parent, out var next) && IsBelow(next, ancestor, byId)));
}
