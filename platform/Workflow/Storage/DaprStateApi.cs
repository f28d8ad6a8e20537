using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;

namespace CloudScale.Workflow;

/// <summary>
/// The few calls of daprd's state API v1.0 the workflow store makes (get, bulk get, save, transaction), over a plain
/// HttpClient. It deliberately has no retry handler: a failed conditional write must come back at once, to be re-read
/// and re-planned, not be sent again with the same stale etag.
/// </summary>
internal sealed class DaprStateApi : IDisposable
{
    private const string ApiTokenHeader = "dapr-api-token";

    private static readonly StateOptions FirstWrite = new("first-write");

    private static readonly JsonSerializerOptions WireJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The most requests sent as one, so that a merged request stays a modest one.</summary>
    private const int MaxMerged = 64;

    private readonly HttpClient _http;
    private readonly string _store;
    private readonly RequestQueue<PendingTransaction> _transactions = new();
    private readonly RequestQueue<PendingBulkGet> _bulkGets = new();

    public DaprStateApi(Uri daprEndpoint, string? apiToken, string storeName)
    {
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(daprEndpoint.ToString().TrimEnd('/') + "/v1.0/state/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        if (!string.IsNullOrEmpty(apiToken))
        {
            _http.DefaultRequestHeaders.Add(ApiTokenHeader, apiToken);
        }

        _store = Uri.EscapeDataString(storeName);
    }

    /// <summary>Where the sidecar is, as the Dapr SDKs find it: configuration, then the environment variable of the same name.</summary>
    public static (Uri Endpoint, string? ApiToken) Locate(IConfiguration? configuration)
    {
        string? Read(string name) => configuration?[name] is { Length: > 0 } configured ? configured : Environment.GetEnvironmentVariable(name) is { Length: > 0 } set ? set : null;
        var endpoint = Read("DAPR_HTTP_ENDPOINT") is { } url
            ? new Uri(url, UriKind.Absolute)
            : new Uri($"http://127.0.0.1:{Read("DAPR_HTTP_PORT") ?? "3500"}/");
        return (endpoint, Read("DAPR_API_TOKEN"));
    }

    public async Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync($"{_store}/{Uri.EscapeDataString(key)}?consistency=strong", cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }

        // daprd sends the ETag unquoted, which the typed header parser rejects; read the raw value.
        var etag = response.Headers.NonValidated.TryGetValues("ETag", out var values) ? values.ToString() : "";
        var value = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return new StateItem(key, value, etag);
    }

    /// <summary>The keys that exist, by key; missing keys are absent from the result.</summary>
    /// <remarks>Bulk gets requested while one is being sent are then sent together as one, each caller given its keys.</remarks>
    public Task<Dictionary<string, StateItem>> BulkGetAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return Task.FromResult(new Dictionary<string, StateItem>(StringComparer.Ordinal));
        }

        var pending = new PendingBulkGet(keys, new TaskCompletionSource<Dictionary<string, StateItem>>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_bulkGets.Enqueue(pending))
        {
            _ = SendWaitingBulkGetsAsync();
        }

        return pending.Items.Task.WaitAsync(cancellationToken);
    }

    private async Task SendWaitingBulkGetsAsync()
    {
        while (_bulkGets.TakeBatch(MaxMerged) is { } batch)
        {
            try
            {
                var items = await SendBulkGetAsync([.. batch.SelectMany(pending => pending.Keys).Distinct(StringComparer.Ordinal)], CancellationToken.None);
                foreach (var pending in batch)
                {
                    pending.Items.TrySetResult(pending.Keys.Distinct(StringComparer.Ordinal)
                        .Where(items.ContainsKey)
                        .ToDictionary(key => key, key => items[key], StringComparer.Ordinal));
                }
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                batch.ForEach(pending => pending.Items.TrySetException(exception));
            }
        }
    }

    private async Task<Dictionary<string, StateItem>> SendBulkGetAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync($"{_store}/bulk", new BulkGetRequest([.. keys], Parallelism: 16), WireJson, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        var items = await response.Content.ReadFromJsonAsync<List<BulkGetItem>>(WireJson, cancellationToken) ?? [];
        return items
            .Where(item => item.Error is null && item.Data is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null })
            .ToDictionary(item => item.Key, item => new StateItem(item.Key, item.Data!.Value, item.Etag ?? ""), StringComparer.Ordinal);
    }

    /// <summary>Saves one key if its etag still matches; false on a mismatch (daprd's 409).</summary>
    public async Task<bool> TrySaveAsync(string key, JsonElement value, string etag, CancellationToken cancellationToken)
    {
        StateOperationRequest[] items = [new(key, value, etag, FirstWrite)];
        using var response = await _http.PostAsJsonAsync(_store, items, WireJson, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }

        await EnsureSuccessAsync(response, cancellationToken);
        return true;
    }

    /// <summary>
    /// Runs the operations as one state transaction; false when it failed as a whole, which daprd reports as
    /// <c>500 ERR_STATE_TRANSACTION</c> for an etag mismatch and for any other failure of the store alike.
    /// </summary>
    /// <remarks>
    /// Transactions requested while one is being sent are then sent together as one: a state transaction costs one
    /// request and one commit of the store whatever its size, so under load both are shared by all that waited. This
    /// is safe because a transaction fails as a whole: when a merged one fails, each is sent again alone, and each
    /// caller gets the outcome of its own.
    /// </remarks>
    public Task<TransactionResult> TryTransactAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        var pending = new PendingTransaction(operations, new TaskCompletionSource<TransactionResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_transactions.Enqueue(pending))
        {
            _ = SendWaitingTransactionsAsync();
        }

        return pending.Outcome.Task.WaitAsync(cancellationToken);
    }

    private async Task SendWaitingTransactionsAsync()
    {
        while (_transactions.TakeBatch(MaxMerged) is { } batch)
        {
            if (batch.Count > 1 && await TrySendMergedAsync(batch))
            {
                continue;
            }

            await Task.WhenAll(batch.Select(async pending =>
            {
                try
                {
                    pending.Outcome.TrySetResult(await SendTransactionAsync(pending.Operations, CancellationToken.None));
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    pending.Outcome.TrySetException(exception);
                }
            }));
        }
    }

    /// <summary>True if the merged transaction committed (every caller is told so); false if each must be sent alone.</summary>
    private async Task<bool> TrySendMergedAsync(List<PendingTransaction> batch)
    {
        try
        {
            if (!(await SendTransactionAsync([.. batch.SelectMany(pending => pending.Operations)], CancellationToken.None)).IsCommitted)
            {
                return false;
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Sent alone, each transaction meets the failure (or not) itself, and its caller hears of it.
            return false;
        }

        batch.ForEach(pending => pending.Outcome.TrySetResult(TransactionResult.Committed));
        return true;
    }

    private async Task<TransactionResult> SendTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        // In key order (stable, so one key's operations keep theirs): a store locks rows as it writes them, and two
        // transactions taking shared keys in opposite orders deadlock until the store's detector (Postgres: 1 s) aborts one.
        var ordered = operations.OrderBy(operation => operation.Request.Key, StringComparer.Ordinal).ToList();
        using var response = await _http.PostAsJsonAsync($"{_store}/transaction", new TransactionRequest(ordered), WireJson, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return TransactionResult.Committed;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode == HttpStatusCode.Conflict || body.Contains("\"ERR_STATE_TRANSACTION\"", StringComparison.Ordinal))
        {
            return new TransactionResult(false, body);
        }

        throw Failure(response, body);
    }

    public void Dispose() => _http.Dispose();

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw Failure(response, await response.Content.ReadAsStringAsync(cancellationToken));
        }
    }

    private static HttpRequestException Failure(HttpResponseMessage response, string body) =>
        new($"The Dapr state API answered {(int)response.StatusCode} to {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath}: {body}", null, response.StatusCode);

    private sealed record PendingBulkGet(IReadOnlyCollection<string> Keys, TaskCompletionSource<Dictionary<string, StateItem>> Items);

    private sealed record PendingTransaction(IReadOnlyList<StateOperation> Operations, TaskCompletionSource<TransactionResult> Outcome);

    private sealed record BulkGetRequest(IReadOnlyList<string> Keys, int Parallelism);

    private sealed record BulkGetItem(string Key, JsonElement? Data, string? Etag, string? Error);

    private sealed record TransactionRequest(IReadOnlyList<StateOperation> Operations);

    internal sealed record StateOptions(string Concurrency);

    internal sealed record StateOperationRequest(string Key, JsonElement? Value, string? Etag, StateOptions? Options);

    internal sealed record StateOperation(string Operation, StateOperationRequest Request)
    {
        public static StateOperation Upsert(string key, JsonElement value, string? etag) =>
            new("upsert", new StateOperationRequest(key, value, etag, etag is null ? null : FirstWrite));

        public static StateOperation Delete(string key, string? etag) =>
            new("delete", new StateOperationRequest(key, null, etag, etag is null ? null : FirstWrite));
    }
}

internal sealed record StateItem(string Key, JsonElement Value, string ETag);

internal sealed record TransactionResult(bool IsCommitted, string? Failure = null)
{
    public static readonly TransactionResult Committed = new(true);
}
