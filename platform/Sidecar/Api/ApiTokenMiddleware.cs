using System.Security.Cryptography;
using System.Text;

namespace CloudScale.Sidecar.Api;

/// <summary>
/// With <c>DAPR_API_TOKEN</c> set, every request needs header <c>dapr-api-token</c>; the reply otherwise is daprd's
/// plain-text 401 <c>invalid api token</c>. Only GET healthz and healthz/outbound are exempt.
/// </summary>
internal sealed class ApiTokenMiddleware(RequestDelegate next, string token)
{
    private readonly byte[] _token = Encoding.UTF8.GetBytes(token);

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var exempt = HttpMethods.IsGet(request.Method) &&
            (request.Path.Equals("/v1.0/healthz", StringComparison.Ordinal) || request.Path.Equals("/v1.0/healthz/outbound", StringComparison.Ordinal));
        if (!exempt)
        {
            var presented = request.Headers["dapr-api-token"].ToString();
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _token))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("invalid api token\n");
                return;
            }
        }

        request.Headers.Remove("dapr-api-token");
        await next(context);
    }
}
