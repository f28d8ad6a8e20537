using Dapr.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

public static class DaprServiceCollectionExtensions
{
    /// <summary>The <see cref="IHttpClientFactory"/> client the registered <see cref="DaprClient"/> calls the sidecar with.</summary>
    public const string HttpClientName = "dapr";

    /// <summary>
    /// Registers a singleton <see cref="DaprClient"/> configured from <see cref="IConfiguration"/> (<c>DAPR_HTTP_ENDPOINT</c>,
    /// <c>DAPR_HTTP_PORT</c>, <c>DAPR_API_TOKEN</c>), calling the sidecar through the named HttpClient <see cref="HttpClientName"/>;
    /// the returned builder configures that client (handlers, resilience). A second call changes nothing.
    /// </summary>
    public static IHttpClientBuilder AddDaprClient(this IServiceCollection services, Action<DaprClientBuilder>? configure = null) =>
        services.AddDaprClient((_, builder) => configure?.Invoke(builder));

    /// <inheritdoc cref="AddDaprClient(IServiceCollection, Action{DaprClientBuilder})"/>
    public static IHttpClientBuilder AddDaprClient(this IServiceCollection services, Action<IServiceProvider, DaprClientBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddSingleton(provider =>
        {
            var builder = new DaprClientBuilder(provider.GetService<IConfiguration>());
            var factory = provider.GetRequiredService<IHttpClientFactory>();
            builder.UseHttpClientFactory(() => factory.CreateClient(HttpClientName));
            configure(provider, builder);
            return builder.Build();
        });
        return services.AddHttpClient(HttpClientName);
    }
}
