using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CloudScale.Sidecar.Tests;

/// <summary>A real app on 127.0.0.1:0 that echoes what it receives: method, path, query, headers, body.</summary>
internal sealed class EchoApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EchoApp(WebApplication app) => _app = app;

    public int Port => new Uri(_app.Urls.First()).Port;

    public ConcurrentQueue<IHeaderDictionary> ReceivedHeaders { get; } = new();

    public static async Task<EchoApp> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var echo = new EchoApp(app);
        app.Map("/{**path}", async (HttpContext context) =>
        {
            echo.ReceivedHeaders.Enqueue(new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase)));
            var status = context.Request.Query.TryGetValue("status", out var code) ? int.Parse(code.ToString()) : 200;
            context.Response.StatusCode = status;
            context.Response.Headers["x-echo-method"] = context.Request.Method;
            context.Response.Headers["x-echo-path"] = context.Request.Path.Value;
            context.Response.Headers["x-echo-query"] = context.Request.QueryString.Value;
            context.Response.Headers["x-echo-header"] = context.Request.Headers["x-custom"].ToString();
            context.Response.ContentType = "text/plain";
            await context.Request.Body.CopyToAsync(context.Response.Body);
        });
        await app.StartAsync();
        return echo;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
