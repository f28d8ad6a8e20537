using System.Net;
using System.Text.Json;
using CloudScale.Testing;
using Npgsql;

namespace CloudScale.Sidecar.Tests;

/// <summary>A sidecar of app <c>orders</c> with <c>state.postgresql</c> v2 (store <c>pg</c>) on a database of its own.</summary>
public sealed class PostgresStateFixture(TestServers servers) : SidecarFixture("orders")
{
    internal const string SidecarApplicationName = "cloudscale-sidecar";

    internal string ConnectionString { get; private set; } = "";

    private protected override async Task<(string File, string Yaml)[]> ResourcesAsync()
    {
        ConnectionString = await servers.CreateDatabaseAsync();
        // Named, so that a test can tell the sidecar's backends from its own.
        return [("statestore.yaml", SidecarResources.PostgresStateStore("pg", $"{ConnectionString};Application Name={SidecarApplicationName}"))];
    }
}

/// <summary>The state API over <c>state.postgresql</c> v2, through a real sidecar on a real Postgres.</summary>
public sealed class PostgresStateTests(PostgresStateFixture fixture) : IClassFixture<PostgresStateFixture>
{
    private HttpClient Client => fixture.Sidecar.Http;

    private StateStoreClient State => new(Client, "pg");

    [Fact]
    public async Task Save_then_get_returns_the_value_with_an_etag_and_missing_keys_are_204()
    {
        await State.SaveAsync("""[{"key":"greeting","value":"DeathStar"}]""", HttpStatusCode.NoContent);

        using var response = await Client.GetAsync("/v1.0/state/pg/greeting", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"DeathStar\"", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(Guid.TryParse(response.Headers.GetValues("ETag").Single(), out _));

        using var missing = await Client.GetAsync("/v1.0/state/pg/nothing-here", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, missing.StatusCode);
        Assert.Empty(await missing.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Rows_have_the_v2_layout_with_the_app_id_key_prefix_and_go_json_values()
    {
        await State.SaveAsync("""[{"key":"order-1","value":{"z":1,"a":"<b>","n":1.5}}]""", HttpStatusCode.NoContent);

        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var columns = new NpgsqlCommand(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'state' ORDER BY ordinal_position", connection);
        var layout = new List<string>();
        await using (var reader = await columns.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                layout.Add($"{reader.GetString(0)} {reader.GetString(1)}");
            }
        }

        Assert.Equal(
            ["key text", "value bytea", "etag uuid", "created_at timestamp with time zone", "updated_at timestamp with time zone", "expires_at timestamp with time zone", "row_id bigint"],
            layout);
        await using var row = new NpgsqlCommand("SELECT key, convert_from(value, 'UTF8'), expires_at IS NULL FROM state WHERE key = 'orders||order-1'", connection);
        await using var rows = await row.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        Assert.True(await rows.ReadAsync(TestContext.Current.CancellationToken));
        Assert.Equal("orders||order-1", rows.GetString(0));
        // encoding/json: sorted keys, HTML characters escaped.
        Assert.Equal("""{"a":"\u003cb\u003e","n":1.5,"z":1}""", rows.GetString(1));
        Assert.True(rows.GetBoolean(2));
    }

    [Fact]
    public async Task Two_writers_racing_on_one_etag_get_exactly_one_409()
    {
        await State.AssertTwoWritersOnOneETagGetExactlyOne409Async("race");
    }

    [Fact]
    public async Task First_write_fails_on_an_existing_key_and_a_malformed_etag_is_a_mismatch()
    {
        await State.SaveAsync("""[{"key":"fw","value":1,"options":{"concurrency":"first-write"}}]""", HttpStatusCode.NoContent);
        await State.SaveAsync("""[{"key":"fw","value":2,"options":{"concurrency":"first-write"}}]""", HttpStatusCode.Conflict);
        await State.SaveAsync("""[{"key":"fw","value":2,"etag":"not-a-uuid"}]""", HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Delete_honours_if_match()
    {
        await State.SaveAsync("""[{"key":"gone","value":1}]""", HttpStatusCode.NoContent);
        var etag = await State.GetETagAsync("gone");

        (await DaprAssert.ErrorAsync(await State.DeleteAsync("gone", Guid.NewGuid().ToString()), HttpStatusCode.Conflict, "ERR_STATE_DELETE")).Dispose();

        using var current = await State.DeleteAsync("gone", etag);
        Assert.Equal(HttpStatusCode.NoContent, current.StatusCode);
        Assert.Null(await State.GetStringAsync("gone"));
    }

    [Fact]
    public async Task A_failing_transaction_leaves_nothing_behind()
    {
        await State.SaveAsync("""[{"key":"tx-existing","value":"before"}]""", HttpStatusCode.NoContent);

        var response = await State.PostAsync("/transaction", """
            {"operations":[
              {"operation":"upsert","request":{"key":"tx-new","value":"new"}},
              {"operation":"delete","request":{"key":"tx-existing"}},
              {"operation":"upsert","request":{"key":"tx-existing","value":"x","etag":"00000000-0000-0000-0000-000000000000"}}
            ]}
            """);

        // An etag mismatch inside a transaction is a 500 ERR_STATE_TRANSACTION, never a 409.
        (await DaprAssert.ErrorAsync(response, HttpStatusCode.InternalServerError, "ERR_STATE_TRANSACTION")).Dispose();
        Assert.Null(await State.GetStringAsync("tx-new"));
        Assert.Equal("\"before\"", await State.GetStringAsync("tx-existing"));
    }

    [Fact]
    public async Task A_transaction_applies_all_operations_and_bulk_get_returns_data_and_etags()
    {
        var response = await State.PostAsync("/transaction", """
            {"operations":[
              {"operation":"upsert","request":{"key":"b1","value":{"n":1}}},
              {"operation":"upsert","request":{"key":"b2","value":"two"}}
            ]}
            """);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        using var bulk = await State.PostAsync("/bulk", """{"keys":["b1","b2","b3"],"parallelism":2}""");
        using var items = JsonDocument.Parse(await bulk.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var array = items.RootElement.EnumerateArray().ToList();
        Assert.Equal("""{"n":1}""", array[0].GetProperty("data").GetRawText());
        Assert.Equal("two", array[1].GetProperty("data").GetString());
        Assert.True(array[1].TryGetProperty("etag", out _));
        Assert.Equal("""{"key":"b3"}""", array[2].GetRawText());
    }

    [Fact]
    public async Task Ttl_sets_expires_at_and_reports_ttlExpireTime()
    {
        await State.SaveAsync("""[{"key":"short","value":1,"metadata":{"ttlInSeconds":"60"}}]""", HttpStatusCode.NoContent);
        using var response = await Client.GetAsync("/v1.0/state/pg/short", TestContext.Current.CancellationToken);
        var expires = DateTimeOffset.Parse(response.Headers.GetValues("metadata.ttlExpireTime").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(65));
    }

    [Fact]
    public async Task Without_maxConns_the_pool_holds_as_many_connections_as_daprds_the_greater_of_4_and_the_cpus()
    {
        // 64 saves at once: Npgsql's own default would open a backend for each of them.
        await using var observer = NpgsqlDataSource.Create(fixture.ConnectionString);
        await using var count = observer.CreateCommand($"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = '{PostgresStateFixture.SidecarApplicationName}'");
        var saves = Task.WhenAll(Enumerable.Range(0, 64).Select(index => State.SaveAsync($$"""[{"key":"pooled-{{index}}","value":{{index}}}]""", HttpStatusCode.NoContent)));
        long most = 0;
        while (!saves.IsCompleted)
        {
            most = Math.Max(most, (long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))!);
        }

        await saves;
        Assert.InRange(most, 1, Math.Max(4, Environment.ProcessorCount));
        Assert.Equal("63", await State.GetStringAsync("pooled-63"));
    }

    [Fact]
    public async Task Malformed_requests_get_daprs_error_bodies()
    {
        (await DaprAssert.ErrorAsync(await State.PostAsync("", "not json"), HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST")).Dispose();
        (await DaprAssert.ErrorAsync(await State.PostAsync("", """[{"value":1}]"""), HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST", "\"key\" is a required field")).Dispose();
        (await DaprAssert.ErrorAsync(await State.PostAsync("", """[{"key":"a||b","value":1}]"""), HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST", "input key/keyPrefix 'a||b' can't contain '||'")).Dispose();
        (await DaprAssert.ErrorAsync(await Client.GetAsync("/v1.0/state/nope/k", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "ERR_STATE_STORE_NOT_FOUND", "state store nope is not found")).Dispose();
        (await DaprAssert.ErrorAsync(await State.PostAsync("/transaction", """{"operations":[{"operation":"merge","request":{"key":"k"}}]}"""), HttpStatusCode.BadRequest, "ERR_NOT_SUPPORTED_STATE_OPERATION", "operation type merge not supported")).Dispose();
        await State.SaveAsync("[]", HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task An_unknown_store_error_carries_the_error_info_detail()
    {
        using var response = await Client.GetAsync("/v1.0/state/nope/k", TestContext.Current.CancellationToken);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var detail = body.RootElement.GetProperty("details").EnumerateArray().Single();
        Assert.Equal("type.googleapis.com/google.rpc.ErrorInfo", detail.GetProperty("@type").GetString());
        Assert.Equal("dapr.io", detail.GetProperty("domain").GetString());
        Assert.Equal("DAPR_STATE_NOT_FOUND", detail.GetProperty("reason").GetString());
    }
}
