using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CloudScale.ServiceDefaults.Errors;

public static class ProblemDetailsDefaults
{
    /// <summary>
    /// Every error leaves as an RFC 9457 problem-details body carrying the trace id: exceptions (through
    /// <see cref="GlobalExceptionHandler"/>), binding and JSON errors (minimal APIs throw them instead of
    /// answering a bare 400) and bare status codes (404, 405, …).
    /// </summary>
    public static TBuilder AddProblemDetailsDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var http = context.HttpContext;
            context.ProblemDetails.Instance ??= $"{http.Request.Method} {http.Request.Path}";
            // The bare trace id (not ASP.NET Core's default traceparent form) is what the dashboard searches by.
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier;
        });
        builder.Services.AddExceptionHandler<GlobalExceptionHandler>();
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.Configure<ExceptionHandlerOptions>(options =>
            options.SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException);
        return builder;
    }
}
