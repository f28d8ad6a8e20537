using CloudScale.Sidecar.Api;
using Microsoft.AspNetCore.Http.Features;
using CloudScale.Sidecar.Configuration;
using Polly;
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

    /// <summary>
    /// The resiliency pipeline for a call: the policy runs once, on the caller's sidecar, so the hop's receiving sidecar
    /// (<paramref name="isHop"/>, the call naming its own app) passes the call straight on.
    /// </summary>
    public static ResiliencePipeline<HttpResponseMessage> Pipeline(IServiceProvider services, string appId, bool isHop) =>
        isHop && appId == services.GetRequiredService<SidecarOptions>().AppId
            ? ResiliencePipeline<HttpResponseMessage>.Empty
            : services.GetRequiredService<ResiliencePipelines>().ForApp(appId);

    /// <summary>
    /// Sends a call for <paramref name="appId"/> through <paramref name="pipeline"/>: to this sidecar's app, or to the
    /// target app's sidecar. <paramref name="build"/> makes the request for each attempt, given the target and whether it
    /// is the app. A transport failure is daprd's 500 <c>ERR_DIRECT_INVOKE</c>.
    /// </summary>
    public static async Task<HttpResponseMessage> SendAsync(
        IServiceProvider services, string appId, string method, string query, bool isHop, ResiliencePipeline<HttpResponseMessage> pipeline,
        Func<Uri, bool, HttpRequestMessage> build, CancellationToken cancellationToken)
    {
        var channel = services.GetRequiredService<AppChannel>();
        var toApp = appId == channel.Options.AppId;
        var target = ResolveTarget(services, channel, appId, Clean(method) + query, toApp, isHop);
        try
        {
            return await pipeline.ExecuteAsync(
                async token =>
                {
                    using var request = build(target, toApp);
                    return await channel.SendAsync(request, toApp, token);
                },
                cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException or BrokenCircuitException or IOException)
        {
            throw InvokeError(appId, exception.Message);
        }
    }

    private static async Task InvokeAsync(HttpContext context, string appId, string method)
    {
        var isHop = context.Request.Headers.ContainsKey(CallerHeader);
        var pipeline = Pipeline(context.RequestServices, appId, isHop);
        var canHaveBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? false;
        byte[]? bufferedBody = null;
        if (canHaveBody && pipeline != ResiliencePipeline<HttpResponseMessage>.Empty)
        {
            // A retried request must be sent again, so its body is kept.
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            bufferedBody = buffer.ToArray();
        }

        var ownAppId = context.RequestServices.GetRequiredService<SidecarOptions>().AppId;
        using var response = await SendAsync(
            context.RequestServices, appId, method, context.Request.QueryString.Value ?? "", isHop, pipeline,
            (target, toApp) => BuildRequest(context, target, canHaveBody, bufferedBody, ownAppId, appId, toApp), context.RequestAborted);
        await CopyResponseAsync(context, response);
    }

    private static async Task CopyResponseAsync(HttpContext context, HttpResponseMessage response)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!IsHopByHop(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        await body.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    private static Uri ResolveTarget(IServiceProvider services, AppChannel channel, string appId, string methodAndQuery, bool toApp, bool isHop)
    {
        if (toApp)
        {
            return channel.HasApp
                ? channel.AppUri("/" + methodAndQuery)
                : throw InvokeError(appId, "app channel is not initialized: no --app-port");
        }

        if (isHop)
        {
            // A hop from another sidecar names this sidecar's app; anything else is a stale resolution file, not a loop to follow.
            throw InvokeError(appId, $"app id {appId} is not served by this sidecar");
        }

        var sidecar = services.GetRequiredService<NameResolver>().Resolve(appId)
            ?? throw InvokeError(appId, $"couldn't find service: {appId}");
        return new Uri(sidecar, $"/v1.0/invoke/{Uri.EscapeDataString(appId)}/method/{methodAndQuery}");
    }

    /// <summary>
    /// A request for the app or the next sidecar: the caller's headers, less hop-by-hop ones and Dapr's own, and daprd's
    /// caller and callee headers.
    /// </summary>
    public static HttpRequestMessage Outgoing(
        string method, Uri target, HttpContent? content, IEnumerable<KeyValuePair<string, IEnumerable<string?>>> headers, string caller, string callee, bool toApp)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), target) { Version = new Version(1, 1), Content = content };
        foreach (var (name, values) in headers)
        {
            if (SkippedRequestHeaders.Contains(name) || (toApp && name.Equals(CallerHeader, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, values);
            }
        }

        request.Headers.TryAddWithoutValidation(CallerHeader, caller);
        request.Headers.TryAddWithoutValidation("dapr-callee-app-id", callee);
        return request;
    }

    public static bool IsHopByHop(string responseHeader) => SkippedResponseHeaders.Contains(responseHeader);

    private static HttpRequestMessage BuildRequest(HttpContext context, Uri target, bool canHaveBody, byte[]? bufferedBody, string ownAppId, string calleeAppId, bool toApp)
    {
        var incoming = context.Request;
        HttpContent? content = !canHaveBody ? null : bufferedBody is not null ? new ByteArrayContent(bufferedBody) : new StreamContent(incoming.Body);
        var caller = toApp && incoming.Headers.TryGetValue(CallerHeader, out var hopCaller) ? hopCaller.ToString() : ownAppId;
        var request = Outgoing(
            incoming.Method, target, content, incoming.Headers.Select(header => KeyValuePair.Create(header.Key, (IEnumerable<string?>)header.Value)), caller, calleeAppId, toApp);
        if (incoming.ContentLength is { } length && request.Content is not null)
        {
            request.Content.Headers.ContentLength = length;
        }

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
