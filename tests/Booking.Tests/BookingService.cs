using CloudScale.Booking.Extensions;
using CloudScale.Testing;
using Microsoft.Extensions.Hosting;

namespace CloudScale.Booking.Tests;

/// <summary>
/// The Booking service composed exactly as its Program.cs does, on a free loopback port, against real Postgres and
/// Redis. Several can run at once, as replicas do.
/// </summary>
internal static class BookingService
{
    public static Task<InProcessApp> StartAsync(
        string database, string redis, IReadOnlyDictionary<string, string?>? settings = null, string environment = "Production") =>
        InProcessApp.StartAsync(
            new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>(StringComparer.Ordinal), StringComparer.Ordinal)
            {
                ["ConnectionStrings:bookingdb"] = database,
                ["ConnectionStrings:cache"] = redis,
            },
            builder =>
            {
                builder.AddServiceDefaults();
                builder.AddApplicationServices();
            },
            app =>
            {
                app.MapDefaultEndpoints();
                app.MapBookingApi();
            },
            environment);
}
