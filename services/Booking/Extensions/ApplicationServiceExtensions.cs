using System.Text.Json;
using System.Text.Json.Serialization;
using CloudScale.Booking.Reservations;
using CloudScale.Booking.Rooms;
using CloudScale.ServiceDefaults.Hosting;
using StackExchange.Redis;

namespace CloudScale.Booking.Extensions;

internal static class ApplicationServiceExtensions
{
    /// <summary>Everything Booking needs beyond ServiceDefaults; each dependency also joins the /health readiness report.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("bookingdb");
        builder.AddRedisClient("cache");
        builder.Services.ResolveAtStart<IConnectionMultiplexer>();
        builder.AddDaprSidecar();

        builder.Services.AddOptions<BookingOptions>()
            .BindConfiguration(BookingOptions.SectionName)
            .Validate(options => options.HoldDuration > TimeSpan.Zero, "Booking:HoldDuration must be positive.")
            .Validate(options => options.ExpirySweepInterval > TimeSpan.Zero, "Booking:ExpirySweepInterval must be positive.")
            .Validate(options => options.RoomCacheDuration > TimeSpan.Zero, "Booking:RoomCacheDuration must be positive.")
            .ValidateOnStart();

        // Hosted services start in registration order and before Kestrel listens: the schema is in place before anything uses it.
        builder.Services.AddSchemaMigrations(typeof(ApplicationServiceExtensions).Assembly);
        builder.Services.AddHostedService<ExpiredHoldSweeper>();

        builder.Services.AddSingleton<RoomStore>();
        builder.AddRoomCache();
        builder.Services.AddSingleton<RoomCache>();
        builder.Services.AddSingleton<ReservationStore>();

        // Statuses travel as "held", "confirmed", "free", "booked": what the Order saga and a reader expect.
        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
        builder.Services.AddOpenApi();
    }
}
