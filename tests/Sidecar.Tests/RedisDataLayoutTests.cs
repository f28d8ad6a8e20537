using System.Net;
using System.Text;
using System.Text.Json;
using StackExchange.Redis;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Tests;

/// <summary>A sidecar with <c>state.redis</c> and <c>pubsub.redis</c>, and an app subscribed to one topic.</summary>
public sealed class RedisDataLayoutFixture(TestServers servers) : RedisSidecarFixture(servers, "layout")
{
    internal string Topic => Unique("layout");

    private protected override async Task<SubscriberApp?> StartAppAsync()
    {
        var app = await SubscriberApp.StartAsync($$"""[{"pubsubname":"pubsub","topic":"{{Topic}}","route":"/layout"}]""");
        app.Route("/layout", _ => Reply.Ok);
        return app;
    }

    private protected override (string File, string Yaml)[] Resources(string redisHost) =>
    [
        ("statestore.yaml", SidecarResources.RedisStateStore("statestore", redisHost)),
        ("pubsub.yaml", SidecarResources.RedisPubSub("pubsub", redisHost, ("maxLenApprox", "1000"))),
    ];
}

/// <summary>
/// What the sidecar leaves in Redis is exactly what contrib's <c>state.redis</c> and <c>pubsub.redis</c> leave, so
/// that daprd can read what ours wrote and the other way round.
/// </summary>
public sealed class RedisDataLayoutTests(RedisDataLayoutFixture fixture) : IClassFixture<RedisDataLayoutFixture>
{
    private IDatabase Redis => fixture.Redis;

    [Fact]
    public async Task A_state_key_is_a_hash_of_data_and_version_plus_first_write_after_a_first_write_save()
    {
        var state = new StateStoreClient(fixture.Sidecar.Http, "statestore");
        await state.SaveAsync("""[{"key":"order","value":{"b":2,"a":"<x>"},"options":{"concurrency":"first-write"}},{"key":"plain","value":[1.5,true]}]""", HttpStatusCode.NoContent);

        Assert.Equal("hash", (await Redis.ExecuteAsync("TYPE", $"{fixture.AppId}||order")).ToString());
        var order = await FieldsAsync($"{fixture.AppId}||order");
        Assert.Equal(["data", "first-write", "version"], order.Keys.Order(StringComparer.Ordinal), StringComparer.Ordinal);
        Assert.Equal("""{"b":2,"a":"<x>"}""", order["data"]);
        Assert.Equal("1", order["version"]);
        Assert.Equal("0", order["first-write"]);

        var plain = await FieldsAsync($"{fixture.AppId}||plain");
        Assert.Equal(["data", "version"], plain.Keys.Order(StringComparer.Ordinal), StringComparer.Ordinal);
        Assert.Equal("[1.5,true]", plain["data"]);
    }

    [Fact]
    public async Task A_stream_entry_has_data_and_metadata_and_the_app_reads_through_a_consumer_group_named_after_it()
    {
        var topic = fixture.Topic;
        using (var published = await fixture.Sidecar.Http.PostAsync($"/v1.0/publish/pubsub/{topic}?metadata.ttlInSeconds=60&metadata.note=%3Cx%3E", StateStoreClient.Json("""{"n":1}"""), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, published.StatusCode);
        }

        using (var bulk = await fixture.Sidecar.Http.PostAsync($"/v1.0/publish/bulk/pubsub/{topic}", StateStoreClient.Json("""[{"entryId":"1","event":{"n":2},"contentType":"application/json"}]"""), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, bulk.StatusCode);
        }

        var entries = await RedisStreams.EntriesAsync(Redis, topic);
        Assert.Equal(2, entries.Count);
        // Publish metadata is encoding/json of a map: sorted, HTML escaped. A bulk entry without metadata has no field for it.
        Assert.Equal(["data", "metadata"], entries[0].Select(field => field.Field), StringComparer.Ordinal);
        Assert.Equal("""{"note":"\u003cx\u003e","ttlInSeconds":"60"}""", Encoding.UTF8.GetString(entries[0][1].Value));
        Assert.Equal(["data"], entries[1].Select(field => field.Field), StringComparer.Ordinal);
        using var cloudEvent = JsonDocument.Parse(entries[0][0].Value);
        Assert.Equal(topic, cloudEvent.RootElement.GetProperty("topic").GetString());
        Assert.Equal("""{"n":1}""", cloudEvent.RootElement.GetProperty("data").GetRawText());

        await Poll.UntilAsync(() => fixture.App!.At("/layout").Count == 2, TimeSpan.FromSeconds(15), () => fixture.Sidecar.Output);
        var group = Assert.Single(await Redis.StreamGroupInfoAsync(topic));
        Assert.Equal(fixture.AppId, group.Name.ToString());
        await Poll.UntilAsync(async () => await RedisStreams.PendingAsync(Redis, topic, fixture.AppId) == 0, TimeSpan.FromSeconds(15), () => fixture.Sidecar.Output);
    }

    private async Task<Dictionary<string, string>> FieldsAsync(string key) =>
        (await Redis.HashGetAllAsync(key)).ToDictionary(field => field.Name.ToString(), field => field.Value.ToString(), StringComparer.Ordinal);
}
