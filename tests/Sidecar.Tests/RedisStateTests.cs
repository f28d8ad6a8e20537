using System.Net;
using System.Text.Json;
using StackExchange.Redis;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Tests;

/// <summary>Two <c>state.redis</c> stores: <c>redis</c>, and <c>cache</c> with a default TTL of an hour and keys prefixed by its name.</summary>
public sealed class RedisStateFixture(TestServers servers) : RedisSidecarFixture(servers, "redis-state")
{
    private protected override (string File, string Yaml)[] Resources(string redisHost) =>
    [
        ("redis.yaml", SidecarResources.RedisStateStore("redis", redisHost)),
        ("cache.yaml", SidecarResources.RedisStateStore("cache", redisHost, ("ttlInSeconds", "3600"), ("keyPrefix", "name"))),
    ];
}

/// <summary>
/// The state API over <c>state.redis</c>, through a real sidecar on a real Redis, with contrib's semantics: numeric
/// version etags, its Lua scripts' concurrency decisions, EXPIRE/PERSIST, and MULTI/EXEC without rollback.
/// </summary>
public sealed class RedisStateTests(RedisStateFixture fixture) : IClassFixture<RedisStateFixture>
{
    private StateStoreClient State => new(fixture.Sidecar.Http, "redis");

    private StateStoreClient Cache => new(fixture.Sidecar.Http, "cache");

    private IDatabase Redis => fixture.Redis;

    [Fact]
    public async Task Save_then_get_returns_the_jsoniter_value_with_a_version_etag_and_missing_keys_are_204()
    {
        await State.SaveAsync("""[{"key":"greeting","value":"DeathStar"}]""", HttpStatusCode.NoContent);
        using (var response = await State.GetAsync("greeting"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("\"DeathStar\"", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("1", response.Headers.GetValues("ETag").Single());
        }

        // jsoniter ConfigFastest: key order kept, no HTML escaping, at most 6 decimals.
        await State.SaveAsync("""[{"key":"greeting","value":{"z":1,"a":"<b>","n":0.1234567}}]""", HttpStatusCode.NoContent);
        Assert.Equal("""{"z":1,"a":"<b>","n":0.123457}""", await State.GetStringAsync("greeting"));
        Assert.Equal("2", await State.GetETagAsync("greeting"));

        using var missing = await State.GetAsync("nothing-here");
        Assert.Equal(HttpStatusCode.NoContent, missing.StatusCode);
        Assert.Empty(await missing.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Two_writers_racing_on_one_etag_get_exactly_one_409()
    {
        await State.AssertTwoWritersOnOneETagGetExactlyOne409Async("race");

        Assert.Equal("2", await State.GetETagAsync("race"));
    }

    [Fact]
    public async Task Etags_are_integers_that_must_match_unless_the_write_is_last_write()
    {
        await State.SaveAsync("""[{"key":"versioned","value":1}]""", HttpStatusCode.NoContent);

        (await DaprAssert.ErrorAsync(await State.PostAsync("", """[{"key":"versioned","value":2,"etag":"abc"}]"""), HttpStatusCode.BadRequest, "ERR_STATE_SAVE",
            "failed saving state in state store redis: invalid etag value: strconv.Atoi: parsing \"abc\": invalid syntax")).Dispose();
        await State.SaveAsync("""[{"key":"versioned","value":2,"etag":"99"}]""", HttpStatusCode.Conflict);
        await State.SaveAsync("""[{"key":"versioned","value":2,"etag":"1"}]""", HttpStatusCode.NoContent);
        await State.SaveAsync("""[{"key":"versioned","value":3,"etag":"99","options":{"concurrency":"last-write"}}]""", HttpStatusCode.NoContent);

        Assert.Equal("3", await State.GetStringAsync("versioned"));
        Assert.Equal("3", await State.GetETagAsync("versioned"));
    }

    [Fact]
    public async Task First_write_marks_the_key_so_that_only_writes_with_its_etag_succeed()
    {
        await State.SaveAsync("""[{"key":"fw","value":1,"options":{"concurrency":"first-write"}}]""", HttpStatusCode.NoContent);

        // contrib's script refuses both; without an etag contrib reports a plain error, so daprd answers 500, not 409.
        (await DaprAssert.ErrorAsync(await State.PostAsync("", """[{"key":"fw","value":2,"options":{"concurrency":"first-write"}}]"""), HttpStatusCode.InternalServerError, "ERR_STATE_SAVE")).Dispose();
        (await DaprAssert.ErrorAsync(await State.PostAsync("", """[{"key":"fw","value":2}]"""), HttpStatusCode.InternalServerError, "ERR_STATE_SAVE")).Dispose();
        await State.SaveAsync("""[{"key":"fw","value":2,"etag":"1"}]""", HttpStatusCode.NoContent);
        Assert.Equal("2", await State.GetStringAsync("fw"));

        // A key first written without first-write is not protected by a later first-write (components-contrib#1010).
        await State.SaveAsync("""[{"key":"plain","value":1}]""", HttpStatusCode.NoContent);
        await State.SaveAsync("""[{"key":"plain","value":2,"options":{"concurrency":"first-write"}}]""", HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Ttl_sets_an_expiry_the_key_expires_and_minus_one_persists_over_the_store_default()
    {
        await State.SaveAsync("""[{"key":"short","value":1,"metadata":{"ttlInSeconds":"3"}}]""", HttpStatusCode.NoContent);
        Assert.InRange((await Redis.KeyTimeToLiveAsync($"{fixture.AppId}||short"))!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(3));
        await Poll.UntilAsync(async () => await State.GetStringAsync("short") is null, TimeSpan.FromSeconds(10));

        await Cache.SaveAsync("""[{"key":"kept","value":1}]""", HttpStatusCode.NoContent);
        Assert.InRange((await Redis.KeyTimeToLiveAsync("cache||kept"))!.Value, TimeSpan.FromSeconds(3590), TimeSpan.FromSeconds(3600));
        await Cache.SaveAsync("""[{"key":"kept","value":2}]""", HttpStatusCode.NoContent, query: "?metadata.ttlInSeconds=-1");
        Assert.Null(await Redis.KeyTimeToLiveAsync("cache||kept"));
        Assert.Equal("2", await Cache.GetStringAsync("kept"));
    }

    [Fact]
    public async Task Bulk_get_returns_data_and_etags_and_only_the_key_for_a_missing_one()
    {
        await State.SaveAsync("""[{"key":"b1","value":{"n":1}},{"key":"b2","value":"two"}]""", HttpStatusCode.NoContent);

        using var bulk = await State.PostAsync("/bulk", """{"keys":["b1","b2","b3"],"parallelism":2}""");
        using var items = JsonDocument.Parse(await bulk.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(
            """[{"key":"b1","data":{"n":1},"etag":"1"},{"key":"b2","data":"two","etag":"1"},{"key":"b3"}]""",
            JsonSerializer.Serialize(items.RootElement));
    }

    [Fact]
    public async Task Delete_honours_if_match()
    {
        await State.SaveAsync("""[{"key":"gone","value":1}]""", HttpStatusCode.NoContent);

        using (var stale = await DaprAssert.ErrorAsync(await State.DeleteAsync("gone", "7"), HttpStatusCode.Conflict, "ERR_STATE_DELETE"))
        {
            Assert.StartsWith("failed deleting state with key gone: possible etag mismatch", stale.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        using var current = await State.DeleteAsync("gone", "1");
        Assert.Equal(HttpStatusCode.NoContent, current.StatusCode);
        Assert.Null(await State.GetStringAsync("gone"));
        using var missing = await State.DeleteAsync("gone", ifMatch: null);
        Assert.Equal(HttpStatusCode.NoContent, missing.StatusCode);
    }

    [Fact]
    public async Task A_transaction_applies_its_operations_and_a_failing_one_like_daprd_keeps_what_redis_ran()
    {
        await State.SaveAsync("""[{"key":"tx-old","value":"old"},{"key":"tx-kept","value":"before"}]""", HttpStatusCode.NoContent);
        using (var applied = await State.PostAsync("/transaction", """
            {"operations":[
              {"operation":"upsert","request":{"key":"tx-a","value":"a"}},
              {"operation":"delete","request":{"key":"tx-old"}}
            ]}
            """))
        {
            Assert.Equal(HttpStatusCode.NoContent, applied.StatusCode);
        }

        Assert.Equal("\"a\"", await State.GetStringAsync("tx-a"));
        Assert.Null(await State.GetStringAsync("tx-old"));

        // Redis has no rollback: the stale etag fails its command, EXEC runs the others, daprd reports 500 (never 409).
        (await DaprAssert.ErrorAsync(await State.PostAsync("/transaction", """
            {"operations":[
              {"operation":"upsert","request":{"key":"tx-new","value":"new"}},
              {"operation":"upsert","request":{"key":"tx-kept","value":"x","etag":"42"}}
            ]}
            """), HttpStatusCode.InternalServerError, "ERR_STATE_TRANSACTION")).Dispose();
        Assert.Equal("\"new\"", await State.GetStringAsync("tx-new"));
        Assert.Equal("\"before\"", await State.GetStringAsync("tx-kept"));
    }

    [Fact]
    public async Task Bad_requests_get_daprs_error_bodies()
    {
        (await DaprAssert.ErrorAsync(await State.PostAsync("", """[{"key":"a||b","value":1}]"""), HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST", "input key/keyPrefix 'a||b' can't contain '||'")).Dispose();
        (await DaprAssert.ErrorAsync(await State.PostAsync("", """[{"value":1}]"""), HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST", "\"key\" is a required field")).Dispose();
        (await DaprAssert.ErrorAsync(await State.PostAsync("", """[{"key":"k","value":1,"metadata":{"ttlInSeconds":"soon"}}]"""), HttpStatusCode.InternalServerError, "ERR_STATE_SAVE")).Dispose();
        (await DaprAssert.ErrorAsync(await new StateStoreClient(fixture.Sidecar.Http, "nope").GetAsync("k"), HttpStatusCode.BadRequest, "ERR_STATE_STORE_NOT_FOUND", "state store nope is not found")).Dispose();
    }
}
