using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace CloudScale.ServiceDefaults.Errors;

/// <summary>
/// Turns exceptions into problem details that are the same in every environment, Development included: a client's
/// mistake is a 4xx that says what to fix (field by field where a field is wrong), logged at Information; anything else
/// is a 500 that says only that it was logged. Neither carries an exception's type, message or stack, nor any request
/// header: the trace id in the body leads to all of that on the dashboard.
/// </summary>
internal sealed partial class GlobalExceptionHandler(IProblemDetailsService problemDetails, ILogger<GlobalExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var traceId = Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
        ProblemDetails problem;
        if (exception is BadHttpRequestException badRequest)
        {
            LogBadRequest(logger, context.Request.Method, context.Request.Path.Value, badRequest.StatusCode, badRequest.Message, traceId);
            problem = BadRequestProblems.Describe(badRequest);
        }
        else
        {
            LogUnhandled(logger, exception, context.Request.Method, context.Request.Path.Value, traceId);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "An unexpected error occurred",
                Detail = "The error was logged with the trace id of this response.",
            };
        }

        context.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected {Method} {Path} with {StatusCode}: {Reason} (trace {TraceId})")]
    private static partial void LogBadRequest(ILogger logger, string method, string? path, int statusCode, string reason, string traceId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception in {Method} {Path} (trace {TraceId})")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string? path, string traceId);
}
