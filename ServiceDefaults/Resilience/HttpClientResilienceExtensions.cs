using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace CloudScale.ServiceDefaults.Resilience;

public static class HttpClientResilienceExtensions
{
    /// <summary>Adds the standard pipeline (see <see cref="HttpStandardResilienceOptions"/>) to this client.</summary>
    public static IHttpClientBuilder AddStandardResilienceHandler(this IHttpClientBuilder builder)
    {
        builder.Services.AddOptions<HttpStandardResilienceOptions>();
        builder.Services.TryAddSingleton<HttpResiliencePipelines>();
        // Registered through the handler builder rather than AddHttpMessageHandler: under ConfigureHttpClientDefaults
        // builder.Name is null, and only the handler builder knows which client is being built.
        builder.Services.Configure<HttpClientFactoryOptions>(builder.Name, options =>
            options.HttpMessageHandlerBuilderActions.Add(handlers => handlers.AdditionalHandlers.Add(new StandardResilienceHandler(
                handlers.Services.GetRequiredService<HttpResiliencePipelines>(), handlers.Name ?? Options.DefaultName))));
        return builder;
    }

    /// <summary>Overrides the standard pipeline's options for this client only (e.g. a shorter timeout for a payment call).</summary>
    public static IHttpClientBuilder ConfigureStandardResilience(this IHttpClientBuilder builder, Action<HttpStandardResilienceOptions> configure)
    {
        builder.Services.Configure(builder.Name, configure);
        return builder;
    }
}
