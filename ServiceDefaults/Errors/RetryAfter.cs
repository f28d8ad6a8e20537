using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace CloudScale.ServiceDefaults.Errors;

/// <summary>The <c>Retry-After</c> header of a 429 or 503, in whole seconds (RFC 9110 delay-seconds), at least one.</summary>
public static class RetryAfter
{
    /// <summary>Sets the header on <paramref name="response"/> and gives its seconds, for the problem's detail to name.</summary>
    public static int Set(HttpResponse response, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(response);
        var seconds = Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds));
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return seconds;
    }
}
