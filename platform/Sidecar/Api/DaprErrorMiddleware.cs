using System.Text.Json;

namespace CloudScale.Sidecar.Api;

/// <summary>Turns <see cref="DaprErrorException"/> into its body, and anything unexpected into daprd's catch-all 500 <c>ERROR</c>.</summary>
internal sealed partial class DaprErrorMiddleware(RequestDelegate next, ILogger<DaprErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (DaprErrorException exception) when (!context.Response.HasStarted)
        {
            await exception.Error.WriteAsync(context.Response);
        }
        catch (JsonException exception) when (!context.Response.HasStarted)
        {
            await DaprError.Deserialization(exception).WriteAsync(context.Response);
        }
        catch (BadHttpRequestException exception) when (!context.Response.HasStarted)
        {
            await DaprError.Malformed(exception.Message).WriteAsync(context.Response);
        }
        catch (Exception exception) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            LogUnhandled(exception, context.Request.Path);
            await new DaprError(StatusCodes.Status500InternalServerError, "ERROR", exception.Message).WriteAsync(context.Response);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Path}")]
    private partial void LogUnhandled(Exception exception, string path);
}
