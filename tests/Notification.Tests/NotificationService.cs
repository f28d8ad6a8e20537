using CloudScale.Notification.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudScale.Notification.Tests;

/// <summary>
/// The Notification service composed exactly as its Program.cs does, on a free loopback port, against real Postgres and
/// Redis, expecting the app API token a sidecar would present. Several can run at once, as replicas do.
/// </summary>
internal sealed class NotificationService : IAsyncDisposable
{
    public const string AppToken = "test-app-token";

    private NotificationService(WebApplication app)
    {
        App = app;
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public static async Task<NotificationService> StartAsync(string database, string redis)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Production",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ConnectionStrings:notificationdb"] = database,
            ["ConnectionStrings:cache"] = redis,
            ["APP_API_TOKEN"] = AppToken,
            // Short, so that a test sees a heartbeat without waiting the production 15 s.
            ["Notification:StreamHeartbeatInterval"] = "00:00:00.300",
        });
        builder.AddServiceDefaults();
        builder.AddApplicationServices();

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapNotificationApi();
        try
        {
            await app.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new NotificationService(app);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
    }
}
