using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudScale.ServiceDefaults.Errors;

/// <summary>
/// Turns exceptions into problem details. Bad requests keep their status and a description of what was wrong
/// with the input; anything else is a 500 whose details (message, stack) are shown only in Development.
/// </summary>
internal sealed partial class GlobalExceptionHandler(
    IProblemDetailsService problemDetails,
    IHostEnvironment environment,
    ILogger<GlobalExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var traceId = Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
        ProblemDetails problem;
        if (exception is BadHttpRequestException badRequest)
        {
            LogBadRequest(logger, context.Request.Method, context.Request.Path.Value, badRequest.StatusCode, badRequest.Message, traceId);
            problem = new ProblemDetails
            {
                Status = badRequest.StatusCode,
                Title = badRequest.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : "Invalid request",
                Detail = DescribeBadRequest(badRequest),
            };
        }
        else
        {
            LogUnhandled(logger, exception, context.Request.Method, context.Request.Path.Value, traceId);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "An unexpected error occurred",
                Detail = environment.IsDevelopment() ? exception.ToString() : "The error was logged with the trace id of this response.",
            };
        }

        context.Response.StatusCode = problem.Status.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    // A JSON error names the path and the expected type ("$.nights … Int32"), which is what a client needs to fix it.
    private static string DescribeBadRequest(BadHttpRequestException exception) =>
        exception.InnerException is JsonException json ? $"{exception.Message} {json.Message}" : exception.Message;

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected {Method} {Path} with {StatusCode}: {Reason} (trace {TraceId})")]
    private static partial void LogBadRequest(ILogger logger, string method, string? path, int statusCode, string reason, string traceId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception in {Method} {Path} (trace {TraceId})")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string? path, string traceId);
}
