using CloudScale.Booking.Extensions;
using CloudScale.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudScale.Booking.Tests;

/// <summary>
/// The Booking service composed exactly as its Program.cs does, on a free loopback port, against real Postgres and
/// Redis. Several can run at once, as replicas do. Its client presents the app API token, as the sidecar does when the
/// Order saga invokes the reservation API.
/// </summary>
internal static class BookingService
{
    public const string AppToken = "test-app-token";

    public static async Task<InProcessApp> StartAsync(
        string database, string redis, IReadOnlyDictionary<string, string?>? settings = null, string environment = "Production", ILoggerProvider? logs = null)
    {
        var service = await InProcessApp.StartAsync(
            new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["ConnectionStrings:bookingdb"] = database,
                ["ConnectionStrings:cache"] = redis,
                ["APP_API_TOKEN"] = AppToken,
            },
            builder =>
            {
                if (logs is not null)
                {
                    builder.Logging.AddProvider(logs);
                }

                builder.AddServiceDefaults();
                builder.AddApplicationServices();
            },
            app =>
            {
                app.MapDefaultEndpoints();
                app.MapBookingApi();
            },
            environment,
            settings);
        service.Client.DefaultRequestHeaders.Add("dapr-api-token", AppToken);
        return service;
    }
}
