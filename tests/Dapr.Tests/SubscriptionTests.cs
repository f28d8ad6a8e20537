using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CloudScale.Dapr.Tests;

/// <summary><c>MapSubscribeHandler()</c> turns topic metadata into daprd's subscription list, and a real sidecar reads it.</summary>
public sealed class SubscriptionTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static void MapSubscriber(WebApplication app)
    {
        app.MapSubscribeHandler();
        app.MapPost("/orders", () => Results.Ok()).WithTopic("pubsub", "orders");
        app.MapPost("/orders/cancelled", () => Results.Ok()).WithTopic(new TopicOptions
        {
            PubsubName = "pubsub",
            Name = "orders",
            Match = "event.type == \"order.cancelled\"",
            Priority = 2,
            DeadLetterTopic = "orders-dead",
        });
        app.MapPost("/orders/created", () => Results.Ok()).WithTopic(new TopicOptions
        {
            PubsubName = "pubsub",
            Name = "orders",
            Match = "event.type == \"order.created\"",
            Priority = 1,
        });
        app.MapPost("/raw", [Topic("pubsub", "raw", "raw-dead", true)] () => Results.Ok());
        app.MapPost("/audit", () => Results.Ok()).WithTopic("pubsub", "audit", new Dictionary<string, string>(StringComparer.Ordinal) { ["queueType"] = "fifo" });
        app.MapPost("/audit/{id}", (string id) => Results.Ok(id)).WithTopic("pubsub", "parameterised");
        app.MapGroup("/notifications").MapPost("/email", () => Results.Ok()).WithTopic("other-pubsub", "email");
        app.MapPost("/not-subscribed", () => Results.Ok());
    }

    [Fact]
    public async Task The_subscription_list_is_exactly_daprs_json_in_a_stable_order()
    {
        await using var app = await TestApp.StartAsync(MapSubscriber);

        using var response = await app.Client.GetAsync("/dapr/subscribe", Cancellation);

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        // Rules in priority order, then the endpoint without a match as the default; a topic without rules keeps the v1 "route";
        // the route with a parameter is left out, since the sidecar could not fill it in.
        Assert.Equal(
            """
            [{"pubsubname":"other-pubsub","topic":"email","route":"/notifications/email"},
            {"pubsubname":"pubsub","topic":"audit","route":"/audit","metadata":{"queueType":"fifo"}},
            {"pubsubname":"pubsub","topic":"orders","routes":{"rules":[{"match":"event.type == \"order.created\"","path":"/orders/created"},{"match":"event.type == \"order.cancelled\"","path":"/orders/cancelled"}],"default":"/orders"},"deadLetterTopic":"orders-dead"},
            {"pubsubname":"pubsub","topic":"raw","route":"/raw","metadata":{"rawPayload":"true"},"deadLetterTopic":"raw-dead"}]
            """.ReplaceLineEndings(""),
            await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task An_app_without_topics_subscribes_to_nothing()
    {
        await using var app = await TestApp.StartAsync(web => web.MapSubscribeHandler());

        Assert.Equal("[]", await app.Client.GetStringAsync("/dapr/subscribe", Cancellation));
    }

    [Fact]
    public async Task The_sidecar_reads_the_subscriptions_with_their_rules_and_dead_letter_topics()
    {
        await using var app = await TestApp.StartAsync(MapSubscriber);
        await using var sidecar = await DaprSidecar.StartAsync(new SidecarSettings("subscriber", SidecarResources.Folder()) { AppPort = app.Port });
        using var http = new HttpClient { BaseAddress = sidecar.HttpEndpoint };

        using var metadata = JsonDocument.Parse(await http.GetStringAsync("v1.0/metadata", Cancellation));

        Assert.Equal("GET", app.LastOn("/dapr/subscribe").Method);
        var subscriptions = metadata.RootElement.GetProperty("subscriptions").EnumerateArray()
            .ToDictionary(subscription => subscription.GetProperty("topic").GetString()!, StringComparer.Ordinal);
        Assert.Equal(["audit", "email", "orders", "raw"], subscriptions.Keys.Order(StringComparer.Ordinal), StringComparer.Ordinal);
        Assert.Equal(
            ["event.type == \"order.created\" -> /orders/created", "event.type == \"order.cancelled\" -> /orders/cancelled", " -> /orders"],
            subscriptions["orders"].GetProperty("rules").EnumerateArray()
                .Select(rule => $"{(rule.TryGetProperty("match", out var match) ? match.GetString() : "")} -> {rule.GetProperty("path").GetString()}"),
            StringComparer.Ordinal);
        Assert.Equal("orders-dead", subscriptions["orders"].GetProperty("deadLetterTopic").GetString());
        Assert.Equal("true", subscriptions["raw"].GetProperty("metadata").GetProperty("rawPayload").GetString());
        Assert.Equal("PROGRAMMATIC", subscriptions["email"].GetProperty("type").GetString());
    }
}
