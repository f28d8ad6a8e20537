using CloudScale.ServiceDefaults.Health;

namespace CloudScale.Notification.Extensions;

internal static class ApplicationServiceExtensions
{
    /// <summary>Everything Notification needs beyond ServiceDefaults; each dependency also joins the /health readiness report.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("notificationdb");
        builder.AddRedisClient("cache");
        builder.Services.AddDaprClient();
        builder.Services.AddHealthChecks().AddDaprSidecar();
    }
}
