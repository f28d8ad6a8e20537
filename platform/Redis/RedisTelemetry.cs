using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CloudScale.Redis;

/// <summary>
/// The <c>CloudScale.Redis</c> meter and activity source. Spans follow the OpenTelemetry database conventions and, like
/// the measurements, cost nothing unless someone listens.
/// </summary>
public static class RedisTelemetry
{
    public const string Name = "CloudScale.Redis";

    internal static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Commands = Meter.CreateCounter<long>(
        "redis.client.commands", "{command}", "Commands completed, by operation and outcome.");

    internal static readonly Histogram<double> Duration = Meter.CreateHistogram(
        "db.client.operation.duration", "s", "Time from sending a command to its reply.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5] });

    internal static readonly UpDownCounter<long> InFlight = Meter.CreateUpDownCounter<long>(
        "redis.client.commands.in_flight", "{command}", "Commands sent and awaiting their reply.");

    internal static readonly Counter<long> Reconnects = Meter.CreateCounter<long>(
        "redis.client.reconnects", "{reconnect}", "Connections re-established after they dropped.");

    internal static bool IsObserved => Source.HasListeners() || Duration.Enabled || Commands.Enabled || InFlight.Enabled;
}
