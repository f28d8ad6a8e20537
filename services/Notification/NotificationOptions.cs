namespace CloudScale.Notification;

/// <summary>The <c>Notification</c> configuration section (environment variables <c>Notification__UnreadCountCacheDuration</c>, …).</summary>
internal sealed class NotificationOptions
{
    public const string SectionName = "Notification";

    /// <summary>
    /// How long a rebuilt unread count lives in Redis. Postgres is the truth; the duration bounds how long a count can
    /// stay off after an increment was lost (Redis unreachable, or a rebuild racing a new notification).
    /// </summary>
    public TimeSpan UnreadCountCacheDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a notification stream may stay silent before it sends a comment, so that proxies keep it open.</summary>
    public TimeSpan StreamHeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);
}
