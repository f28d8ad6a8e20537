using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using StackExchange.Redis;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Tests;

/// <summary>
/// A sidecar with <c>pubsub.redis</c>, an inbound retry policy of 3 retries 50 ms apart, declarative subscriptions
/// (one scoped to another app), and an app whose programmatic subscriptions and replies script each scenario.
/// </summary>
public sealed class PubSubFixture(TestServers servers) : RedisSidecarFixture(servers, "pubsub")
{
    private protected override async Task<SubscriberApp?> StartAppAsync()
    {
        var app = await SubscriberApp.StartAsync($$$"""
            [
              {"pubsubname":"pubsub","topic":"{{{Unique("orders")}}}","route":"/orders"},
              {"pubsubname":"pubsub","topic":"{{{Unique("retry")}}}","route":"/retry"},
              {"pubsubname":"pubsub","topic":"{{{Unique("drop")}}}","route":"/drop","deadLetterTopic":"{{{Unique("dead")}}}"},
              {"pubsubname":"pubsub","topic":"{{{Unique("missing")}}}","route":"/missing","deadLetterTopic":"{{{Unique("dead")}}}"},
              {"pubsubname":"pubsub","topic":"{{{Unique("failing")}}}","route":"/failing","deadLetterTopic":"{{{Unique("dead")}}}"},
              {"pubsubname":"pubsub","topic":"{{{Unique("dead")}}}","route":"/dead"},
              {"pubsubname":"pubsub","topic":"{{{Unique("routed")}}}","routes":{"rules":[{"match":"event.type == \"widget\"","path":"/widgets"}],"default":"/other"}},
              {"pubsubname":"pubsub","topic":"{{{Unique("raw")}}}","route":"/raw","metadata":{"rawPayload":"true"}},
              {"pubsubname":"pubsub","topic":"{{{Unique("bulk")}}}","route":"/bulk"}
            ]
            """);
        foreach (var path in new[] { "/orders", "/dead", "/widgets", "/other", "/raw", "/bulk", "/declared", "/declared-v1" })
        {
            app.Route(path, _ => Reply.Ok);
        }

        app.Route("/retry", delivery => app.Attempt(delivery) < 3 ? Reply.WithStatus("RETRY") : Reply.WithStatus("SUCCESS"));
        app.Route("/drop", _ => Reply.WithStatus("DROP"));
        app.Route("/failing", _ => new Reply(500, "broken"));
        return app;
    }

    private protected override (string File, string Yaml)[] Resources(string redisHost) =>
    [
        ("pubsub.yaml", SidecarResources.RedisPubSub("pubsub", redisHost)),
        ("resiliency.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: delivery
            spec:
              policies:
                retries:
                  fast: { policy: constant, duration: 50ms, maxRetries: 3 }
              targets:
                components:
                  pubsub:
                    inbound: { retry: fast }
            """),
        ("subscriptions.yaml", $$"""
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: declared
            spec:
              pubsubname: pubsub
              topic: {{Unique("declared")}}
              routes:
                rules:
                - match: event.type == "com.dapr.event.sent" && event.source == "{{AppId}}"
                  path: /declared
                default: /never
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Subscription
            metadata:
              name: declared-v1
            spec:
              pubsubname: pubsub
              topic: {{Unique("declared-v1")}}
              route: /declared-v1
            ---
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: elsewhere
            spec:
              pubsubname: pubsub
              topic: {{Unique("elsewhere")}}
              routes:
                default: /elsewhere
            scopes:
            - another-app
            """),
    ];
}

/// <summary>Publish and delivery over <c>pubsub.redis</c>: a real sidecar on a real Redis delivering to a real app.</summary>
public sealed class PubSubTests(PubSubFixture fixture) : IClassFixture<PubSubFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private SubscriberApp App => fixture.App!;

    private HttpClient Client => fixture.Sidecar.Http;

    private IDatabase Redis => fixture.Redis;

    [Fact]
    public async Task A_published_event_reaches_the_app_as_the_cloudevent_daprd_builds_and_is_acknowledged()
    {
        var traceId = "0af7651916cd43dd8448eb211c80319c";
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1.0/publish/pubsub/{fixture.Unique("orders")}?metadata.ttlInSeconds=60")
        {
            Content = new StringContent("""{"price":1.50,"orderId":42,"note":"<b>"}""", Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-b7ad6b7169203331-01");
        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        var delivery = await SingleDeliveryAsync("/orders");
        Assert.Equal("application/cloudevents+json", delivery.Headers["Content-Type"]);
        Assert.Equal("pubsub", delivery.Headers["pubsubName"]);
        Assert.Equal("60", delivery.Headers["ttlInSeconds"]);
        Assert.Equal(traceId, delivery.Headers["traceparent"].Split('-')[1]);

        var cloudEvent = delivery.Event;
        var fields = cloudEvent.EnumerateObject().Select(field => field.Name).ToList();
        // encoding/json of a Go map: every field daprd sets, keys sorted, HTML escaped, numbers as published.
        Assert.Equal(["data", "datacontenttype", "expiration", "id", "pubsubname", "source", "specversion", "time", "topic", "traceid", "traceparent", "tracestate", "type"], fields);
        Assert.Equal(fields.Order(StringComparer.Ordinal), fields, StringComparer.Ordinal);
        Assert.Contains("\"data\":{\"note\":\"\\u003cb\\u003e\",\"orderId\":42,\"price\":1.50}", Encoding.UTF8.GetString(delivery.Body), StringComparison.Ordinal);
        Assert.Equal("application/json", cloudEvent.GetProperty("datacontenttype").GetString());
        Assert.True(Guid.TryParse(cloudEvent.GetProperty("id").GetString(), out _));
        Assert.Equal("pubsub", cloudEvent.GetProperty("pubsubname").GetString());
        Assert.Equal(fixture.AppId, cloudEvent.GetProperty("source").GetString());
        Assert.Equal("1.0", cloudEvent.GetProperty("specversion").GetString());
        Assert.Equal(fixture.Unique("orders"), cloudEvent.GetProperty("topic").GetString());
        Assert.Equal("com.dapr.event.sent", cloudEvent.GetProperty("type").GetString());
        var traceparent = cloudEvent.GetProperty("traceparent").GetString()!;
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", traceparent);
        Assert.Equal(traceId, traceparent.Split('-')[1]);
        Assert.Equal(traceparent, cloudEvent.GetProperty("traceid").GetString());
        var time = DateTimeOffset.Parse(cloudEvent.GetProperty("time").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.UtcNow - time, TimeSpan.FromSeconds(-1), TimeSpan.FromMinutes(1));
        var expiration = DateTimeOffset.Parse(cloudEvent.GetProperty("expiration").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(expiration - time, TimeSpan.FromSeconds(58), TimeSpan.FromSeconds(62));
        await AcknowledgedAsync(fixture.Unique("orders"));
    }

    [Fact]
    public async Task A_cloudevent_passes_through_completed_and_routing_rules_pick_the_route()
    {
        using (var widget = await PublishAsync(fixture.Unique("routed"), """{"id":"w-1","source":"shop","type":"widget","specversion":"1.0","datacontenttype":"application/json","data":{"n":1.50}}""", "application/cloudevents+json"))
        {
            Assert.Equal(HttpStatusCode.NoContent, widget.StatusCode);
        }

        using (var plain = await PublishAsync(fixture.Unique("routed"), "hello", "text/plain"))
        {
            Assert.Equal(HttpStatusCode.NoContent, plain.StatusCode);
        }

        var routed = (await SingleDeliveryAsync("/widgets")).Event;
        Assert.Equal("w-1", routed.GetProperty("id").GetString());
        Assert.Equal("shop", routed.GetProperty("source").GetString());
        Assert.Equal(fixture.Unique("routed"), routed.GetProperty("topic").GetString());
        Assert.Equal("pubsub", routed.GetProperty("pubsubname").GetString());
        Assert.Equal("1.50", routed.GetProperty("data").GetProperty("n").GetRawText());
        Assert.True(routed.TryGetProperty("time", out _));
        Assert.True(routed.TryGetProperty("traceparent", out _));

        var other = (await SingleDeliveryAsync("/other")).Event;
        Assert.Equal("hello", other.GetProperty("data").GetString());
        Assert.Equal("text/plain", other.GetProperty("datacontenttype").GetString());
        await AcknowledgedAsync(fixture.Unique("routed"));
    }

    [Fact]
    public async Task Retry_replies_are_retried_by_the_inbound_policy_until_the_app_succeeds()
    {
        using (var response = await PublishAsync(fixture.Unique("retry"), """{"n":1}""", "application/json"))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        await AcknowledgedAsync(fixture.Unique("retry"));
        var deliveries = App.At("/retry");
        Assert.Equal(3, deliveries.Count);
        Assert.Single(deliveries.Select(delivery => delivery.EventId).Distinct(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_drop_reply_is_acknowledged_and_dead_lettered_once()
    {
        using (var response = await PublishAsync(fixture.Unique("drop"), """{"n":1}""", "application/json"))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        await AcknowledgedAsync(fixture.Unique("drop"));
        var dropped = Assert.Single(App.At("/drop"));
        await Poll.UntilAsync(() => DeadLettered(fixture.Unique("drop")).Count == 1, Deadline, Describe);
        Assert.Equal(dropped.EventId, DeadLettered(fixture.Unique("drop")).Single().EventId);
    }

    [Fact]
    public async Task A_404_is_acknowledged_without_retries_or_dead_lettering_as_daprd_does()
    {
        using (var response = await PublishAsync(fixture.Unique("missing"), """{"n":1}""", "application/json"))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        // A dead-lettered message is published before it is acknowledged, so once acknowledged the count is final.
        await AcknowledgedAsync(fixture.Unique("missing"));
        Assert.Single(App.At("/missing"));
        Assert.DoesNotContain(await DeadLetterStreamTopicsAsync(), topic => topic == fixture.Unique("missing"));
    }

    [Fact]
    public async Task Failing_deliveries_are_retried_then_dead_lettered_with_nothing_lost()
    {
        var ids = Enumerable.Range(1, 5).Select(i => $"fail-{i}-{fixture.AppId}").ToList();
        foreach (var id in ids)
        {
            using var response = await PublishAsync(fixture.Unique("failing"), $$"""{"id":"{{id}}","source":"test","type":"failure","specversion":"1.0","data":"x"}""", "application/cloudevents+json");
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        await Poll.UntilAsync(() => DeadLettered(fixture.Unique("failing")).Count == ids.Count, Deadline, Describe);
        await AcknowledgedAsync(fixture.Unique("failing"));
        Assert.Equal(ids.Order(StringComparer.Ordinal), DeadLettered(fixture.Unique("failing")).Select(delivery => delivery.EventId).Order(StringComparer.Ordinal));
        // One attempt and 3 retries each.
        Assert.All(App.At("/failing").GroupBy(delivery => delivery.EventId, StringComparer.Ordinal), attempts => Assert.Equal(4, attempts.Count()));
        Assert.Equal(ids.Count * 4, App.At("/failing").Count);
    }

    [Fact]
    public async Task A_raw_payload_is_stored_unwrapped_and_delivered_in_the_cloudevent_daprd_makes_up()
    {
        using (var response = await PublishAsync(fixture.Unique("raw"), "raw bytes", "application/octet-stream", "?metadata.rawPayload=true"))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        var delivery = (await SingleDeliveryAsync("/raw")).Event;
        Assert.Equal("raw bytes", Encoding.UTF8.GetString(Convert.FromBase64String(delivery.GetProperty("data_base64").GetString()!)));
        Assert.Equal("application/octet-stream", delivery.GetProperty("datacontenttype").GetString());
        Assert.Equal("Dapr", delivery.GetProperty("source").GetString());
        Assert.Equal("com.dapr.event.sent", delivery.GetProperty("type").GetString());
        Assert.Equal(fixture.Unique("raw"), delivery.GetProperty("topic").GetString());
        var stored = Assert.Single(await RedisStreams.EntriesAsync(Redis, fixture.Unique("raw")));
        Assert.Equal("raw bytes", Encoding.UTF8.GetString(stored.Single(field => field.Field == "data").Value));
    }

    [Fact]
    public async Task Bulk_publish_on_both_routes_envelopes_each_entry_with_its_own_trace()
    {
        using (var alpha = await Client.PostAsync($"/v1.0-alpha1/publish/bulk/pubsub/{fixture.Unique("bulk")}", StateStoreClient.Json("""
            [{"entryId":"1","event":{"n":1},"contentType":"application/json"},
             {"entryId":"2","event":"two","contentType":"text/plain"},
             {"entryId":"3","event":"AAEC","contentType":"application/octet-stream"}]
            """), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, alpha.StatusCode);
        }

        using (var stable = await Client.PostAsync($"/v1.0/publish/bulk/pubsub/{fixture.Unique("bulk")}", StateStoreClient.Json("""
            [{"entryId":"4","event":{"n":4},"contentType":"application/json","metadata":{"origin":"bulk"}}]
            """), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, stable.StatusCode);
        }

        await Poll.UntilAsync(() => App.At("/bulk").Count == 4, Deadline, Describe);
        var events = App.At("/bulk").ToDictionary(delivery => delivery.Event.TryGetProperty("data_base64", out _) ? "AAEC" : delivery.Event.GetProperty("data").GetRawText(), StringComparer.Ordinal);
        Assert.Equal(["\"two\"", "AAEC", """{"n":1}""", """{"n":4}"""], events.Keys.Order(StringComparer.Ordinal), StringComparer.Ordinal);
        Assert.Equal("AAEC", events["AAEC"].Event.GetProperty("data_base64").GetString());
        Assert.Equal("bulk", events["""{"n":4}"""].Headers["origin"]);
        Assert.Equal(4, events.Values.Select(delivery => delivery.Event.GetProperty("traceparent").GetString()).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task Declarative_subscriptions_deliver_and_those_scoped_to_other_apps_are_not_subscribed()
    {
        foreach (var topic in new[] { fixture.Unique("declared"), fixture.Unique("declared-v1") })
        {
            using var response = await PublishAsync(topic, """{"n":1}""", "application/json");
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        await SingleDeliveryAsync("/declared");
        await SingleDeliveryAsync("/declared-v1");

        using var metadata = JsonDocument.Parse(await Client.GetStringAsync("/v1.0/metadata", TestContext.Current.CancellationToken));
        var subscriptions = metadata.RootElement.GetProperty("subscriptions").EnumerateArray()
            .ToDictionary(subscription => subscription.GetProperty("topic").GetString()!, subscription => subscription.GetProperty("type").GetString(), StringComparer.Ordinal);
        Assert.Equal("DECLARATIVE", subscriptions[fixture.Unique("declared")]);
        Assert.Equal("DECLARATIVE", subscriptions[fixture.Unique("declared-v1")]);
        Assert.Equal("PROGRAMMATIC", subscriptions[fixture.Unique("orders")]);
        Assert.DoesNotContain(fixture.Unique("elsewhere"), subscriptions.Keys, StringComparer.Ordinal);
        // Subscribing creates the stream and its consumer group; nobody did for the out-of-scope topic.
        Assert.False(await Redis.KeyExistsAsync(fixture.Unique("elsewhere")));
    }

    [Fact]
    public async Task Malformed_publish_requests_get_daprs_error_bodies()
    {
        (await DaprAssert.ErrorAsync(await PublishAsync(fixture.Unique("orders"), "x", "text/plain", pubsub: "nope"), HttpStatusCode.NotFound, "ERR_PUBSUB_NOT_FOUND", "pubsub nope is not found")).Dispose();
        (await DaprAssert.ErrorAsync(await Client.PostAsync("/v1.0/publish/pubsub/", new StringContent("x"), TestContext.Current.CancellationToken), HttpStatusCode.NotFound, "ERR_TOPIC_NAME_EMPTY", "topic is empty in pubsub pubsub")).Dispose();
        (await DaprAssert.ErrorAsync(await PublishAsync(fixture.Unique("orders"), "x", "text/plain", "?metadata.rawPayload=maybe"), HttpStatusCode.BadRequest, "ERR_PUBSUB_REQUEST_METADATA",
            "failed deserializing metadata. Error: rawPayload value must be a valid boolean: actual is 'maybe'")).Dispose();
        using (var cloudEvent = await DaprAssert.ErrorAsync(await PublishAsync(fixture.Unique("orders"), "[1]", "application/cloudevents+json"), HttpStatusCode.InternalServerError, "ERR_PUBSUB_CLOUD_EVENTS_SER", "cannot create cloudevent"))
        {
            var details = cloudEvent.RootElement.GetProperty("details").EnumerateArray().ToList();
            Assert.Equal("DAPR_PUBSUB_CLOUD_EVENT_CREATION", details[0].GetProperty("reason").GetString());
            Assert.Equal(fixture.AppId, details[0].GetProperty("metadata").GetProperty("appID").GetString());
            Assert.Equal("type.googleapis.com/google.rpc.ResourceInfo", details[1].GetProperty("@type").GetString());
            Assert.Equal("pubsub", details[1].GetProperty("resource_name").GetString());
        }

        var bulk = $"/v1.0-alpha1/publish/bulk/pubsub/{fixture.Unique("orders")}";
        (await DaprAssert.ErrorAsync(await Client.PostAsync(bulk, StateStoreClient.Json("{}"), TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "ERR_PUBSUB_EVENTS_SER")).Dispose();
        (await DaprAssert.ErrorAsync(await Client.PostAsync(bulk, StateStoreClient.Json("""[{"event":"x","contentType":"text/plain"}]"""), TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "ERR_PUBSUB_EVENTS_SER",
            $"error marshaling events to bytes for topic {fixture.Unique("orders")} pubsub pubsub. error: entryId is duplicated or not present for entry")).Dispose();
        (await DaprAssert.ErrorAsync(await Client.PostAsync(bulk, StateStoreClient.Json("""[{"entryId":"1","event":{"n":1},"contentType":"text/plain"}]"""), TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "ERR_PUBSUB_EVENTS_SER",
            $"error marshaling events to bytes for topic {fixture.Unique("orders")} pubsub pubsub. error: error: mismatch between contentType and event")).Dispose();
        (await DaprAssert.ErrorAsync(await Client.PostAsync(bulk, StateStoreClient.Json("""[{"entryId":"1","event":"not base64!","contentType":"application/octet-stream"}]"""), TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "ERR_PUBSUB_EVENTS_SER")).Dispose();
    }

    private Task<HttpResponseMessage> PublishAsync(string topic, string body, string contentType, string query = "", string pubsub = "pubsub")
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return Client.PostAsync($"/v1.0/publish/{pubsub}/{topic}{query}", content, TestContext.Current.CancellationToken);
    }

    private async Task<Delivery> SingleDeliveryAsync(string path)
    {
        await Poll.UntilAsync(() => App.At(path).Count > 0, Deadline, Describe);
        return Assert.Single(App.At(path));
    }

    /// <summary>Waits until this app's consumer group has read everything published to <paramref name="topic"/> and acknowledged it.</summary>
    private Task AcknowledgedAsync(string topic) =>
        Poll.UntilAsync(() => RedisStreams.AllReadAndAcknowledgedAsync(Redis, topic, fixture.AppId), Deadline, Describe);

    private List<Delivery> DeadLettered(string originalTopic) => [.. App.At("/dead").Where(delivery => delivery.Topic == originalTopic)];

    private async Task<List<string>> DeadLetterStreamTopicsAsync() =>
        [.. (await RedisStreams.EntriesAsync(Redis, fixture.Unique("dead"))).Select(entry => JsonDocument.Parse(entry.Single(field => field.Field == "data").Value).RootElement.GetProperty("topic").GetString()!)];

    private string Describe() =>
        $"deliveries: {string.Join(", ", App.Deliveries.Select(delivery => delivery.Path))}\nsidecar: {fixture.Sidecar.Output}";
}
