using CloudScale.Notification.Extensions;
using CloudScale.Testing;
using Microsoft.Extensions.Hosting;

namespace CloudScale.Notification.Tests;

/// <summary>
/// The Notification service composed exactly as its Program.cs does, on a free loopback port, against real Postgres and
/// Redis, expecting the app API token a sidecar would present. Several can run at once, as replicas do.
/// </summary>
internal static class NotificationService
{
    public const string AppToken = "test-app-token";

    /// <summary>The service with <paramref name="settings"/> applied over the test defaults.</summary>
    public static Task<InProcessApp> StartAsync(
        string database, string redis, string environment = "Production", IReadOnlyDictionary<string, string?>? settings = null) =>
        InProcessApp.StartAsync(
            new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["ConnectionStrings:notificationdb"] = database,
                ["ConnectionStrings:cache"] = redis,
                ["APP_API_TOKEN"] = AppToken,
                // Short, so that a test sees a heartbeat without waiting the production 15 s.
                ["Notification:StreamHeartbeatInterval"] = "00:00:00.300",
            },
            builder =>
            {
                builder.AddServiceDefaults();
                builder.AddApplicationServices();
            },
            app =>
            {
                app.MapDefaultEndpoints();
                app.MapNotificationApi();
            },
            environment,
            settings);
}
