namespace CloudScale.Booking;

/// <summary>The <c>Booking</c> configuration section (environment variables <c>Booking__HoldDuration</c>, …).</summary>
internal sealed class BookingOptions
{
    public const string SectionName = "Booking";

    /// <summary>How long a hold keeps a room for a customer; unless confirmed by then, it lapses and the room is free again.</summary>
    public TimeSpan HoldDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often lapsed holds are marked expired. A hold stops blocking its room at its deadline whether or not it has
    /// been swept; the sweep keeps the stored status truthful and the exclusion index small.
    /// </summary>
    public TimeSpan ExpirySweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a room stays cached (memory and Redis): the bound on staleness when an invalidation is lost to a Redis
    /// outage. Past half of it a read still answers the cached room and refreshes it in the background.
    /// </summary>
    public TimeSpan RoomCacheDuration { get; set; } = TimeSpan.FromMinutes(5);
}
