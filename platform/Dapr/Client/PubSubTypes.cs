namespace Dapr.Client;

/// <summary>One event of a bulk publish, as the sidecar received it.</summary>
public sealed record BulkPublishEntry<TValue>(string EntryId, TValue EventData, string ContentType, IReadOnlyDictionary<string, string> Metadata);

/// <summary>An event the pub/sub component did not accept, with the component's error.</summary>
public sealed record BulkPublishResponseFailedEntry<TValue>(BulkPublishEntry<TValue> Entry, string ErrorMessage);

/// <summary>The outcome of a bulk publish: empty <see cref="FailedEntries"/> when every event was published.</summary>
public sealed record BulkPublishResponse<TValue>(IReadOnlyList<BulkPublishResponseFailedEntry<TValue>> FailedEntries);
