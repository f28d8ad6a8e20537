using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CloudScale.ServiceDefaults.Resilience;

public static class HttpClientResilienceExtensions
{
    /// <summary>Adds the standard pipeline (see <see cref="HttpStandardResilienceOptions"/>) to this client.</summary>
    public static IHttpClientBuilder AddStandardResilienceHandler(this IHttpClientBuilder builder)
    {
        builder.Services.AddOptions<HttpStandardResilienceOptions>();
        builder.Services.TryAddSingleton<HttpResiliencePipelines>();
        var clientName = builder.Name;
        return builder.AddHttpMessageHandler(services =>
            new StandardResilienceHandler(services.GetRequiredService<HttpResiliencePipelines>(), clientName));
    }

    /// <summary>Overrides the standard pipeline's options for this client only (e.g. a shorter timeout for a payment call).</summary>
    public static IHttpClientBuilder ConfigureStandardResilience(this IHttpClientBuilder builder, Action<HttpStandardResilienceOptions> configure)
    {
        builder.Services.Configure(builder.Name, configure);
        return builder;
    }
}
