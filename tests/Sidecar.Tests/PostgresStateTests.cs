using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CloudScale.Testing;
using Npgsql;

namespace CloudScale.Sidecar.Tests;

/// <summary>The state API over <c>state.postgresql</c> v2, through a real sidecar on a real Postgres.</summary>
public sealed class PostgresStateTests(TestServers servers) : IAsyncLifetime
{
    private ResourceFolder _resources = null!;
    private SidecarProcess _sidecar = null!;
    private string _connectionString = "";

    private HttpClient Client => _sidecar.Client;

    public async ValueTask InitializeAsync()
    {
        _connectionString = await servers.CreateDatabaseAsync();
        _resources = new ResourceFolder(("statestore.yaml", ResourceFolder.PostgresStore("pg", _connectionString)));
        _sidecar = await SidecarProcess.StartAsync("orders", _resources.Path);
    }

    public async ValueTask DisposeAsync()
    {
        await _sidecar.DisposeAsync();
        _resources.Dispose();
    }

    [Fact]
    public async Task Save_then_get_returns_the_value_with_an_etag_and_missing_keys_are_204()
    {
        await SaveAsync("""[{"key":"greeting","value":"DeathStar"}]""", HttpStatusCode.NoContent);

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
        await SaveAsync("""[{"key":"order-1","value":{"z":1,"a":"<b>","n":1.5}}]""", HttpStatusCode.NoContent);

        await using var connection = new NpgsqlConnection(_connectionString);
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
        await using var row = new NpgsqlCommand("SELECT key, convert_from(value, 'UTF8'), expires_at IS NULL FROM state", connection);
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
        await SaveAsync("""[{"key":"race","value":0}]""", HttpStatusCode.NoContent);
        var etag = await GetETagAsync("race");

        var writers = Enumerable.Range(1, 2).Select(i => Client.PostAsync(
            "/v1.0/state/pg",
            Json($$"""[{"key":"race","value":{{i}},"etag":"{{etag}}"}]"""),
            TestContext.Current.CancellationToken));
        var responses = await Task.WhenAll(writers);

        Assert.Equal([HttpStatusCode.NoContent, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
        var conflict = responses.Single(r => r.StatusCode == HttpStatusCode.Conflict);
        using var error = JsonDocument.Parse(await conflict.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("ERR_STATE_SAVE", error.RootElement.GetProperty("errorCode").GetString());
        Assert.StartsWith("failed saving state in state store pg: possible etag mismatch", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task First_write_fails_on_an_existing_key_and_a_malformed_etag_is_a_mismatch()
    {
        await SaveAsync("""[{"key":"fw","value":1,"options":{"concurrency":"first-write"}}]""", HttpStatusCode.NoContent);
        await SaveAsync("""[{"key":"fw","value":2,"options":{"concurrency":"first-write"}}]""", HttpStatusCode.Conflict);
        await SaveAsync("""[{"key":"fw","value":2,"etag":"not-a-uuid"}]""", HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Delete_honours_if_match()
    {
        await SaveAsync("""[{"key":"gone","value":1}]""", HttpStatusCode.NoContent);
        var etag = await GetETagAsync("gone");

        using var stale = new HttpRequestMessage(HttpMethod.Delete, "/v1.0/state/pg/gone");
        stale.Headers.TryAddWithoutValidation("If-Match", Guid.NewGuid().ToString());
        using var staleResponse = await Client.SendAsync(stale, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Conflict, staleResponse.StatusCode);
        await AssertErrorCodeAsync(staleResponse, "ERR_STATE_DELETE");

        using var current = new HttpRequestMessage(HttpMethod.Delete, "/v1.0/state/pg/gone");
        current.Headers.TryAddWithoutValidation("If-Match", etag);
        using var currentResponse = await Client.SendAsync(current, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, currentResponse.StatusCode);
        using var get = await Client.GetAsync("/v1.0/state/pg/gone", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, get.StatusCode);
    }

    [Fact]
    public async Task A_failing_transaction_leaves_nothing_behind()
    {
        await SaveAsync("""[{"key":"tx-existing","value":"before"}]""", HttpStatusCode.NoContent);

        using var response = await Client.PostAsync("/v1.0/state/pg/transaction", Json("""
            {"operations":[
              {"operation":"upsert","request":{"key":"tx-new","value":"new"}},
              {"operation":"delete","request":{"key":"tx-existing"}},
              {"operation":"upsert","request":{"key":"tx-existing","value":"x","etag":"00000000-0000-0000-0000-000000000000"}}
            ]}
            """), TestContext.Current.CancellationToken);

        // An etag mismatch inside a transaction is a 500 ERR_STATE_TRANSACTION, never a 409.
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        await AssertErrorCodeAsync(response, "ERR_STATE_TRANSACTION");
        using var created = await Client.GetAsync("/v1.0/state/pg/tx-new", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, created.StatusCode);
        using var kept = await Client.GetAsync("/v1.0/state/pg/tx-existing", TestContext.Current.CancellationToken);
        Assert.Equal("\"before\"", await kept.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_transaction_applies_all_operations_and_bulk_get_returns_data_and_etags()
    {
        using var response = await Client.PostAsync("/v1.0/state/pg/transaction", Json("""
            {"operations":[
              {"operation":"upsert","request":{"key":"b1","value":{"n":1}}},
              {"operation":"upsert","request":{"key":"b2","value":"two"}}
            ]}
            """), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        using var bulk = await Client.PostAsync("/v1.0/state/pg/bulk", Json("""{"keys":["b1","b2","b3"],"parallelism":2}"""), TestContext.Current.CancellationToken);
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
        await SaveAsync("""[{"key":"short","value":1,"metadata":{"ttlInSeconds":"60"}}]""", HttpStatusCode.NoContent);
        using var response = await Client.GetAsync("/v1.0/state/pg/short", TestContext.Current.CancellationToken);
        var expires = DateTimeOffset.Parse(response.Headers.GetValues("metadata.ttlExpireTime").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(65));
    }

    [Fact]
    public async Task Malformed_requests_get_daprs_error_bodies()
    {
        await AssertErrorAsync(await Client.PostAsync("/v1.0/state/pg", Json("not json"), TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST");
        await AssertErrorAsync(await Client.PostAsync("/v1.0/state/pg", Json("""[{"value":1}]"""), TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST", "\"key\" is a required field");
        await AssertErrorAsync(await Client.PostAsync("/v1.0/state/pg", Json("""[{"key":"a||b","value":1}]"""), TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST", "input key/keyPrefix 'a||b' can't contain '||'");
        await AssertErrorAsync(await Client.GetAsync("/v1.0/state/nope/k", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "ERR_STATE_STORE_NOT_FOUND", "state store nope is not found");
        await AssertErrorAsync(await Client.PostAsync("/v1.0/state/pg/transaction", Json("""{"operations":[{"operation":"merge","request":{"key":"k"}}]}"""), TestContext.Current.CancellationToken), HttpStatusCode.BadRequest, "ERR_NOT_SUPPORTED_STATE_OPERATION", "operation type merge not supported");
        await SaveAsync("[]", HttpStatusCode.NoContent);
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

    private async Task SaveAsync(string body, HttpStatusCode expected)
    {
        using var response = await Client.PostAsync("/v1.0/state/pg", Json(body), TestContext.Current.CancellationToken);
        Assert.True(expected == response.StatusCode, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
    }

    private async Task<string> GetETagAsync(string key)
    {
        using var response = await Client.GetAsync($"/v1.0/state/pg/{key}", TestContext.Current.CancellationToken);
        return response.Headers.GetValues("ETag").Single();
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private static async Task AssertErrorCodeAsync(HttpResponseMessage response, string errorCode)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(errorCode, body.RootElement.GetProperty("errorCode").GetString());
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string errorCode, string? message = null)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.Equal(errorCode, body.RootElement.GetProperty("errorCode").GetString());
            if (message is not null)
            {
                Assert.Equal(message, body.RootElement.GetProperty("message").GetString());
            }
        }
    }
}
