using Dapr;

namespace Microsoft.AspNetCore.Builder;

public static class DaprApplicationBuilderExtensions
{
    /// <summary>
    /// Unwraps CloudEvents so that pub/sub handlers bind the event's data (see <c>CloudEventsMiddleware</c>); the envelope stays
    /// available through <c>HttpContext.GetCloudEvent()</c>. Add it before the endpoints, as in the Dapr SDK.
    /// </summary>
    public static IApplicationBuilder UseCloudEvents(this IApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseMiddleware<CloudEventsMiddleware>();
    }
}
