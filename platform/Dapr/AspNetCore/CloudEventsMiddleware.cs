using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Dapr;

/// <summary>
/// Unwraps structured CloudEvents (<c>application/cloudevents+json</c>), as the Dapr SDK's middleware does, so that a handler
/// binds the event's <c>data</c>: the body becomes <c>data</c> (JSON as JSON; a string with a non-JSON
/// <c>datacontenttype</c> as that text) or the decoded <c>data_base64</c>, and the content type becomes <c>datacontenttype</c>
/// (<c>application/json</c> when absent). The envelope stays available through <see cref="ICloudEventFeature"/>. Any other
/// request passes untouched.
/// </summary>
internal sealed class CloudEventsMiddleware(RequestDelegate next)
{
    private const string CloudEventsContentType = "application/cloudevents+json";

    public Task InvokeAsync(HttpContext context) =>
        MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var contentType) &&
        contentType.MediaType.Equals(CloudEventsContentType, StringComparison.OrdinalIgnoreCase)
            ? UnwrapAsync(context, contentType.Encoding ?? Encoding.UTF8)
            : next(context);

    private async Task UnwrapAsync(HttpContext context, Encoding encoding)
    {
        var request = context.Request;
        JsonElement envelope;
        try
        {
            using var reader = new StreamReader(request.Body, encoding);
            envelope = JsonSerializer.Deserialize<JsonElement>(await reader.ReadToEndAsync(context.RequestAborted));
        }
        catch (JsonException)
        {
            await RejectAsync(context, "The body is not JSON.");
            return;
        }

        if (envelope.ValueKind != JsonValueKind.Object)
        {
            await RejectAsync(context, "The body is not a JSON object.");
            return;
        }

        if (Payload(envelope) is not { } payload)
        {
            await RejectAsync(context, "A CloudEvent carries either data or a base64 string in data_base64.");
            return;
        }

        var (body, dataContentType) = payload;
        var originalBody = request.Body;
        var originalContentType = request.ContentType;
        var originalContentLength = request.ContentLength;
        context.Features.Set<ICloudEventFeature>(new CloudEventFeature(envelope));
        request.Body = new MemoryStream(body, writable: false);
        request.ContentType = dataContentType;
        request.ContentLength = body.Length;
        try
        {
            await next(context);
        }
        finally
        {
            request.Body = originalBody;
            request.ContentType = originalContentType;
            request.ContentLength = originalContentLength;
        }
    }

    /// <summary>The bytes and content type the handler sees; <c>null</c> when the event has both data and data_base64, or bad base64.</summary>
    private static (byte[] Body, string? ContentType)? Payload(JsonElement envelope)
    {
        var hasData = envelope.TryGetProperty("data", out var data);
        var hasBinaryData = envelope.TryGetProperty("data_base64", out var binaryData);
        if (hasData && hasBinaryData)
        {
            return null;
        }

        if (hasData)
        {
            var contentType = DataContentType(envelope, out var isJson);
            // Non-JSON text travels as a JSON string; anything else that is not a string is JSON whatever the declared type.
            return (isJson || data.ValueKind != JsonValueKind.String ? JsonSerializer.SerializeToUtf8Bytes(data) : Encoding.UTF8.GetBytes(data.GetString()!), contentType);
        }

        if (hasBinaryData)
        {
            return binaryData.ValueKind == JsonValueKind.String && binaryData.TryGetBytesFromBase64(out var bytes)
                ? (bytes, DataContentType(envelope, out _))
                : null;
        }

        return ([], null);
    }

    /// <summary>The event's <c>datacontenttype</c> without a charset (the body is re-encoded as UTF-8), or <c>application/json</c>.</summary>
    private static string DataContentType(JsonElement envelope, out bool isJson)
    {
        if (envelope.TryGetProperty("datacontenttype", out var declared) &&
            declared.ValueKind == JsonValueKind.String &&
            MediaTypeHeaderValue.TryParse(declared.GetString(), out var parsed))
        {
            isJson = parsed.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
                parsed.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase);
            parsed.Charset = StringSegment.Empty;
            return parsed.ToString();
        }

        isJson = true;
        return "application/json";
    }

    private static Task RejectAsync(HttpContext context, string detail) =>
        Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid CloudEvent", detail: detail).ExecuteAsync(context);
}
