using System.Text.Json;

namespace CloudScale.Sidecar.Api;

/// <summary>
/// An error as daprd writes it: <c>{"errorCode","message"}</c>, plus the google.rpc <c>ErrorInfo</c> detail
/// for the errors daprd raises through dapr/kit (reason set).
/// </summary>
internal sealed record DaprError(int Status, string ErrorCode, string Message, string? Reason = null)
{
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
            writer.WriteString("reason", Reason);
            writer.WriteEndObject();
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
