using System.Text.Json;

namespace Dapr.Client;

/// <summary>
/// The Dapr building blocks over the sidecar's HTTP API, shaped like <c>Dapr.Client.DaprClient</c> of the Dapr .NET SDK:
/// state, pub/sub, service invocation and sidecar health. Build one with <see cref="DaprClientBuilder"/> or register it with
/// <c>services.AddDaprClient()</c>, and share it: it is thread-safe and meant to live as long as the application.
/// </summary>
public abstract class DaprClient : IDisposable
{
    /// <summary>The options state values, event payloads and invocation bodies are (de)serialized with (<see cref="JsonSerializerDefaults.Web"/> unless configured).</summary>
    public abstract JsonSerializerOptions JsonSerializerOptions { get; }

    /// <summary>
    /// An <see cref="HttpClient"/> whose requests go to other apps through the sidecar: the host of each request URI is the
    /// target app id, and <c>http://{appId}/orders/42</c> becomes <c>{daprEndpoint}/v1.0/invoke/{appId}/method/orders/42</c>.
    /// With <paramref name="appId"/> the base address is <c>http://{appId}</c>, so relative URIs work (and app ids keep their
    /// upper-case letters, which a URI host would lose). Endpoint and token default to <c>DAPR_HTTP_ENDPOINT</c> /
    /// <c>DAPR_HTTP_PORT</c> and <c>DAPR_API_TOKEN</c>. The client holds its own connection pool: create one per target and keep it.
    /// </summary>
    public static HttpClient CreateInvokeHttpClient(string? appId = null, string? daprEndpoint = null, string? daprApiToken = null)
    {
        var handler = new InvocationHandler
        {
            InnerHandler = new SocketsHttpHandler(),
            DefaultAppId = appId,
            DaprApiToken = daprApiToken ?? DaprDefaults.GetDaprApiToken(configuration: null),
        };
        if (daprEndpoint is not null)
        {
            handler.DaprEndpoint = daprEndpoint;
        }

        var client = new HttpClient(handler);
        if (appId is not null)
        {
            client.BaseAddress = Uri.TryCreate($"http://{appId}", UriKind.Absolute, out var baseAddress)
                ? baseAddress
                : throw new ArgumentException($"The app id '{appId}' must be a valid host name.", nameof(appId));
        }

        return client;
    }

    /// <summary><see cref="CreateInvokeHttpClient"/> with this client's sidecar endpoint and API token.</summary>
    public abstract HttpClient CreateInvokableHttpClient(string? appId = null);

    // ---- State ----

    /// <summary>The value of <paramref name="key"/>, or <c>default</c> when the key does not exist.</summary>
    public async Task<TValue?> GetStateAsync<TValue>(
        string storeName,
        string key,
        ConsistencyMode? consistencyMode = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default) =>
        (await GetStateAndETagAsync<TValue>(storeName, key, consistencyMode, metadata, cancellationToken)).value;

    /// <summary>The value of <paramref name="key"/> and its ETag; <c>(default, "")</c> when the key does not exist.</summary>
    public abstract Task<(TValue? value, string etag)> GetStateAndETagAsync<TValue>(
        string storeName,
        string key,
        ConsistencyMode? consistencyMode = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default);

    /// <summary>Reads several keys at once; each item's value is the stored JSON as text (empty when the key does not exist).</summary>
    public abstract Task<IReadOnlyList<BulkStateItem>> GetBulkStateAsync(
        string storeName,
        IReadOnlyList<string> keys,
        int? parallelism,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default);

    /// <summary>Reads several keys at once as <typeparamref name="TValue"/> (default when the key does not exist).</summary>
    public abstract Task<IReadOnlyList<BulkStateItem<TValue>>> GetBulkStateAsync<TValue>(
        string storeName,
        IReadOnlyList<string> keys,
        int? parallelism,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Saves <paramref name="value"/> under <paramref name="key"/>. Metadata goes to the store, e.g. <c>ttlInSeconds</c>.
    /// A concurrency conflict (<see cref="ConcurrencyMode.FirstWrite"/> on an existing key) throws a
    /// <see cref="DaprApiException"/> with <c>ERR_STATE_SAVE</c> and status 409.
    /// </summary>
    public abstract Task SaveStateAsync<TValue>(
        string storeName,
        string key,
        TValue value,
        StateOptions? stateOptions = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default);

    /// <summary>Saves only if the stored ETag is still <paramref name="etag"/>; <c>false</c> when it is not (409 from the sidecar).</summary>
    public abstract Task<bool> TrySaveStateAsync<TValue>(
        string storeName,
        string key,
        TValue value,
        string etag,
        StateOptions? stateOptions = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default);

    public abstract Task DeleteStateAsync(
        string storeName,
        string key,
        StateOptions? stateOptions = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default);

    /// <summary>Deletes only if the stored ETag is still <paramref name="etag"/>; <c>false</c> when it is not.</summary>
    public abstract Task<bool> TryDeleteStateAsync(
        string storeName,
        string key,
        string etag,
        StateOptions? stateOptions = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs upserts and deletes atomically. Any failure, an ETag mismatch included, throws a <see cref="DaprApiException"/>
    /// with <c>ERR_STATE_TRANSACTION</c> (daprd answers 500 for these, never 409).
    /// </summary>
    public abstract Task ExecuteStateTransactionAsync(
        string storeName,
        IReadOnlyList<StateTransactionRequest> operations,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default);

    // ---- Pub/sub ----

    /// <summary>Publishes <paramref name="data"/> as JSON; the sidecar wraps it in a CloudEvent.</summary>
    public Task PublishEventAsync<TData>(string pubsubName, string topicName, TData data, CancellationToken cancellationToken = default) =>
        PublishEventAsync(pubsubName, topicName, data, metadata: null, cancellationToken);

    /// <summary>
    /// Publishes <paramref name="data"/> as JSON with metadata for the sidecar and component: <c>rawPayload=true</c> publishes the
    /// JSON without a CloudEvent envelope, <c>ttlInSeconds</c> expires it, <c>cloudevent.id</c> / <c>cloudevent.type</c> / … override
    /// envelope fields.
    /// </summary>
    public abstract Task PublishEventAsync<TData>(
        string pubsubName,
        string topicName,
        TData data,
        IReadOnlyDictionary<string, string>? metadata,
        CancellationToken cancellationToken = default);

    /// <summary>Publishes several events in one request; the response lists the ones the component rejected.</summary>
    public abstract Task<BulkPublishResponse<TValue>> BulkPublishEventAsync<TValue>(
        string pubsubName,
        string topicName,
        IReadOnlyList<TValue> events,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default);

    // ---- Service invocation ----

    /// <summary>A request for <paramref name="methodName"/> (a path, query string excluded) of app <paramref name="appId"/>, carrying this client's API token.</summary>
    public HttpRequestMessage CreateInvokeMethodRequest(HttpMethod httpMethod, string appId, string methodName) =>
        CreateInvokeMethodRequest(httpMethod, appId, methodName, queryStringParameters: []);

    public abstract HttpRequestMessage CreateInvokeMethodRequest(
        HttpMethod httpMethod,
        string appId,
        string methodName,
        IReadOnlyCollection<KeyValuePair<string, string>> queryStringParameters);

    /// <summary>As <see cref="CreateInvokeMethodRequest(HttpMethod, string, string)"/> with <paramref name="data"/> as the JSON body.</summary>
    public HttpRequestMessage CreateInvokeMethodRequest<TRequest>(HttpMethod httpMethod, string appId, string methodName, TRequest data) =>
        CreateInvokeMethodRequest(httpMethod, appId, methodName, [], data);

    public abstract HttpRequestMessage CreateInvokeMethodRequest<TRequest>(
        HttpMethod httpMethod,
        string appId,
        string methodName,
        IReadOnlyCollection<KeyValuePair<string, string>> queryStringParameters,
        TRequest data);

    /// <summary>Sends an invocation request and returns the response whatever its status; throws <see cref="InvocationException"/> only when no response came.</summary>
    public abstract Task<HttpResponseMessage> InvokeMethodWithResponseAsync(HttpRequestMessage request, CancellationToken cancellationToken = default);

    /// <summary>Sends an invocation request; a non-success status throws <see cref="InvocationException"/> carrying the response.</summary>
    public abstract Task InvokeMethodAsync(HttpRequestMessage request, CancellationToken cancellationToken = default);

    /// <summary>Sends an invocation request and reads the JSON response as <typeparamref name="TResponse"/>.</summary>
    public abstract Task<TResponse?> InvokeMethodAsync<TResponse>(HttpRequestMessage request, CancellationToken cancellationToken = default);

    public Task InvokeMethodAsync(string appId, string methodName, CancellationToken cancellationToken = default) =>
        InvokeMethodAsync(HttpMethod.Post, appId, methodName, cancellationToken);

    public async Task InvokeMethodAsync(HttpMethod httpMethod, string appId, string methodName, CancellationToken cancellationToken = default)
    {
        using var request = CreateInvokeMethodRequest(httpMethod, appId, methodName);
        await InvokeMethodAsync(request, cancellationToken);
    }

    public Task InvokeMethodAsync<TRequest>(string appId, string methodName, TRequest data, CancellationToken cancellationToken = default) =>
        InvokeMethodAsync(HttpMethod.Post, appId, methodName, data, cancellationToken);

    public async Task InvokeMethodAsync<TRequest>(HttpMethod httpMethod, string appId, string methodName, TRequest data, CancellationToken cancellationToken = default)
    {
        using var request = CreateInvokeMethodRequest(httpMethod, appId, methodName, data);
        await InvokeMethodAsync(request, cancellationToken);
    }

    public Task<TResponse?> InvokeMethodAsync<TResponse>(string appId, string methodName, CancellationToken cancellationToken = default) =>
        InvokeMethodAsync<TResponse>(HttpMethod.Post, appId, methodName, cancellationToken);

    public async Task<TResponse?> InvokeMethodAsync<TResponse>(HttpMethod httpMethod, string appId, string methodName, CancellationToken cancellationToken = default)
    {
        using var request = CreateInvokeMethodRequest(httpMethod, appId, methodName);
        return await InvokeMethodAsync<TResponse>(request, cancellationToken);
    }

    public Task<TResponse?> InvokeMethodAsync<TRequest, TResponse>(string appId, string methodName, TRequest data, CancellationToken cancellationToken = default) =>
        InvokeMethodAsync<TRequest, TResponse>(HttpMethod.Post, appId, methodName, data, cancellationToken);

    public async Task<TResponse?> InvokeMethodAsync<TRequest, TResponse>(
        HttpMethod httpMethod, string appId, string methodName, TRequest data, CancellationToken cancellationToken = default)
    {
        using var request = CreateInvokeMethodRequest(httpMethod, appId, methodName, data);
        return await InvokeMethodAsync<TResponse>(request, cancellationToken);
    }

    // ---- Sidecar health ----

    /// <summary>Whether the sidecar is fully ready (<c>GET /v1.0/healthz</c>: components loaded and the app channel up); <c>false</c> when it cannot be reached.</summary>
    public abstract Task<bool> CheckHealthAsync(CancellationToken cancellationToken = default);

    /// <summary>Whether the sidecar can serve this app's calls (<c>GET /v1.0/healthz/outbound</c>: components loaded), which it can before the app listens.</summary>
    public abstract Task<bool> CheckOutboundHealthAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until <see cref="CheckOutboundHealthAsync"/> holds, as the SDK does at start-up, so that the first state or publish
    /// call does not race the sidecar. Bound it with <paramref name="cancellationToken"/>.
    /// </summary>
    public async Task WaitForSidecarAsync(CancellationToken cancellationToken = default)
    {
        // A local probe costs next to nothing, so a short interval keeps start-up fast.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!await CheckOutboundHealthAsync(cancellationToken))
        {
            await timer.WaitForNextTickAsync(cancellationToken);
        }
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
