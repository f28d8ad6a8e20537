using Dapr.AspNetCore;

namespace Microsoft.AspNetCore.Authorization;

public static class DaprAuthorizationOptionsExtensions
{
    /// <summary>Adds the policy <paramref name="name"/> (<c>.RequireAuthorization("Dapr")</c>): the caller must be the sidecar, per the <c>Dapr</c> scheme.</summary>
    public static void AddDapr(this AuthorizationOptions options, string name = DaprAuthenticationOptions.DefaultScheme)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AddPolicy(name, policy => policy.AddAuthenticationSchemes(DaprAuthenticationOptions.DefaultScheme).RequireAuthenticatedUser());
    }
}
