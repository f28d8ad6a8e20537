using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using CloudScale.Testing;
using Dapr;
using Dapr.Client;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CloudScale.Sidecar.Tests;

/// <summary>
/// The sidecar between apps written as the services are, on the real SDK: Dapr.AspNetCore on the app side
/// (<c>AddDapr</c> app-token authentication, <c>MapSubscribeHandler</c>, <c>WithTopic</c> rules and dead-letter topics),
/// Dapr.Client on the caller's side (<c>CreateInvokeHttpClient</c>, state and publish over gRPC).
/// </summary>
public sealed class DaprSdkAppTests(TestServers servers)
{
    private const string AppToken = "app-secret";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_sidecar_presents_APP_API_TOKEN_through_two_sidecars_and_one_with_another_token_is_refused()
    {
        var seen = new ConcurrentQueue<(string? Token, string? TraceParent)>();
        var appId = $"secure-{Guid.NewGuid().ToString("N")[..8]}";
        await using var app = await InProcessApp.StartAsync(
            new Dictionary<string, string?>(StringComparer.Ordinal),
            builder =>
            {
                builder.Services.AddAuthentication().AddDapr(options => options.Token = AppToken);
                builder.Services.AddAuthorization(options => options.AddDapr());
            },
            web =>
            {
                web.MapSubscribeHandler().RequireAuthorization("Dapr");
                web.MapPost("/work", (HttpRequest request) =>
                {
                    seen.Enqueue((request.Headers["dapr-api-token"], request.Headers["traceparent"]));
                    return Results.Text("done");
                }).WithTopic("pubsub", "work").RequireAuthorization("Dapr");
            });
        var appToken = new Dictionary<string, string>(StringComparer.Ordinal) { ["APP_API_TOKEN"] = AppToken };
        await using var target = await Sidecars.StartAsync(appId, SidecarResources.Folder(), app.Port, appToken);
        var names = SidecarResources.NameResolutionFile(new Dictionary<string, Uri>(StringComparer.Ordinal) { [appId] = target.HttpEndpoint });
        await using var caller = await Sidecars.StartAsync(
            $"caller-{appId}", SidecarResources.Folder(), environment: new Dictionary<string, string>(StringComparer.Ordinal) { ["CLOUDSCALE_NAME_RESOLUTION_FILE"] = names });
        using var invoke = DaprClient.CreateInvokeHttpClient(appId, caller.HttpEndpoint.ToString());

        const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/work");
        request.Headers.Add("traceparent", TraceParent);
        using var response = await invoke.SendAsync(request, Cancel);

        Assert.Equal("done", await response.Content.ReadAsStringAsync(Cancel));
        var (token, traceParent) = Assert.Single(seen);
        Assert.Equal(AppToken, token);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", traceParent?.Split('-')[1]);
        // The subscription list, also behind the app token, was read: the sidecar knows the app's topic.
        using var channel = GrpcChannel.ForAddress(target.GrpcEndpoint);
        var metadata = await new global::Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel).GetMetadataAsync(new(), cancellationToken: Cancel);
        Assert.Equal(("pubsub", "work"), (Assert.Single(metadata.Subscriptions).PubsubName, metadata.Subscriptions[0].Topic));

        await using var impostor = await Sidecars.StartAsync(
            appId, SidecarResources.Folder(), app.Port, new Dictionary<string, string>(StringComparer.Ordinal) { ["APP_API_TOKEN"] = "not-the-app-token" });
        using var direct = DaprClient.CreateInvokeHttpClient(appId, impostor.HttpEndpoint.ToString());
        using var refused = await direct.PostAsync(new Uri("/work", UriKind.Relative), content: null, Cancel);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Single(seen);
    }

    [Fact]
    public async Task Events_published_over_grpc_follow_the_apps_rules_and_a_dropped_one_reaches_the_dead_letter_topic()
    {
        var redis = await servers.RedisAsync();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        string topic = $"orders-{suffix}", dead = $"orders-dead-{suffix}";
        var delivered = new ConcurrentQueue<(string Route, string Body)>();
        async Task<IResult> Record(string route, HttpRequest request)
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync(Cancel);
            delivered.Enqueue((route, body));
            return Results.Json(new { status = body.Contains("poison", StringComparison.Ordinal) ? "DROP" : "SUCCESS" });
        }

        await using var app = await InProcessApp.StartAsync(
            new Dictionary<string, string?>(StringComparer.Ordinal),
            _ => { },
            web =>
            {
                web.UseCloudEvents();
                web.MapSubscribeHandler();
                web.MapPost("/orders", (HttpRequest request) => Record("default", request))
                    .WithTopic(new TopicOptions { PubsubName = "pubsub", Name = topic, DeadLetterTopic = dead });
                web.MapPost("/orders/cancelled", (HttpRequest request) => Record("cancelled", request))
                    .WithTopic(new TopicOptions { PubsubName = "pubsub", Name = topic, Match = "event.type == \"order.cancelled\"", Priority = 1, DeadLetterTopic = dead });
                web.MapPost("/dead", (HttpRequest request) => Record("dead", request)).WithTopic("pubsub", dead);
            });
        await using var sidecar = await Sidecars.StartAsync(
            $"rules-{suffix}", SidecarResources.Folder(("pubsub.yaml", SidecarResources.RedisPubSub("pubsub", redis.ConnectionString))), app.Port);
        using var dapr = DaprSdkFixture.NewClient(sidecar);

        await dapr.PublishEventAsync("pubsub", topic, new { order = "placed" }, Cancel);
        await dapr.PublishEventAsync(
            "pubsub", topic, new { order = "cancelled" }, new Dictionary<string, string>(StringComparer.Ordinal) { ["cloudevent.type"] = "order.cancelled" }, Cancel);
        await dapr.PublishEventAsync("pubsub", topic, new { order = "poison" }, Cancel);

        await Poll.UntilAsync(() => delivered.Count >= 4, Deadline, () => $"{string.Join(", ", delivered)}\n{sidecar.Output}");
        Assert.Equal(
            [("cancelled", """{"order":"cancelled"}"""), ("dead", """{"order":"poison"}"""), ("default", """{"order":"placed"}"""), ("default", """{"order":"poison"}""")],
            delivered.Order());
    }

    [Fact]
    public async Task A_value_saved_over_grpc_with_ttlInSeconds_expires()
    {
        var redis = await servers.RedisAsync();
        await using var sidecar = await Sidecars.StartAsync(
            $"ttl-{Guid.NewGuid().ToString("N")[..8]}", SidecarResources.Folder(("statestore.yaml", SidecarResources.RedisStateStore("statestore", redis.ConnectionString))));
        using var dapr = DaprSdkFixture.NewClient(sidecar);

        await dapr.SaveStateAsync("statestore", "short-lived", new { n = 1 }, metadata: new Dictionary<string, string>(StringComparer.Ordinal) { ["ttlInSeconds"] = "1" }, cancellationToken: Cancel);

        Assert.Equal(1, (await dapr.GetStateAsync<JsonElement>("statestore", "short-lived", cancellationToken: Cancel)).GetProperty("n").GetInt32());
        await Poll.UntilAsync(
            async () => (await dapr.GetStateAsync<JsonElement?>("statestore", "short-lived", cancellationToken: Cancel)) is null, Deadline, () => sidecar.Output);
    }
}
