using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CloudScale.Notification;

/// <summary>The service's own spans and metrics; ServiceDefaults exports every <c>CloudScale.*</c> source and meter.</summary>
internal static class NotificationTelemetry
{
    public const string Name = "CloudScale.Notification";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Integration events received, by <c>topic</c> and <c>outcome</c>: <c>created</c>, <c>duplicate</c> or <c>dropped</c>.</summary>
    public static readonly Counter<long> Events = Meter.CreateCounter<long>(
        "notification.events", unit: "{event}", description: "Integration events received by outcome.");

    /// <summary>Redis operations skipped because Redis did not answer, by <c>operation</c>; Postgres answered instead or the count heals later.</summary>
    public static readonly Counter<long> RedisBypasses = Meter.CreateCounter<long>(
        "notification.redis.bypasses", unit: "{operation}", description: "Redis operations skipped because Redis did not answer.");
}
