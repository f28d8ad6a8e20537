using CloudScale.Notification.IntegrationEvents;
using CloudScale.Notification.Notifications;
using CloudScale.ServiceDefaults.Hosting;
using StackExchange.Redis;

namespace CloudScale.Notification.Extensions;

internal static class ApplicationServiceExtensions
{
    /// <summary>Everything Notification needs beyond ServiceDefaults; each dependency also joins the /health readiness report.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("notificationdb");
        builder.AddRedisClient("cache");
        builder.Services.ResolveAtStart<IConnectionMultiplexer>();
        builder.AddDaprSidecar();

        builder.Services.AddOptions<NotificationOptions>()
            .BindConfiguration(NotificationOptions.SectionName)
            .Validate(options => options.UnreadCountCacheDuration > TimeSpan.Zero, "Notification:UnreadCountCacheDuration must be positive.")
            .Validate(options => options.StreamHeartbeatInterval > TimeSpan.Zero, "Notification:StreamHeartbeatInterval must be positive.")
            .ValidateOnStart();

        // Hosted services start before Kestrel listens: the schema is in place before the first request.
        builder.Services.AddSchemaMigrations(typeof(ApplicationServiceExtensions).Assembly);

        builder.Services.AddSingleton<NotificationStore>();
        builder.Services.AddSingleton<RedisBestEffort>();
        builder.Services.AddSingleton<UnreadCounter>();
        builder.Services.AddSingleton<NotificationBroadcast>();
        builder.Services.AddSingleton<NotificationInbox>();
        builder.Services.AddSingleton<IntegrationEventReceiver>();
        builder.Services.AddOpenApi();
    }
}
