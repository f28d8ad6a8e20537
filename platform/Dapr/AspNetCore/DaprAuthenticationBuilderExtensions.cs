using Dapr;
using Dapr.AspNetCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Authentication;

public static class DaprAuthenticationBuilderExtensions
{
    /// <summary>
    /// Adds the <c>Dapr</c> scheme, which authenticates the sidecar by its <c>dapr-api-token</c> header. The token defaults to
    /// <c>APP_API_TOKEN</c> (configuration, then environment); <paramref name="configureOptions"/> may set another.
    /// </summary>
    public static AuthenticationBuilder AddDapr(this AuthenticationBuilder builder, Action<DaprAuthenticationOptions>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Registered before AddScheme's own configuration so that configureOptions runs later and wins.
        builder.Services.AddOptions<DaprAuthenticationOptions>(DaprAuthenticationOptions.DefaultScheme)
            .Configure<IServiceProvider>((options, services) => options.Token = DaprDefaults.GetAppApiToken(services.GetService<IConfiguration>()));
        return builder.AddScheme<DaprAuthenticationOptions, DaprAuthenticationHandler>(DaprAuthenticationOptions.DefaultScheme, configureOptions);
    }
}
