using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CloudScale.Order;

/// <summary>The service's own spans and metrics; ServiceDefaults exports every <c>CloudScale.*</c> source and meter.</summary>
internal static class OrderTelemetry
{
    public const string Name = "CloudScale.Order";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>
    /// POST /orders by outcome: <c>Created</c>, <c>Replayed</c> (same key, same body), <c>KeyReused</c> (same key, other
    /// body) or <c>RateLimited</c> (the customer's placement limit reached).
    /// </summary>
    public static readonly Counter<long> PlaceOrders = Meter.CreateCounter<long>(
        "order.place", unit: "{request}", description: "Place-order requests by outcome.");

    /// <summary>Outbox rows handed to the sidecar, by outcome: <c>published</c> or <c>failed</c>.</summary>
    public static readonly Counter<long> OutboxPublishes = Meter.CreateCounter<long>(
        "order.outbox.publishes", unit: "{event}", description: "Outbox publish attempts by outcome.");
}
