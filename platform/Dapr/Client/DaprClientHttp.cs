using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Dapr.Client;

/// <summary>
/// <see cref="DaprClient"/> over daprd's HTTP API v1.0. Each call takes an HttpClient from the factory it was built with
/// (<see cref="IHttpClientFactory"/> under <c>AddDaprClient</c>, so handlers are pooled and rotated and the outgoing span's
/// <c>traceparent</c> is sent), or one HttpClient of its own.
/// </summary>
internal sealed class DaprClientHttp : DaprClient
{
    private const string ApiTokenHeader = "dapr-api-token";
    private static readonly HttpRequestOptionsKey<string> AppIdOption = new("Dapr.AppId");
    private static readonly HttpRequestOptionsKey<string> MethodNameOption = new("Dapr.MethodName");
    private const string JsonMediaType = "application/json";

    private readonly Uri _endpoint;
    private readonly string? _apiToken;
    private readonly JsonSerializerOptions _json;
    private readonly Func<HttpClient> _httpClient;
    private readonly HttpClient? _ownedHttpClient;

    public DaprClientHttp(Uri endpoint, string? apiToken, JsonSerializerOptions json, Func<HttpClient>? httpClientFactory, TimeSpan? timeout)
    {
        // Relative API paths resolve below the endpoint only if its path ends with a slash.
        _endpoint = endpoint.AbsolutePath.EndsWith('/') ? endpoint : new Uri(endpoint + "/");
        _apiToken = apiToken;
        _json = json;
        if (httpClientFactory is null)
        {
            _ownedHttpClient = new HttpClient();
            if (timeout is { } fixedTimeout)
            {
                _ownedHttpClient.Timeout = fixedTimeout;
            }

            _httpClient = () => _ownedHttpClient;
        }
        else
        {
            _httpClient = () =>
            {
                var client = httpClientFactory();
                if (timeout is { } callTimeout)
                {
                    client.Timeout = callTimeout;
                }

                return client;
            };
        }
    }

    public override JsonSerializerOptions JsonSerializerOptions => _json;

    public override HttpClient CreateInvokableHttpClient(string? appId = null) => CreateInvokeHttpClient(appId, _endpoint.ToString(), _apiToken);

    // ---- State ----

    public override async Task<(TValue? value, string etag)> GetStateAndETagAsync<TValue>(
        string storeName, string key, ConsistencyMode? consistencyMode = null, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
        where TValue : default
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        using var request = new HttpRequestMessage(HttpMethod.Get, ApiUri(StatePath(storeName, key), Query(metadata, ("consistency", consistencyMode.ToWire()))));
        using var response = await CallApiAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return (default, "");
        }

        var value = await response.Content.ReadFromJsonAsync<TValue>(_json, cancellationToken);
        // daprd sends the ETag unquoted, which the typed EntityTagHeaderValue rejects; read the raw header.
        var etag = response.Headers.NonValidated.TryGetValues("ETag", out var etags) ? etags.ToString() : "";
        return (value, etag);
    }

    public override async Task<IReadOnlyList<BulkStateItem>> GetBulkStateAsync(
        string storeName, IReadOnlyList<string> keys, int? parallelism, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default) =>
        [.. (await GetBulkStateBodiesAsync(storeName, keys, parallelism, metadata, cancellationToken))
            .Select(item => new BulkStateItem(item.Key, item.Data?.GetRawText() ?? "", item.Etag ?? ""))];

    public override async Task<IReadOnlyList<BulkStateItem<TValue>>> GetBulkStateAsync<TValue>(
        string storeName, IReadOnlyList<string> keys, int? parallelism, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
        where TValue : default =>
        [.. (await GetBulkStateBodiesAsync(storeName, keys, parallelism, metadata, cancellationToken))
            .Select(item => new BulkStateItem<TValue>(item.Key, item.Data is { } data ? data.Deserialize<TValue>(_json) : default, item.Etag ?? ""))];

    public override Task SaveStateAsync<TValue>(
        string storeName, string key, TValue value, StateOptions? stateOptions = null, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default) =>
        SaveAsync(storeName, StateItem(key, value, etag: null, stateOptions, metadata), cancellationToken);

    public override async Task<bool> TrySaveStateAsync<TValue>(
        string storeName, string key, TValue value, string etag, StateOptions? stateOptions = null, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(etag);
        try
        {
            await SaveAsync(storeName, StateItem(key, value, etag, stateOptions, metadata), cancellationToken);
            return true;
        }
        catch (DaprApiException exception) when (exception.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    public override Task DeleteStateAsync(
        string storeName, string key, StateOptions? stateOptions = null, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(storeName, key, etag: null, stateOptions, metadata, cancellationToken);

    public override async Task<bool> TryDeleteStateAsync(
        string storeName, string key, string etag, StateOptions? stateOptions = null, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(etag);
        try
        {
            await DeleteAsync(storeName, key, etag, stateOptions, metadata, cancellationToken);
            return true;
        }
        catch (DaprApiException exception) when (exception.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    public override async Task ExecuteStateTransactionAsync(
        string storeName, IReadOnlyList<StateTransactionRequest> operations, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var body = new TransactionBody(
            [.. operations.Select(operation => new TransactionOperationBody(
                operation.OperationType == StateOperationType.Upsert ? "upsert" : "delete",
                new StateItemBody(operation.Key, ParseJson(operation.Key, operation.Value), operation.ETag, operation.Metadata, operation.Options.ToWire())))],
            metadata);
        using var request = new HttpRequestMessage(HttpMethod.Post, ApiUri(StatePath(storeName, key: null) + "/transaction", []))
        {
            Content = JsonContent.Create(body, options: DaprWire.Options),
        };
        using var response = await CallApiAsync(request, cancellationToken);
    }

    // ---- Pub/sub ----

    public override async Task PublishEventAsync<TData>(
        string pubsubName, string topicName, TData data, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(pubsubName);
        ArgumentException.ThrowIfNullOrEmpty(topicName);
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(data, _json));
        // Exactly application/json: the sidecar copies it into the CloudEvent's datacontenttype.
        content.Headers.ContentType = new MediaTypeHeaderValue(JsonMediaType);
        using var request = new HttpRequestMessage(HttpMethod.Post, ApiUri($"v1.0/publish/{Escape(pubsubName)}/{EscapeTopic(topicName)}", Query(metadata))) { Content = content };
        using var response = await CallApiAsync(request, cancellationToken);
    }

    public override async Task<BulkPublishResponse<TValue>> BulkPublishEventAsync<TValue>(
        string pubsubName, string topicName, IReadOnlyList<TValue> events, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(pubsubName);
        ArgumentException.ThrowIfNullOrEmpty(topicName);
        ArgumentNullException.ThrowIfNull(events);
        var entries = events
            .Select((item, index) => new BulkPublishEntry<TValue>(index.ToString(), item, JsonMediaType, new Dictionary<string, string>(StringComparer.Ordinal)))
            .ToList();
        var body = entries.Select(entry => new BulkPublishEntryBody(entry.EntryId, JsonSerializer.SerializeToElement(entry.EventData, _json), entry.ContentType, Metadata: null)).ToList();
        // The v1.0-alpha1 route is the one every daprd version serves (the v1.0 alias came in 1.17).
        using var request = new HttpRequestMessage(HttpMethod.Post, ApiUri($"v1.0-alpha1/publish/bulk/{Escape(pubsubName)}/{EscapeTopic(topicName)}", Query(metadata)))
        {
            Content = JsonContent.Create(body, options: DaprWire.Options),
        };
        using var response = await SendReachingSidecarAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return new BulkPublishResponse<TValue>([]);
        }

        // A failure that names its entries is the component's verdict on those events, not an error of the call.
        var failure = await ReadJsonOrNullAsync<BulkPublishErrorBody>(response, cancellationToken);
        if (failure?.FailedEntries is not { Count: > 0 } failed)
        {
            throw await DaprApiException.ReadAsync(response, cancellationToken);
        }

        var byId = entries.ToDictionary(entry => entry.EntryId, StringComparer.Ordinal);
        return new BulkPublishResponse<TValue>([.. failed.Select(entry => new BulkPublishResponseFailedEntry<TValue>(byId[entry.EntryId], entry.Error ?? ""))]);
    }

    // ---- Service invocation ----

    public override HttpRequestMessage CreateInvokeMethodRequest(
        HttpMethod httpMethod, string appId, string methodName, IReadOnlyCollection<KeyValuePair<string, string>> queryStringParameters)
    {
        ArgumentNullException.ThrowIfNull(httpMethod);
        ArgumentException.ThrowIfNullOrEmpty(appId);
        ArgumentNullException.ThrowIfNull(methodName);
        var request = new HttpRequestMessage(httpMethod, ApiUri($"v1.0/invoke/{appId}/method/{methodName.TrimStart('/')}", queryStringParameters));
        request.Options.Set(AppIdOption, appId);
        request.Options.Set(MethodNameOption, methodName);
        return request;
    }

    public override HttpRequestMessage CreateInvokeMethodRequest<TRequest>(
        HttpMethod httpMethod, string appId, string methodName, IReadOnlyCollection<KeyValuePair<string, string>> queryStringParameters, TRequest data)
    {
        var request = CreateInvokeMethodRequest(httpMethod, appId, methodName, queryStringParameters);
        request.Content = JsonContent.Create(data, options: _json);
        return request;
    }

    public override async Task<HttpResponseMessage> InvokeMethodWithResponseAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        // The API token goes only to this sidecar, never to whatever address a hand-made request names.
        if (request.RequestUri is null || !_endpoint.IsBaseOf(request.RequestUri))
        {
            throw new InvalidOperationException($"The request URI '{request.RequestUri}' is not a service invocation URI of the sidecar at {_endpoint}.");
        }

        try
        {
            return await SendToSidecarAsync(request, cancellationToken);
        }
        catch (HttpRequestException exception)
        {
            throw Failed(request, exception, response: null);
        }
    }

    public override async Task InvokeMethodAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        using var response = await InvokeSuccessfullyAsync(request, cancellationToken);
    }

    public override async Task<TResponse?> InvokeMethodAsync<TResponse>(HttpRequestMessage request, CancellationToken cancellationToken = default)
        where TResponse : default
    {
        var response = await InvokeSuccessfullyAsync(request, cancellationToken);
        try
        {
            var value = await response.Content.ReadFromJsonAsync<TResponse>(_json, cancellationToken);
            response.Dispose();
            return value;
        }
        catch (JsonException exception)
        {
            throw Failed(request, exception, response);
        }
    }

    // ---- Sidecar health ----

    public override Task<bool> CheckHealthAsync(CancellationToken cancellationToken = default) => ProbeAsync("v1.0/healthz", cancellationToken);

    public override Task<bool> CheckOutboundHealthAsync(CancellationToken cancellationToken = default) => ProbeAsync("v1.0/healthz/outbound", cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ownedHttpClient?.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task<bool> ProbeAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_endpoint, path));
        try
        {
            using var response = await SendToSidecarAsync(request, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception exception) when (exception is HttpRequestException || (exception is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Unreachable or too slow (HttpClient's timeout) is simply not healthy.
            return false;
        }
    }

    private async Task<HttpResponseMessage> InvokeSuccessfullyAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await InvokeMethodWithResponseAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        var status = new HttpRequestException($"Response status code does not indicate success: {(int)response.StatusCode} ({response.ReasonPhrase}).", inner: null, response.StatusCode);
        throw Failed(request, status, response);
    }

    private static InvocationException Failed(HttpRequestMessage request, Exception exception, HttpResponseMessage? response)
    {
        request.Options.TryGetValue(AppIdOption, out var appId);
        request.Options.TryGetValue(MethodNameOption, out var methodName);
        return new InvocationException(appId, methodName, exception, response);
    }

    private async Task<IReadOnlyList<BulkGetItemBody>> GetBulkStateBodiesAsync(
        string storeName, IReadOnlyList<string> keys, int? parallelism, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        using var request = new HttpRequestMessage(HttpMethod.Post, ApiUri(StatePath(storeName, key: null) + "/bulk", Query(metadata)))
        {
            Content = JsonContent.Create(new BulkGetBody(keys, parallelism), options: DaprWire.Options),
        };
        using var response = await CallApiAsync(request, cancellationToken);
        var items = await response.Content.ReadFromJsonAsync<List<BulkGetItemBody>>(DaprWire.Options, cancellationToken) ?? [];
        // daprd reports a key it could not read inside a 200; hiding it would pass off a failed read as a missing key.
        if (items.FirstOrDefault(item => item.Error is not null) is { } failed)
        {
            throw new DaprApiException($"failed getting key {failed.Key} from state store {storeName}: {failed.Error}", "ERR_STATE_BULK_GET", HttpStatusCode.InternalServerError);
        }

        return items;
    }

    private StateItemBody StateItem<TValue>(string key, TValue value, string? etag, StateOptions? options, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return new StateItemBody(key, JsonSerializer.SerializeToElement(value, _json), etag, metadata, options.ToWire());
    }

    private async Task SaveAsync(string storeName, StateItemBody item, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ApiUri(StatePath(storeName, key: null), []))
        {
            Content = JsonContent.Create(new[] { item }, options: DaprWire.Options),
        };
        using var response = await CallApiAsync(request, cancellationToken);
    }

    private async Task DeleteAsync(
        string storeName, string key, string? etag, StateOptions? options, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var query = Query(metadata, ("concurrency", options?.Concurrency.ToWire()), ("consistency", options?.Consistency.ToWire()));
        using var request = new HttpRequestMessage(HttpMethod.Delete, ApiUri(StatePath(storeName, key), query));
        if (etag is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", etag);
        }

        using var response = await CallApiAsync(request, cancellationToken);
    }

    /// <summary>Sends a call of the Dapr API: an unreachable sidecar throws <see cref="DaprException"/>, an error status <see cref="DaprApiException"/>.</summary>
    private async Task<HttpResponseMessage> CallApiAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await SendReachingSidecarAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await DaprApiException.ReadAsync(response, cancellationToken);
        }
    }

    /// <summary>Sends to the sidecar; not reaching it throws <see cref="DaprException"/> with the transport error inside.</summary>
    private async Task<HttpResponseMessage> SendReachingSidecarAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await SendToSidecarAsync(request, cancellationToken);
        }
        catch (HttpRequestException exception)
        {
            throw new DaprException($"{request.Method} {request.RequestUri?.AbsolutePath} failed: the Dapr sidecar at {_endpoint} could not be reached.", exception);
        }
    }

    private Task<HttpResponseMessage> SendToSidecarAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_apiToken is not null && !request.Headers.Contains(ApiTokenHeader))
        {
            request.Headers.TryAddWithoutValidation(ApiTokenHeader, _apiToken);
        }

        return _httpClient().SendAsync(request, cancellationToken);
    }

    private Uri ApiUri(string path, IEnumerable<KeyValuePair<string, string>> query)
    {
        var uri = new StringBuilder(path);
        var separator = '?';
        foreach (var (name, value) in query)
        {
            uri.Append(separator).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }

        return new Uri(_endpoint, uri.ToString());
    }

    /// <summary>The <c>metadata.*</c> query parameters daprd hands to the component, plus the given parameters that have a value.</summary>
    private static IEnumerable<KeyValuePair<string, string>> Query(IReadOnlyDictionary<string, string>? metadata, params (string Name, string? Value)[] parameters) =>
        parameters.Where(parameter => parameter.Value is not null).Select(parameter => KeyValuePair.Create(parameter.Name, parameter.Value!))
            .Concat(metadata?.Select(entry => KeyValuePair.Create("metadata." + entry.Key, entry.Value)) ?? []);

    private static string StatePath(string storeName, string? key)
    {
        ArgumentException.ThrowIfNullOrEmpty(storeName);
        return key is null ? $"v1.0/state/{Escape(storeName)}" : $"v1.0/state/{Escape(storeName)}/{Escape(key)}";
    }

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    // Topics may contain slashes (daprd's route is a wildcard), which must stay path separators.
    private static string EscapeTopic(string topic) => string.Join('/', topic.Split('/').Select(Escape));

    private static JsonElement? ParseJson(string key, byte[]? value)
    {
        if (value is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<JsonElement>(value);
        }
        catch (JsonException exception)
        {
            throw new ArgumentException($"The transaction value of key '{key}' is not UTF-8 JSON; serialize it with JsonSerializer.SerializeToUtf8Bytes.", nameof(value), exception);
        }
    }

    private static async Task<T?> ReadJsonOrNullAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(DaprWire.Options, cancellationToken);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
