using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CloudScale.Testing.Otlp;

/// <summary>
/// A span as exported over OTLP, with the <c>service.name</c> of the process that exported it and the name of the
/// instrumentation scope (activity source) that made it.
/// </summary>
public sealed record ExportedSpan(string Service, string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind, string Scope);

/// <summary>
/// An OTLP/HTTP collector for tests (<c>http/protobuf</c>): decodes the spans posted to <c>/v1/traces</c> so that a test
/// can check what a process really exported, and accepts metrics and logs without decoding them.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ExportedSpan> _spans = new();

    private OtlpCollector(WebApplication app) => _app = app;

    /// <summary>The base URL, what <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> takes.</summary>
    public string Endpoint => _app.Urls.First();

    public IReadOnlyList<ExportedSpan> Spans => [.. _spans];

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var collector = new OtlpCollector(app);
        app.MapPost("/v1/traces", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            foreach (var span in TraceRequestDecoder.Decode(body.ToArray()))
            {
                collector._spans.Enqueue(span);
            }

            return Results.Ok();
        });
        app.MapPost("/v1/{signal}", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            return Results.Ok();
        });
        await app.StartAsync();
        return collector;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
