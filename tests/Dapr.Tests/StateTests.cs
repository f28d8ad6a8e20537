using System.Net;
using System.Text.Json;
using CloudScale.Testing;

namespace CloudScale.Dapr.Tests;

/// <summary>One sidecar over a fresh Postgres database with a <c>state.postgresql</c> store, shared by the state tests.</summary>
public sealed class PostgresSidecarFixture(TestServers servers) : IAsyncLifetime
{
    public const string Store = "statestore";
    private DaprSidecar? _sidecar;

    public DaprSidecar Sidecar => _sidecar ?? throw new InvalidOperationException("Started in InitializeAsync.");

    public DaprClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var database = await servers.CreateDatabaseAsync();
        _sidecar = await DaprSidecar.StartAsync(new SidecarSettings("orders", SidecarResources.Folder(("statestore.yaml", SidecarResources.PostgresStateStore(Store, database)))));
        Client = Sidecar.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync();
        }
    }
}

/// <summary>Every state method of the client against a real sidecar and a real Postgres.</summary>
public sealed class StateTests(PostgresSidecarFixture fixture) : IClassFixture<PostgresSidecarFixture>
{
    private const string Store = PostgresSidecarFixture.Store;
    private readonly DaprClient _dapr = fixture.Client;
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Saved_values_come_back_typed_with_an_etag_and_are_stored_as_web_json()
    {
        var order = new Order("o-1", 3, "placed");
        await _dapr.SaveStateAsync(Store, "order 1 ä", order, cancellationToken: Cancellation);

        Assert.Equal(order, await _dapr.GetStateAsync<Order>(Store, "order 1 ä", ConsistencyMode.Strong, cancellationToken: Cancellation));
        var (value, etag) = await _dapr.GetStateAndETagAsync<Order>(Store, "order 1 ä", cancellationToken: Cancellation);
        Assert.Equal(order, value);
        Assert.True(Guid.TryParse(etag, out _), $"'{etag}' is not the store's UUID etag");

        // The raw value through the HTTP API: camelCase property names (JsonSerializerDefaults.Web).
        using var http = new HttpClient { BaseAddress = fixture.Sidecar.HttpEndpoint };
        var stored = await http.GetStringAsync($"v1.0/state/{Store}/{Uri.EscapeDataString("order 1 ä")}", Cancellation);
        Assert.Equal("""{"id":"o-1","quantity":3,"status":"placed"}""", stored);
    }

    [Fact]
    public async Task A_missing_key_reads_as_default_with_an_empty_etag()
    {
        Assert.Null(await _dapr.GetStateAsync<Order>(Store, "never-saved", cancellationToken: Cancellation));
        Assert.Equal(0, await _dapr.GetStateAsync<int>(Store, "never-saved", cancellationToken: Cancellation));
        Assert.Equal((null, ""), await _dapr.GetStateAndETagAsync<Order>(Store, "never-saved", cancellationToken: Cancellation));
    }

    [Fact]
    public async Task TrySave_succeeds_with_the_current_etag_and_returns_false_with_a_stale_one()
    {
        await _dapr.SaveStateAsync(Store, "counter", 1, cancellationToken: Cancellation);
        var (_, first) = await _dapr.GetStateAndETagAsync<int>(Store, "counter", cancellationToken: Cancellation);

        Assert.True(await _dapr.TrySaveStateAsync(Store, "counter", 2, first, cancellationToken: Cancellation));
        Assert.False(await _dapr.TrySaveStateAsync(Store, "counter", 3, first, cancellationToken: Cancellation));
        Assert.False(await _dapr.TrySaveStateAsync(Store, "counter", 4, "not-an-etag", cancellationToken: Cancellation));

        var (value, second) = await _dapr.GetStateAndETagAsync<int>(Store, "counter", cancellationToken: Cancellation);
        Assert.Equal(2, value);
        Assert.NotEqual(first, second, StringComparer.Ordinal);
    }

    [Fact]
    public async Task First_write_on_an_existing_key_throws_ERR_STATE_SAVE_with_409()
    {
        var firstWrite = new StateOptions { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong };
        await _dapr.SaveStateAsync(Store, "first-write", "one", firstWrite, cancellationToken: Cancellation);

        var conflict = await Assert.ThrowsAsync<DaprApiException>(() => _dapr.SaveStateAsync(Store, "first-write", "two", firstWrite, cancellationToken: Cancellation));

        Assert.Equal("ERR_STATE_SAVE", conflict.ErrorCode);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.StartsWith($"failed saving state in state store {Store}", conflict.Message, StringComparison.Ordinal);
        Assert.Equal("one", await _dapr.GetStateAsync<string>(Store, "first-write", cancellationToken: Cancellation));
    }

    [Fact]
    public async Task A_ttlInSeconds_metadata_entry_expires_the_value()
    {
        await _dapr.SaveStateAsync(Store, "short-lived", "soon gone", metadata: new Dictionary<string, string>(StringComparer.Ordinal) { ["ttlInSeconds"] = "1" }, cancellationToken: Cancellation);
        Assert.Equal("soon gone", await _dapr.GetStateAsync<string>(Store, "short-lived", cancellationToken: Cancellation));

        await Poll.UntilAsync(async () => await _dapr.GetStateAsync<string>(Store, "short-lived", cancellationToken: Cancellation) is null, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Delete_removes_and_TryDelete_honours_the_etag()
    {
        await _dapr.SaveStateAsync(Store, "to-delete", "x", cancellationToken: Cancellation);
        await _dapr.DeleteStateAsync(Store, "to-delete", new StateOptions { Consistency = ConsistencyMode.Strong }, cancellationToken: Cancellation);
        Assert.Null(await _dapr.GetStateAsync<string>(Store, "to-delete", cancellationToken: Cancellation));

        await _dapr.SaveStateAsync(Store, "guarded", "y", cancellationToken: Cancellation);
        var (_, etag) = await _dapr.GetStateAndETagAsync<string>(Store, "guarded", cancellationToken: Cancellation);
        Assert.False(await _dapr.TryDeleteStateAsync(Store, "guarded", Guid.NewGuid().ToString(), cancellationToken: Cancellation));
        Assert.Equal("y", await _dapr.GetStateAsync<string>(Store, "guarded", cancellationToken: Cancellation));
        Assert.True(await _dapr.TryDeleteStateAsync(Store, "guarded", etag, new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }, cancellationToken: Cancellation));
        Assert.Null(await _dapr.GetStateAsync<string>(Store, "guarded", cancellationToken: Cancellation));
    }

    [Fact]
    public async Task Bulk_reads_return_every_key_raw_or_typed_with_missing_ones_empty()
    {
        await _dapr.SaveStateAsync(Store, "bulk-a", new Order("a", 1, "placed"), cancellationToken: Cancellation);
        await _dapr.SaveStateAsync(Store, "bulk-b", new Order("b", 2, "paid"), cancellationToken: Cancellation);

        var raw = await _dapr.GetBulkStateAsync(Store, ["bulk-a", "bulk-b", "bulk-missing"], parallelism: 2, cancellationToken: Cancellation);
        var typed = await _dapr.GetBulkStateAsync<Order>(Store, ["bulk-a", "bulk-b", "bulk-missing"], parallelism: null, cancellationToken: Cancellation);

        var byKey = raw.ToDictionary(item => item.Key, StringComparer.Ordinal);
        Assert.Equal("""{"id":"a","quantity":1,"status":"placed"}""", byKey["bulk-a"].Value);
        Assert.True(Guid.TryParse(byKey["bulk-b"].ETag, out _));
        Assert.Equal(new BulkStateItem("bulk-missing", "", ""), byKey["bulk-missing"]);
        Assert.Equal(
            [new Order("a", 1, "placed"), new Order("b", 2, "paid"), null],
            typed.OrderBy(item => item.Key, StringComparer.Ordinal).Select(item => item.Value));
        Assert.Equal(byKey["bulk-a"].ETag, typed.Single(item => item.Key == "bulk-a").ETag);
    }

    [Fact]
    public async Task A_transaction_applies_upserts_and_deletes_together_and_a_stale_etag_fails_it_whole()
    {
        await _dapr.SaveStateAsync(Store, "tx-old", "old", cancellationToken: Cancellation);
        var (_, oldEtag) = await _dapr.GetStateAndETagAsync<string>(Store, "tx-old", cancellationToken: Cancellation);

        await _dapr.ExecuteStateTransactionAsync(
            Store,
            [
                new StateTransactionRequest("tx-new", JsonSerializer.SerializeToUtf8Bytes(new Order("n", 5, "placed"), _dapr.JsonSerializerOptions), StateOperationType.Upsert),
                new StateTransactionRequest("tx-old", null, StateOperationType.Delete, oldEtag),
            ],
            cancellationToken: Cancellation);
        Assert.Equal(new Order("n", 5, "placed"), await _dapr.GetStateAsync<Order>(Store, "tx-new", cancellationToken: Cancellation));
        Assert.Null(await _dapr.GetStateAsync<string>(Store, "tx-old", cancellationToken: Cancellation));

        var failure = await Assert.ThrowsAsync<DaprApiException>(() => _dapr.ExecuteStateTransactionAsync(
            Store,
            [
                new StateTransactionRequest("tx-other", JsonSerializer.SerializeToUtf8Bytes("other"), StateOperationType.Upsert),
                new StateTransactionRequest("tx-new", JsonSerializer.SerializeToUtf8Bytes("changed"), StateOperationType.Upsert, ETag: Guid.NewGuid().ToString()),
            ],
            cancellationToken: Cancellation));
        Assert.Equal("ERR_STATE_TRANSACTION", failure.ErrorCode);
        Assert.Equal(HttpStatusCode.InternalServerError, failure.StatusCode);
        Assert.Null(await _dapr.GetStateAsync<string>(Store, "tx-other", cancellationToken: Cancellation));
        Assert.Equal(new Order("n", 5, "placed"), await _dapr.GetStateAsync<Order>(Store, "tx-new", cancellationToken: Cancellation));
    }

    [Fact]
    public async Task A_transaction_value_that_is_not_json_is_refused_before_any_call()
    {
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => _dapr.ExecuteStateTransactionAsync(
            Store, [new StateTransactionRequest("tx-bad", "not json"u8.ToArray(), StateOperationType.Upsert)], cancellationToken: Cancellation));
        Assert.Contains("tx-bad", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_store_gives_daprs_error_code_status_and_message()
    {
        var unknown = await Assert.ThrowsAsync<DaprApiException>(() => _dapr.GetStateAsync<string>("no-such-store", "k", cancellationToken: Cancellation));

        Assert.Equal("ERR_STATE_STORE_NOT_FOUND", unknown.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("state store no-such-store is not found", unknown.Message);
    }

    [Fact]
    public async Task An_unreachable_sidecar_throws_DaprException_with_the_transport_error()
    {
        using var nowhere = new DaprClientBuilder().UseHttpEndpoint($"http://127.0.0.1:{LoopbackPorts.Free()}").Build();

        var failure = await Assert.ThrowsAsync<DaprException>(() => nowhere.SaveStateAsync(Store, "k", "v", cancellationToken: Cancellation));

        Assert.IsType<HttpRequestException>(failure.InnerException);
        Assert.Contains("could not be reached", failure.Message, StringComparison.Ordinal);
    }
}
