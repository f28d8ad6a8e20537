using System.Net;
using CloudScale.Sidecar.Configuration;

namespace CloudScale.Sidecar.Invocation;

/// <summary>
/// The HTTP client for calls out of the sidecar: to its app and to other sidecars. No proxy, no redirects, no
/// cookies, no decompression: requests and responses pass through untouched. Trace context is injected by
/// the handler from the current activity.
/// </summary>
internal sealed class AppChannel(SidecarOptions options) : IDisposable
{
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        MaxConnectionsPerServer = 1024,
    });

    public SidecarOptions Options => options;

    public bool HasApp => options.AppPort is not null;

    public Uri AppUri(string pathAndQuery) => new(options.AppBaseAddress, pathAndQuery);

    /// <summary>Sends to the app or another sidecar; adds <c>APP_API_TOKEN</c> on calls to the app.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, bool toApp, CancellationToken cancellationToken)
    {
        if (toApp && options.AppApiToken is { } token)
        {
            request.Headers.Remove("dapr-api-token");
            request.Headers.TryAddWithoutValidation("dapr-api-token", token);
        }
        else if (!toApp && options.ApiToken is { } ownToken)
        {
            // The hop to another sidecar is an API call there; the sidecars of one deployment share a token.
            request.Headers.Remove("dapr-api-token");
            request.Headers.TryAddWithoutValidation("dapr-api-token", ownToken);
        }

        // HttpMessageInvoker never buffers the response body: the caller streams it.
        return _invoker.SendAsync(request, cancellationToken);
    }

    public void Dispose() => _invoker.Dispose();
}
