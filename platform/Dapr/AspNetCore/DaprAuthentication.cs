using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dapr.AspNetCore;

/// <summary>The app API token the sidecar must present (<c>dapr-api-token</c>); by default <c>APP_API_TOKEN</c> from configuration or the environment.</summary>
public sealed class DaprAuthenticationOptions : AuthenticationSchemeOptions
{
    public const string DefaultScheme = "Dapr";

    public string? Token { get; set; }
}

/// <summary>
/// Authenticates the sidecar by the <c>dapr-api-token</c> header, compared in constant time with <see cref="DaprAuthenticationOptions.Token"/>.
/// Unlike the Dapr SDK, with no token configured every request is the sidecar: daprd itself then sends none, and the same
/// endpoints serve a local run without tokens and a deployment with them. A refused request gets a 401 problem-details body.
/// </summary>
internal sealed class DaprAuthenticationHandler(IOptionsMonitor<DaprAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<DaprAuthenticationOptions>(options, logger, encoder)
{
    private const string ApiTokenHeader = "dapr-api-token";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (string.IsNullOrEmpty(Options.Token))
        {
            return Task.FromResult(Authenticated());
        }

        if (!Request.Headers.TryGetValue(ApiTokenHeader, out var presented))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        return Task.FromResult(CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented.ToString()), Encoding.UTF8.GetBytes(Options.Token))
            ? Authenticated()
            : AuthenticateResult.Fail($"The {ApiTokenHeader} header does not match the app API token."));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Results.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Unauthorized",
            detail: $"Only the Dapr sidecar may call this endpoint: the {ApiTokenHeader} header is missing or wrong.").ExecuteAsync(Context);

    private AuthenticateResult Authenticated() =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "Dapr")], Scheme.Name)), Scheme.Name));
}
