using CloudScale.ServiceDefaults.Health;

namespace CloudScale.Booking.Extensions;

internal static class ApplicationServiceExtensions
{
    /// <summary>Everything Booking needs beyond ServiceDefaults; each dependency also joins the /health readiness report.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("bookingdb");
        builder.AddRedisClient("cache");
    }
}
