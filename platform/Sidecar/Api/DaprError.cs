using System.Text.Json;

namespace CloudScale.Sidecar.Api;

/// <summary>
/// An error as daprd writes it: <c>{"errorCode","message"}</c>, plus, for the errors daprd raises through dapr/kit
/// (reason set), the google.rpc <c>ErrorInfo</c> detail and, where daprd adds one, the <c>ResourceInfo</c> detail.
/// Detail fields are in Go's map order (sorted), as dapr/kit marshals them.
/// </summary>
internal sealed record DaprError(int Status, string ErrorCode, string Message, string? Reason = null)
{
    /// <summary>
    /// The gRPC API's code for the error: daprd's own where it names one (e.g. FailedPrecondition for "not configured"),
    /// else the one that goes with the HTTP status.
    /// </summary>
    public Grpc.Core.StatusCode GrpcCode { get; init; } = Status switch
    {
        StatusCodes.Status400BadRequest or StatusCodes.Status404NotFound => Grpc.Core.StatusCode.InvalidArgument,
        StatusCodes.Status409Conflict => Grpc.Core.StatusCode.Aborted,
        StatusCodes.Status401Unauthorized => Grpc.Core.StatusCode.Unauthenticated,
        StatusCodes.Status403Forbidden => Grpc.Core.StatusCode.PermissionDenied,
        _ => Grpc.Core.StatusCode.Internal,
    };

    /// <summary>The ErrorInfo metadata; omitted when null.</summary>
    public IReadOnlyDictionary<string, string>? ReasonMetadata { get; init; }

    /// <summary>The component the error is about, written as a ResourceInfo detail; none when null.</summary>
    public (string Type, string Name, string Description)? Resource { get; init; }

    public static DaprError Malformed(string message) => new(StatusCodes.Status400BadRequest, "ERR_MALFORMED_REQUEST", message);

    public static DaprError Deserialization(Exception exception) =>
        Malformed($"failed deserializing HTTP body: {exception.Message}");

    public async Task WriteAsync(HttpResponse response)
    {
        response.StatusCode = Status;
        response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteString("errorCode", ErrorCode);
        writer.WriteString("message", Message);
        if (Reason is not null)
        {
            writer.WriteStartArray("details");
            writer.WriteStartObject();
            writer.WriteString("@type", "type.googleapis.com/google.rpc.ErrorInfo");
            writer.WriteString("domain", "dapr.io");
            if (ReasonMetadata is not null)
            {
                writer.WriteStartObject("metadata");
                foreach (var (key, value) in ReasonMetadata.OrderBy(entry => entry.Key, StringComparer.Ordinal))
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
            }

            writer.WriteString("reason", Reason);
            writer.WriteEndObject();
            if (Resource is var (type, name, description))
            {
                writer.WriteStartObject();
                writer.WriteString("@type", "type.googleapis.com/google.rpc.ResourceInfo");
                writer.WriteString("description", description);
                writer.WriteString("owner", "");
                writer.WriteString("resource_name", name);
                writer.WriteString("resource_type", type);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        await writer.FlushAsync();
    }
}

/// <summary>Thrown anywhere below an endpoint to end the request with a Dapr error body.</summary>
internal sealed class DaprErrorException(DaprError error) : Exception(error.Message)
{
    public DaprError Error { get; } = error;
}
