using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Dapr.Client;

/// <summary>
/// Builds a <see cref="DaprClient"/>. Defaults come from <paramref name="configuration"/>, then the environment, under the
/// Dapr SDK's names: <c>DAPR_HTTP_ENDPOINT</c>, else <c>http://localhost:{DAPR_HTTP_PORT}</c> (3500 when unset), and
/// <c>DAPR_API_TOKEN</c>; JSON uses <see cref="JsonSerializerDefaults.Web"/>.
/// </summary>
public sealed class DaprClientBuilder(IConfiguration? configuration = null)
{
    private string _httpEndpoint = DaprDefaults.GetHttpEndpoint(configuration);
    private string? _daprApiToken = DaprDefaults.GetDaprApiToken(configuration);
    private JsonSerializerOptions _jsonSerializerOptions = new(JsonSerializerDefaults.Web);
    private Func<HttpClient>? _httpClientFactory;
    private TimeSpan? _timeout;

    public DaprClientBuilder UseHttpEndpoint(string httpEndpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(httpEndpoint);
        _httpEndpoint = httpEndpoint;
        return this;
    }

    /// <summary>The token sent as <c>dapr-api-token</c> on every call to the sidecar; <c>null</c> sends none.</summary>
    public DaprClientBuilder UseDaprApiToken(string? apiToken)
    {
        _daprApiToken = string.IsNullOrWhiteSpace(apiToken) ? null : apiToken;
        return this;
    }

    public DaprClientBuilder UseJsonSerializationOptions(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _jsonSerializerOptions = options;
        return this;
    }

    /// <summary>The timeout of each call to the sidecar (HttpClient's default of 100 s otherwise).</summary>
    public DaprClientBuilder UseTimeout(TimeSpan timeout)
    {
        _timeout = timeout;
        return this;
    }

    /// <summary>Where each call gets its HttpClient; <c>AddDaprClient</c> passes <see cref="IHttpClientFactory"/>'s named client.</summary>
    internal DaprClientBuilder UseHttpClientFactory(Func<HttpClient> factory)
    {
        _httpClientFactory = factory;
        return this;
    }

    public DaprClient Build()
    {
        var endpoint = new Uri(_httpEndpoint, UriKind.Absolute);
        if (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)
        {
            throw new InvalidOperationException($"The Dapr HTTP endpoint must use http or https, not '{endpoint.Scheme}'.");
        }

        return new DaprClientHttp(endpoint, _daprApiToken, _jsonSerializerOptions, _httpClientFactory, _timeout);
    }
}
