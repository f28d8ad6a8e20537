using System.Collections.Concurrent;
using CloudScale.Testing;
using Dapr;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace CloudScale.Sidecar.Tests;

/// <summary>
/// A sidecar with <c>state.redis</c>, <c>state.postgresql</c> and <c>pubsub.redis</c>, beside an app built on the real
/// Dapr.AspNetCore (<c>UseCloudEvents</c>, <c>MapSubscribeHandler</c>, <c>WithTopic</c>), and the real
/// <see cref="DaprClient"/> pointed at both of the sidecar's APIs.
/// </summary>
public sealed class DaprSdkFixture(TestServers servers) : IAsyncLifetime
{
    private ConnectionMultiplexer? _redis;

    internal string AppId { get; } = $"sdk-{Guid.NewGuid().ToString("N")[..8]}";

    internal string OrdersTopic => $"orders-{AppId}";

    internal DaprSidecar Sidecar { get; private set; } = null!;

    internal InProcessApp App { get; private set; } = null!;

    /// <summary>The bodies the app's <c>/orders</c> subscription received (after <c>UseCloudEvents</c> unwrapped them).</summary>
    internal ConcurrentQueue<string> Orders { get; } = new();

    internal DaprClient Client { get; private set; } = null!;

    internal IDatabase Redis => _redis!.GetDatabase();

    public async ValueTask InitializeAsync()
    {
        var redis = await servers.RedisAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var database = await servers.CreateDatabaseAsync();
        App = await InProcessApp.StartAsync(
            new Dictionary<string, string?>(StringComparer.Ordinal),
            builder => builder.Services.AddDaprClient(),
            app =>
            {
                app.UseCloudEvents();
                app.MapSubscribeHandler();
                app.MapPost("/orders", async (HttpRequest request) =>
                {
                    using var reader = new StreamReader(request.Body);
                    Orders.Enqueue(await reader.ReadToEndAsync());
                    return Results.Ok();
                }).WithTopic("pubsub", OrdersTopic);
                app.MapPost("/echo", async (HttpRequest request) =>
                {
                    using var reader = new StreamReader(request.Body);
                    return Results.Text(await reader.ReadToEndAsync(), "application/json");
                });
            });
        Sidecar = await Sidecars.StartAsync(AppId, SidecarResources.Folder(
            ("statestore.yaml", SidecarResources.RedisStateStore("statestore", redis.ConnectionString)),
            ("pg.yaml", SidecarResources.PostgresStateStore("pg", database)),
            ("pubsub.yaml", SidecarResources.RedisPubSub("pubsub", redis.ConnectionString))), App.Port);
        Client = NewClient(Sidecar);
    }

    /// <summary>A client of <paramref name="sidecar"/>'s gRPC and HTTP APIs, with <paramref name="apiToken"/> if given.</summary>
    internal static DaprClient NewClient(DaprSidecar sidecar, string? apiToken = null) =>
        new DaprClientBuilder()
            .UseGrpcEndpoint(sidecar.GrpcEndpoint.ToString())
            .UseHttpEndpoint(sidecar.HttpEndpoint.ToString())
            .UseDaprApiToken(apiToken)
            .Build();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Sidecar.DisposeAsync();
        await App.DisposeAsync();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}
