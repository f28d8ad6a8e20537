namespace Dapr.Client;

/// <summary>How a read sees replicas: <c>eventual</c> or <c>strong</c> on the wire.</summary>
public enum ConsistencyMode
{
    Eventual,
    Strong,
}

/// <summary>How a write treats ETags: <c>first-write</c> (only if the ETag matches, or the key is new) or <c>last-write</c>.</summary>
public enum ConcurrencyMode
{
    FirstWrite,
    LastWrite,
}

/// <summary>Options of a state write or delete; unset members leave the store's default.</summary>
public sealed record StateOptions
{
    public ConsistencyMode? Consistency { get; init; }

    public ConcurrencyMode? Concurrency { get; init; }
}

/// <summary>One key of a bulk read: the stored JSON as text (empty when the key does not exist) and its ETag.</summary>
public sealed record BulkStateItem(string Key, string Value, string ETag);

/// <summary>One key of a typed bulk read: the value (default when the key does not exist) and its ETag.</summary>
public sealed record BulkStateItem<TValue>(string Key, TValue? Value, string ETag);

public enum StateOperationType
{
    Upsert,
    Delete,
}

/// <summary>
/// One operation of <see cref="DaprClient.ExecuteStateTransactionAsync"/>. As in the Dapr SDK the value is the
/// UTF-8 JSON of the state (<c>JsonSerializer.SerializeToUtf8Bytes(value, client.JsonSerializerOptions)</c>); it must be
/// valid JSON because the HTTP API carries it inside the request's JSON.
/// </summary>
public sealed record StateTransactionRequest(
    string Key,
    byte[]? Value,
    StateOperationType OperationType,
    string? ETag = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    StateOptions? Options = null);
