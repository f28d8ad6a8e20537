using System.Net;
using System.Text.Json;

namespace Dapr;

/// <summary>A Dapr operation failed; the inner exception says why (for example, the sidecar could not be reached).</summary>
public class DaprException : Exception
{
    public DaprException()
    {
    }

    public DaprException(string message) : base(message)
    {
    }

    public DaprException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

/// <summary>
/// The sidecar answered with an error: Dapr's <see cref="ErrorCode"/> (<c>ERR_STATE_SAVE</c>, <c>ERR_PUBSUB_NOT_FOUND</c>, …),
/// its message and the HTTP status. A body that is not Dapr's error JSON (daprd's plain-text <c>invalid api token</c>)
/// gives error code <c>UNKNOWN</c> and the body as the message.
/// </summary>
public class DaprApiException : DaprException
{
    public const string UnknownErrorCode = "UNKNOWN";

    public DaprApiException()
        : this("The Dapr sidecar reported an error.", UnknownErrorCode, HttpStatusCode.InternalServerError)
    {
    }

    public DaprApiException(string message)
        : this(message, UnknownErrorCode, HttpStatusCode.InternalServerError)
    {
    }

    public DaprApiException(string message, Exception? innerException)
        : base(message, innerException)
    {
        ErrorCode = UnknownErrorCode;
        StatusCode = HttpStatusCode.InternalServerError;
    }

    public DaprApiException(string message, string errorCode, HttpStatusCode statusCode)
        : base(message)
    {
        ErrorCode = errorCode;
        StatusCode = statusCode;
    }

    public string ErrorCode { get; }

    public HttpStatusCode StatusCode { get; }

    internal static async Task<DaprApiException> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            if (JsonSerializer.Deserialize<ErrorBody>(body, DaprWire.Options) is { ErrorCode: { } code } error)
            {
                return new DaprApiException(error.Message ?? code, code, response.StatusCode);
            }
        }
        catch (JsonException)
        {
            // Not Dapr's error JSON: the body itself is the best message there is.
        }

        var message = string.IsNullOrWhiteSpace(body) ? $"The Dapr sidecar answered {(int)response.StatusCode} {response.ReasonPhrase}." : body.Trim();
        return new DaprApiException(message, UnknownErrorCode, response.StatusCode);
    }

    private sealed record ErrorBody(string? ErrorCode, string? Message);
}
