using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CloudScale.Booking;

/// <summary>The service's own spans and metrics; ServiceDefaults exports every <c>CloudScale.*</c> source and meter.</summary>
internal static class BookingTelemetry
{
    public const string Name = "CloudScale.Booking";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Room lookups by where they were answered: <c>hit</c> (Redis), <c>miss</c> or <c>bypass</c> (Redis unavailable).</summary>
    public static readonly Counter<long> RoomCacheLookups = Meter.CreateCounter<long>(
        "booking.room_cache.lookups", unit: "{lookup}", description: "Room lookups by cache result.");

    /// <summary>Hold attempts by outcome (<c>Created</c>, <c>Repeated</c>, <c>RoomUnavailable</c>, …).</summary>
    public static readonly Counter<long> Holds = Meter.CreateCounter<long>(
        "booking.holds", unit: "{hold}", description: "Hold attempts by outcome.");

    public static readonly Counter<long> ExpiredHolds = Meter.CreateCounter<long>(
        "booking.holds.expired", unit: "{hold}", description: "Lapsed holds marked expired by the sweeper.");
}
