using System.Text.Json;
using System.Text.Json.Serialization;
using Dapr.Client;

namespace Dapr;

/// <summary>
/// The JSON shapes of daprd's HTTP API. They are written with their own options, never the application's, so that a
/// client configured with, say, PascalCase still sends <c>"key"</c> and <c>"etag"</c>; only state values and event
/// payloads (carried here as <see cref="JsonElement"/>) use the application's options.
/// </summary>
internal static class DaprWire
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string? ToWire(this ConsistencyMode? mode) => mode switch
    {
        ConsistencyMode.Eventual => "eventual",
        ConsistencyMode.Strong => "strong",
        _ => null,
    };

    public static string? ToWire(this ConcurrencyMode? mode) => mode switch
    {
        ConcurrencyMode.FirstWrite => "first-write",
        ConcurrencyMode.LastWrite => "last-write",
        _ => null,
    };

    public static StateOptionsBody? ToWire(this StateOptions? options) =>
        options is null ? null : new StateOptionsBody(options.Concurrency.ToWire(), options.Consistency.ToWire());
}

internal sealed record StateOptionsBody(string? Concurrency, string? Consistency);

internal sealed record StateItemBody(
    string Key,
    JsonElement? Value,
    string? Etag,
    IReadOnlyDictionary<string, string>? Metadata,
    StateOptionsBody? Options);

internal sealed record TransactionOperationBody(string Operation, StateItemBody Request);

internal sealed record TransactionBody(IReadOnlyList<TransactionOperationBody> Operations, IReadOnlyDictionary<string, string>? Metadata);

internal sealed record BulkGetBody(IReadOnlyList<string> Keys, int? Parallelism);

internal sealed record BulkGetItemBody(string Key, JsonElement? Data, string? Etag, string? Error);

internal sealed record BulkPublishEntryBody(string EntryId, JsonElement Event, string ContentType, IReadOnlyDictionary<string, string>? Metadata);

internal sealed record BulkPublishFailedEntryBody(string EntryId, string? Error);

internal sealed record BulkPublishErrorBody(IReadOnlyList<BulkPublishFailedEntryBody>? FailedEntries, string? ErrorCode);
