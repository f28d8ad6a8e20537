using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CloudScale.Booking;

/// <summary>The service's own spans and metrics; ServiceDefaults exports every <c>CloudScale.*</c> source and meter.</summary>
internal static class BookingTelemetry
{
    public const string Name = "CloudScale.Booking";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Hold attempts by outcome (<c>Created</c>, <c>Repeated</c>, <c>RoomUnavailable</c>, …).</summary>
    public static readonly Counter<long> Holds = Meter.CreateCounter<long>(
        "booking.holds", unit: "{hold}", description: "Hold attempts by outcome.");

    public static readonly Counter<long> ExpiredHolds = Meter.CreateCounter<long>(
        "booking.holds.expired", unit: "{hold}", description: "Lapsed holds marked expired by the sweeper.");
}
