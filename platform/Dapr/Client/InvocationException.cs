namespace Dapr.Client;

/// <summary>
/// A service invocation failed: the sidecar could not be reached, the target answered a non-success status (see
/// <see cref="Response"/>; when the sidecar itself failed, for example for an unknown app id, its body is Dapr's
/// <c>ERR_DIRECT_INVOKE</c> error), or the response body could not be read as the expected type.
/// </summary>
public class InvocationException : DaprException
{
    public InvocationException()
    {
        AppId = MethodName = "unknown";
    }

    public InvocationException(string message) : base(message)
    {
        AppId = MethodName = "unknown";
    }

    public InvocationException(string message, Exception? innerException) : base(message, innerException)
    {
        AppId = MethodName = "unknown";
    }

    public InvocationException(string? appId, string? methodName, Exception? innerException, HttpResponseMessage? response)
        : base($"An exception occurred while invoking method: '{methodName}' on app-id: '{appId}'", innerException)
    {
        AppId = appId ?? "unknown";
        MethodName = methodName ?? "unknown";
        Response = response;
    }

    public string AppId { get; }

    public string MethodName { get; }

    /// <summary>The failed response; <c>null</c> when none was received.</summary>
    public HttpResponseMessage? Response { get; }
}
