using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CloudScale.Sidecar.Benchmarks;

/// <summary>
/// The app invoked through the sidecars: raw Kestrel answering a tiny body, so the figures show the sidecars' cost. It
/// also answers <c>/state/{key}</c> from Redis as state.redis stores it: one bare HTTP hop in front of StackExchange.Redis,
/// the ceiling of any HTTP service (a sidecar included) on the same machine.
/// </summary>
internal sealed class TargetApp(WebApplication app, ConnectionMultiplexer redis) : IAsyncDisposable
{
    public int Port { get; } = new Uri(app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

    public static async Task<TargetApp> StartAsync(string redisConnectionString, string appId)
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(redisConnectionString);
        var database = redis.GetDatabase();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/echo", () => "ok");
        app.MapGet("/state/{key}", async (string key) =>
        {
            var fields = (RedisResult[])(await database.ExecuteAsync("HMGET", $"{appId}||{key}", "data", "version"))!;
            return Results.Text((string?)fields[0] ?? "", "application/json");
        });
        await app.StartAsync();
        return new TargetApp(app, redis);
    }

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        await redis.DisposeAsync();
    }
}
