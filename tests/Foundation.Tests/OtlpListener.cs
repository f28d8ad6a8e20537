using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CloudScale.Foundation.Tests;

/// <summary>An HTTP listener standing in for an OTLP collector: decodes nothing, counts requests per path and content type.</summary>
internal sealed class OtlpListener : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpListener(WebApplication app) => _app = app;

    public ConcurrentDictionary<string, int> Requests { get; } = new(StringComparer.Ordinal);

    public string Endpoint => _app.Urls.First();

    public int Count(string path, string contentType = "application/x-protobuf") =>
        Requests.GetValueOrDefault($"{path} {contentType}");

    public int Total => Requests.Values.Sum();

    public static async Task<OtlpListener> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var listener = new OtlpListener(app);
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            listener.Requests.AddOrUpdate($"{context.Request.Path} {context.Request.ContentType}", 1, (_, count) => count + 1);
            return Results.Ok();
        });
        await app.StartAsync();
        return listener;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
