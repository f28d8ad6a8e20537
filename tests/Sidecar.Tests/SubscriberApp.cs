using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CloudScale.Sidecar.Tests;

/// <summary>One request the sidecar made to a subscriber app: the route, headers, raw body and the CloudEvent it carried.</summary>
internal sealed record Delivery(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public JsonElement Event => JsonDocument.Parse(Body).RootElement;

    public string EventId => Event.GetProperty("id").GetString()!;

    public string Topic => Event.GetProperty("topic").GetString()!;
}

/// <summary>What a route answers: an HTTP status and a body (JSON when it starts with '{').</summary>
internal sealed record Reply(int Status, string Body = "")
{
    public static Reply Ok { get; } = new(200);

    public static Reply WithStatus(string status) => new(200, $$"""{"status":"{{status}}"}""");
}

/// <summary>
/// A real subscriber app on 127.0.0.1: serves <c>GET /dapr/subscribe</c>, records every delivery, and answers each
/// route as the test scripts it (routes with no script answer 404). It can be stopped abruptly, as a crash would,
/// and started again on the same port.
/// </summary>
internal sealed class SubscriberApp : IAsyncDisposable
{
    private readonly string _subscriptions;
    private readonly ConcurrentDictionary<string, Func<Delivery, CancellationToken, Task<Reply>>> _routes;
    private WebApplication? _app;

    private SubscriberApp(string subscriptions, ConcurrentDictionary<string, Func<Delivery, CancellationToken, Task<Reply>>> routes, ConcurrentQueue<Delivery> deliveries)
    {
        _subscriptions = subscriptions;
        _routes = routes;
        Deliveries = deliveries;
    }

    public int Port { get; private set; }

    public ConcurrentQueue<Delivery> Deliveries { get; }

    /// <summary>Starts an app that returns <paramref name="subscriptions"/> (a JSON array) from <c>/dapr/subscribe</c>.</summary>
    public static async Task<SubscriberApp> StartAsync(string subscriptions = "[]", int port = 0)
    {
        var app = new SubscriberApp(subscriptions, new(StringComparer.Ordinal), new());
        await app.ListenAsync(port);
        return app;
    }

    /// <summary>Scripts a route; the token is cancelled when the request is aborted (the sidecar gave up, or the app was killed).</summary>
    public void Route(string path, Func<Delivery, CancellationToken, Task<Reply>> reply) => _routes[path] = reply;

    public void Route(string path, Func<Delivery, Reply> reply) => _routes[path] = (delivery, _) => Task.FromResult(reply(delivery));

    /// <summary>How many times the event of <paramref name="delivery"/> has reached <paramref name="delivery"/>'s route, this time included.</summary>
    public int Attempt(Delivery delivery) => Deliveries.Count(other => other.Path == delivery.Path && other.EventId == delivery.EventId);

    public IReadOnlyList<Delivery> At(string path) => [.. Deliveries.Where(delivery => delivery.Path == path)];

    public IReadOnlyList<Delivery> OfTopic(string topic) => [.. Deliveries.Where(delivery => delivery.Topic == topic)];

    /// <summary>Stops at once, aborting requests in progress as a killed process would; the port stays ours to reuse.</summary>
    public async Task KillAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(new CancellationToken(canceled: true));
            await app.DisposeAsync();
        }
    }

    /// <summary>Starts again on the same port, with the same routes and record of deliveries.</summary>
    public Task RestartAsync() => ListenAsync(Port);

    public async ValueTask DisposeAsync() => await KillAsync();

    private async Task ListenAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/dapr/subscribe", () => Results.Content(_subscriptions, "application/json"));
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var delivery = new Delivery(
                context.Request.Path.Value!,
                context.Request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body.ToArray());
            Deliveries.Enqueue(delivery);
            var reply = _routes.TryGetValue(delivery.Path, out var route) ? await route(delivery, context.RequestAborted) : new Reply(404);
            context.Response.StatusCode = reply.Status;
            if (reply.Body.Length > 0)
            {
                context.Response.ContentType = reply.Body.StartsWith('{') ? "application/json" : "text/plain";
                await context.Response.WriteAsync(reply.Body, context.RequestAborted);
            }
        });
        await app.StartAsync();
        Port = new Uri(app.Urls.First()).Port;
        _app = app;
    }
}
