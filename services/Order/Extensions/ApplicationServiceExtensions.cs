using CloudScale.ServiceDefaults.Health;

namespace CloudScale.Order.Extensions;

internal static class ApplicationServiceExtensions
{
    /// <summary>Everything Order needs beyond ServiceDefaults; each dependency also joins the /health readiness report.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("orderdb");
        builder.AddRedisClient("cache");
        builder.Services.AddDaprClient();
        builder.Services.AddHealthChecks().AddDaprSidecar();
    }
}
