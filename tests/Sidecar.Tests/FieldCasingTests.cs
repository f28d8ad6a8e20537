using System.Net;
using System.Text.Json;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Tests;

/// <summary>
/// A sidecar with state and pub/sub on Redis and an app whose subscriptions, like a declarative one, spell field names
/// as the SDKs do (Dapr.AspNetCore's <c>pubsubName</c>) or in other cases.
/// </summary>
public sealed class FieldCasingFixture(TestServers servers) : RedisSidecarFixture(servers, "casing")
{
    private protected override async Task<SubscriberApp?> StartAppAsync()
    {
        var app = await SubscriberApp.StartAsync($$$"""
            [
              {"pubsubName":"pubsub","topic":"{{{Unique("camel")}}}","route":"/camel","deadLetterTopic":"{{{Unique("dead")}}}"},
              {"PubsubName":"pubsub","Topic":"{{{Unique("pascal")}}}","Routes":{"Rules":[{"Match":"event.type == \"widget\"","Path":"/widgets"}],"Default":"/pascal"}}
            ]
            """);
        foreach (var path in new[] { "/camel", "/widgets", "/pascal", "/declared" })
        {
            app.Route(path, _ => Reply.Ok);
        }

        return app;
    }

    private protected override (string File, string Yaml)[] Resources(string redisHost) =>
    [
        ("state.yaml", SidecarResources.RedisStateStore("statestore", redisHost)),
        ("pubsub.yaml", SidecarResources.RedisPubSub("pubsub", redisHost)),
        ("subscription.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Subscription
            metadata:
              name: declared
            spec:
              pubsubName: pubsub
              Topic: {Unique("declared")}
              route: /declared
            """),
    ];
}

/// <summary>
/// Every JSON body the sidecar reads has its field names decoded without regard to case, as Go's encoding/json does in
/// daprd: state items, bulk get, transactions, bulk publish entries, programmatic and declarative subscriptions.
/// </summary>
public sealed class FieldCasingTests(FieldCasingFixture fixture) : IClassFixture<FieldCasingFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private StateStoreClient State => new(fixture.Sidecar.Http, "statestore");

    [Fact]
    public async Task State_items_decode_key_value_etag_and_options_in_any_case()
    {
        await State.SaveAsync("""[{"Key":"cased","Value":{"a":1},"Options":{"Concurrency":"first-write"}}]""", HttpStatusCode.NoContent);
        await State.SaveAsync("""[{"KEY":"cased","VALUE":2,"ETag":"1"}]""", HttpStatusCode.NoContent);
        await State.SaveAsync("""[{"key":"cased","value":3,"eTag":"1"}]""", HttpStatusCode.Conflict);

        Assert.Equal("2", await State.GetStringAsync("cased"));
        Assert.Equal("2", await State.GetETagAsync("cased"));
    }

    [Fact]
    public async Task Bulk_get_decodes_keys_and_parallelism_in_any_case()
    {
        await State.SaveAsync("""[{"key":"bulk","value":"v"}]""", HttpStatusCode.NoContent);

        using var response = await State.PostAsync("/bulk", """{"Keys":["bulk"],"Parallelism":2}""");
        using var items = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("v", Assert.Single(items.RootElement.EnumerateArray()).GetProperty("data").GetString());
    }

    [Fact]
    public async Task Transactions_decode_operations_and_their_requests_in_any_case()
    {
        using (var response = await State.PostAsync("/transaction", """{"Operations":[{"Operation":"upsert","Request":{"Key":"tx","Value":1}},{"OPERATION":"upsert","REQUEST":{"KEY":"tx2","VALUE":2}}]}"""))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        Assert.Equal("1", await State.GetStringAsync("tx"));
        Assert.Equal("2", await State.GetStringAsync("tx2"));
    }

    [Fact]
    public async Task Bulk_publish_entries_decode_as_the_javascript_sdk_spells_them()
    {
        var topic = fixture.Unique("bulk");
        // The JavaScript SDK sends entryID; the Go and .NET types say entryId.
        using var response = await fixture.Sidecar.Http.PostAsync(
            $"/v1.0-alpha1/publish/bulk/pubsub/{topic}",
            StateStoreClient.Json("""[{"entryID":"1","event":{"n":1},"contentType":"application/json"},{"EntryId":"2","Event":"hi","ContentType":"text/plain"}]"""),
            TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var entries = await RedisStreams.EntriesAsync(fixture.Redis, topic);
        var data = entries.Select(entry => JsonDocument.Parse(entry.Single(field => field.Field == "data").Value).RootElement.GetProperty("data").GetRawText());
        Assert.Equal(["""{"n":1}""", "\"hi\""], data, StringComparer.Ordinal);
    }

    [Fact]
    public async Task Subscriptions_in_camel_pascal_and_declarative_spelling_are_subscribed_and_delivered()
    {
        await PublishAsync(fixture.Unique("camel"), """{"kind":"camel"}""");
        await PublishAsync(fixture.Unique("pascal"), """{"kind":"pascal"}""");
        await PublishAsync(fixture.Unique("declared"), """{"kind":"declared"}""");

        await Poll.UntilAsync(
            () => fixture.App!.At("/camel").Count == 1 && fixture.App.At("/pascal").Count == 1 && fixture.App.At("/declared").Count == 1, Deadline, () => fixture.Sidecar.Output);
        using var metadata = JsonDocument.Parse(await fixture.Sidecar.Http.GetStringAsync("/v1.0/metadata", TestContext.Current.CancellationToken));
        var camel = metadata.RootElement.GetProperty("subscriptions").EnumerateArray().Single(subscription => subscription.GetProperty("topic").GetString() == fixture.Unique("camel"));
        Assert.Equal(fixture.Unique("dead"), camel.GetProperty("deadLetterTopic").GetString());
    }

    private async Task PublishAsync(string topic, string body)
    {
        using var response = await fixture.Sidecar.Http.PostAsync($"/v1.0/publish/pubsub/{topic}", StateStoreClient.Json(body), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }
}
