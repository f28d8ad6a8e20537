namespace Dapr.Client;

/// <summary>
/// Rewrites each request's URI for Dapr service invocation: the host names the target app, and
/// <c>http://{appId}/path?query</c> is sent as <c>{DaprEndpoint}/v1.0/invoke/{appId}/method/path?query</c> with the
/// <c>dapr-api-token</c> header. Every request goes to the sidecar, so never point <see cref="DaprEndpoint"/> at a public address.
/// </summary>
public class InvocationHandler : DelegatingHandler
{
    private const string ApiTokenHeader = "dapr-api-token";
    private Uri _endpoint = new(DaprDefaults.GetHttpEndpoint(configuration: null), UriKind.Absolute);

    /// <summary>The sidecar's HTTP endpoint; defaults to <c>DAPR_HTTP_ENDPOINT</c> or <c>http://localhost:{DAPR_HTTP_PORT}</c>.</summary>
    public string DaprEndpoint
    {
        get => _endpoint.OriginalString;
        set
        {
            var uri = new Uri(value, UriKind.Absolute);
            _endpoint = uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps
                ? uri
                : throw new ArgumentException("The Dapr endpoint must be an http or https URI.", nameof(value));
        }
    }

    /// <summary>The app id whose original spelling is kept: URI hosts are lower-cased, app ids need not be.</summary>
    public string? DefaultAppId { get; set; }

    internal string? DaprApiToken { get; set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var original = request.RequestUri;
        if (original is not { IsAbsoluteUri: true } || (original.Scheme != Uri.UriSchemeHttp && original.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The request URI '{original}' does not name an app: use http://{{appId}}/{{method}}.", nameof(request));
        }

        var appId = DefaultAppId is not null && string.Equals(original.Host, DefaultAppId, StringComparison.OrdinalIgnoreCase) ? DefaultAppId : original.Host;
        request.RequestUri = new UriBuilder(_endpoint)
        {
            Path = $"/v1.0/invoke/{appId}/method{original.AbsolutePath}",
            Query = original.Query,
        }.Uri;
        if (DaprApiToken is not null)
        {
            request.Headers.TryAddWithoutValidation(ApiTokenHeader, DaprApiToken);
        }

        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        finally
        {
            // An outer handler (a retry, say) may send the same message again: give it back as the caller wrote it.
            request.RequestUri = original;
            request.Headers.Remove(ApiTokenHeader);
        }
    }
}
