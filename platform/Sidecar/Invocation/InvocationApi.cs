using CloudScale.Sidecar.Api;
using Microsoft.AspNetCore.Http.Features;
using Polly.CircuitBreaker;

namespace CloudScale.Sidecar.Invocation;

/// <summary>
/// Service invocation: <c>/v1.0/invoke/{appId}/method/{method}</c> and, as the fallback route, any other path with a
/// <c>dapr-app-id</c> header. A call for this sidecar's own app goes to the app; any other app id goes to that
/// app's sidecar (resolved through <see cref="NameResolver"/>), which delivers it to its app.
/// </summary>
internal static class InvocationApi
{
    private const string CallerHeader = "dapr-caller-app-id";

    private static readonly HashSet<string> SkippedRequestHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "dapr-api-token", "dapr-app-id", "dapr-callee-app-id",
        // The outgoing client span's context replaces these.
        "traceparent", "tracestate", "Request-Id",
    };

    private static readonly HashSet<string> SkippedResponseHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
    };

    public static void Map(WebApplication app)
    {
        app.Map("/v1.0/invoke/{appId}/method/{**method}", context =>
        {
            var path = context.Request.Path.Value!;
            var methodStart = path.IndexOf("/method/", "/v1.0/invoke/".Length, StringComparison.Ordinal) + "/method/".Length;
            return InvokeAsync(context, Uri.UnescapeDataString((string)context.Request.RouteValues["appId"]!), path[methodStart..]);
        });
        app.MapFallback(context => context.Request.Headers.TryGetValue("dapr-app-id", out var target) && target.ToString().Length > 0
            ? InvokeAsync(context, target.ToString(), context.Request.Path.Value!.TrimStart('/'))
            : new DaprError(StatusCodes.Status404NotFound, "ERR_DIRECT_INVOKE", "failed getting app id either from the URL path or the header dapr-app-id").WriteAsync(context.Response));
    }

    private static async Task InvokeAsync(HttpContext context, string appId, string method)
    {
        var channel = context.RequestServices.GetRequiredService<AppChannel>();
        var options = channel.Options;
        method = Clean(method);
        var toApp = appId == options.AppId;
        var target = ResolveTarget(context, channel, appId, method, toApp);

        // The policy runs once, on the caller's sidecar; the hop's receiving sidecar passes the call straight on.
        var fromSidecar = context.Request.Headers.ContainsKey(CallerHeader) && toApp;
        var pipeline = fromSidecar ? Polly.ResiliencePipeline<HttpResponseMessage>.Empty : context.RequestServices.GetRequiredService<ResiliencePipelines>().ForApp(appId);
        var canHaveBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? false;
        byte[]? bufferedBody = null;
        if (canHaveBody && pipeline != Polly.ResiliencePipeline<HttpResponseMessage>.Empty)
        {
            // A retried request must be sent again, so its body is kept.
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            bufferedBody = buffer.ToArray();
        }

        HttpResponseMessage response;
        try
        {
            response = await pipeline.ExecuteAsync(
                async cancellationToken =>
                {
                    using var request = BuildRequest(context, target, canHaveBody, bufferedBody, options.AppId, appId, toApp);
                    return await channel.SendAsync(request, toApp, cancellationToken);
                },
                context.RequestAborted);
        }
        catch (Exception exception) when (exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException or BrokenCircuitException or IOException)
        {
            throw InvokeError(appId, exception.Message);
        }

        using (response)
        {
            await CopyResponseAsync(context, response);
        }
    }

    private static async Task CopyResponseAsync(HttpContext context, HttpResponseMessage response)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!SkippedResponseHeaders.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        await body.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    private static Uri ResolveTarget(HttpContext context, AppChannel channel, string appId, string method, bool toApp)
    {
        var query = context.Request.QueryString.Value ?? "";
        if (toApp)
        {
            return channel.HasApp
                ? channel.AppUri("/" + method + query)
                : throw InvokeError(appId, "app channel is not initialized: no --app-port");
        }

        if (context.Request.Headers.ContainsKey(CallerHeader))
        {
            // A hop from another sidecar names this sidecar's app; anything else is a stale resolution file, not a loop to follow.
            throw InvokeError(appId, $"app id {appId} is not served by this sidecar");
        }

        var sidecar = context.RequestServices.GetRequiredService<NameResolver>().Resolve(appId)
            ?? throw InvokeError(appId, $"couldn't find service: {appId}");
        return new Uri(sidecar, $"/v1.0/invoke/{Uri.EscapeDataString(appId)}/method/{method}{query}");
    }

    private static HttpRequestMessage BuildRequest(HttpContext context, Uri target, bool canHaveBody, byte[]? bufferedBody, string ownAppId, string calleeAppId, bool toApp)
    {
        var incoming = context.Request;
        var request = new HttpRequestMessage(new HttpMethod(incoming.Method), target) { Version = new Version(1, 1) };
        if (canHaveBody)
        {
            request.Content = bufferedBody is not null ? new ByteArrayContent(bufferedBody) : new StreamContent(incoming.Body);
        }

        foreach (var (name, values) in incoming.Headers)
        {
            if (SkippedRequestHeaders.Contains(name) || (toApp && name.Equals(CallerHeader, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        if (incoming.ContentLength is { } length && request.Content is not null)
        {
            request.Content.Headers.ContentLength = length;
        }

        var caller = toApp && incoming.Headers.TryGetValue(CallerHeader, out var hopCaller) ? hopCaller.ToString() : ownAppId;
        request.Headers.TryAddWithoutValidation(CallerHeader, caller);
        request.Headers.TryAddWithoutValidation("dapr-callee-app-id", calleeAppId);
        if (toApp)
        {
            var remote = context.Connection.RemoteIpAddress?.ToString();
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", remote);
            request.Headers.TryAddWithoutValidation("X-Forwarded-Host", incoming.Host.Value);
            request.Headers.TryAddWithoutValidation("Forwarded", $"for={remote};by={context.Connection.LocalIpAddress};host={incoming.Host.Value}");
        }

        return request;
    }

    /// <summary>Go's path.Clean on the method: no empty or "." segments, ".." resolved.</summary>
    private static string Clean(string method)
    {
        var segments = new List<string>();
        foreach (var segment in method.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (segments.Count > 0)
                {
                    segments.RemoveAt(segments.Count - 1);
                }

                continue;
            }

            segments.Add(segment);
        }

        return string.Join('/', segments);
    }

    private static DaprErrorException InvokeError(string appId, string error) =>
        new(new DaprError(StatusCodes.Status500InternalServerError, "ERR_DIRECT_INVOKE", $"failed to invoke, id: {appId}, err: {error}"));
}
