using CloudScale.Booking.Reservations;
using CloudScale.Booking.Rooms;

namespace CloudScale.Booking.Extensions;

internal static class BookingApiExtensions
{
    /// <summary>Booking's HTTP API (see README.md) and its OpenAPI document at /openapi/v1.json.</summary>
    public static WebApplication MapBookingApi(this WebApplication app)
    {
        app.MapOpenApi();
        app.MapRoomsApi();
        app.MapReservationsApi();
        return app;
    }
}
