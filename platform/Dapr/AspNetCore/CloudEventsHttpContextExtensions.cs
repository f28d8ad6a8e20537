using System.Text.Json;
using Dapr;

namespace Microsoft.AspNetCore.Http;

public static class CloudEventsHttpContextExtensions
{
    /// <summary>The CloudEvent envelope of this request when <c>UseCloudEvents()</c> unwrapped it; <c>null</c> otherwise.</summary>
    public static JsonElement? GetCloudEvent(this HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        return httpContext.Features.Get<ICloudEventFeature>()?.Envelope;
    }
}
