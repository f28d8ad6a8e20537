using System.Diagnostics;
using CloudScale.ServiceDefaults.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace CloudScale.ServiceDefaults.Telemetry;

/// <summary>
/// Does for the server span what OpenTelemetry.Instrumentation.AspNetCore would: drops health probes
/// (they would drown every trace view) and names the span by its route with the HTTP semantic-convention tags.
/// </summary>
internal sealed class ServerSpanMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var activity = context.Features.Get<IHttpActivityFeature>()?.Activity;
        if (activity is null)
        {
            await next(context);
            return;
        }

        if (HealthEndpoints.IsProbe(context.Request.Path))
        {
            // Not recorded: the export processor skips it, and child spans inherit the decision.
            activity.IsAllDataRequested = false;
            activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            await next(context);
            return;
        }

        try
        {
            await next(context);
        }
        finally
        {
            Enrich(activity, context);
        }
    }

    private static void Enrich(Activity activity, HttpContext context)
    {
        var request = context.Request;
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
        var status = context.Response.StatusCode;

        activity.DisplayName = route is null ? request.Method : $"{request.Method} {route}";
        activity.SetTag("http.request.method", request.Method);
        activity.SetTag("url.scheme", request.Scheme);
        activity.SetTag("url.path", request.Path.Value);
        activity.SetTag("http.response.status_code", status);
        if (route is not null)
        {
            activity.SetTag("http.route", route);
        }

        if (status >= StatusCodes.Status500InternalServerError)
        {
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }
}
