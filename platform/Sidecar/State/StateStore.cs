namespace CloudScale.Sidecar.State;

internal sealed record StateOptions(string? Concurrency, string? Consistency)
{
    public bool FirstWrite => Concurrency == "first-write";
}

internal sealed record StateItem(byte[] Data, string? ETag, IReadOnlyDictionary<string, string> Metadata);

internal abstract record StateOperation(string Key, string? ETag, StateOptions Options, IReadOnlyDictionary<string, string> Metadata);

internal sealed record SetRequest(string Key, StateValue Value, string? ETag, StateOptions Options, IReadOnlyDictionary<string, string> Metadata)
    : StateOperation(Key, ETag, Options, Metadata);

/// <summary>
/// A value to save. The HTTP API hands the store the decoded JSON value, which each store marshals its own way, as
/// daprd's stores marshal a decoded value; the gRPC API hands it bytes (<see cref="Bytes"/>), which contrib keeps as given.
/// </summary>
internal readonly record struct StateValue(System.Text.Json.JsonElement Json, byte[]? Bytes)
{
    public static StateValue FromJson(System.Text.Json.JsonElement json) => new(json, null);

    public static StateValue FromBytes(byte[] bytes) => new(default, bytes);
}

internal sealed record DeleteRequest(string Key, string? ETag, StateOptions Options, IReadOnlyDictionary<string, string> Metadata)
    : StateOperation(Key, ETag, Options, Metadata);

internal enum ETagErrorKind
{
    Mismatch,
    Invalid,
}

/// <summary>contrib's <c>state.ETagError</c>: the API maps a mismatch to 409 and an invalid etag to 400.</summary>
internal sealed class ETagException(ETagErrorKind kind, string detail)
    : Exception(kind == ETagErrorKind.Mismatch ? $"possible etag mismatch. error from state store: {detail}" : $"invalid etag value: {detail}")
{
    public ETagErrorKind Kind { get; } = kind;
}

/// <summary>A store error that is the caller's fault, reported as 400 rather than 500.</summary>
internal sealed class StateRequestException(string message) : Exception(message);

internal interface IStateStore : IAsyncDisposable
{
    string Name { get; }

    string Type { get; }

    string Version { get; }

    IReadOnlyList<string> Capabilities { get; }

    Task InitAsync(CancellationToken cancellationToken);

    Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Saves the value; returns the etag the store gave it.</summary>
    Task<string> SetAsync(SetRequest request, CancellationToken cancellationToken);

    Task DeleteAsync(DeleteRequest request, CancellationToken cancellationToken);

    /// <summary>Runs the operations as one transaction (all or nothing where the store can).</summary>
    Task MultiAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken);

    /// <summary>
    /// A page of the keys that start with <paramref name="prefix"/> (contrib's <c>KeysLike</c>, which daprd lists
    /// workflow instances with), in the store's order; all of them without a page size. The continuation token is the
    /// store's own: an invalid one is a <see cref="StateRequestException"/>.
    /// </summary>
    Task<KeyPage> ListKeysAsync(string prefix, string? continuationToken, uint? pageSize, CancellationToken cancellationToken);
}

/// <summary>A page of keys, and the token that reads the next page (null after the last).</summary>
internal sealed record KeyPage(IReadOnlyList<string> Keys, string? ContinuationToken);

/// <summary>A store that reads many keys in one round trip; for others the bulk get reads them one by one, in parallel.</summary>
internal interface IBulkStateStore
{
    /// <summary>One item per key, in the order of <paramref name="keys"/>; null where there is none.</summary>
    Task<IReadOnlyList<StateItem?>> BulkGetAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);
}

internal static class StateMetadata
{
    /// <summary>Dapr's <c>ttlInSeconds</c>: null when absent; -1 (or any value ≤ 0) means "never expires".</summary>
    public static int? TtlInSeconds(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue("ttlInSeconds", out var text)
            ? int.TryParse(text, out var ttl) ? ttl : throw new StateRequestException($"incorrect value for metadata 'ttlInSeconds': '{text}' is not an integer")
            : null;

    public static void ValidateOptions(StateOptions options)
    {
        if (options.Concurrency is not (null or "" or "first-write" or "last-write"))
        {
            throw new StateRequestException($"unrecognized concurrency model '{options.Concurrency}'");
        }

        if (options.Consistency is not (null or "" or "strong" or "eventual"))
        {
            throw new StateRequestException($"unrecognized consistency model '{options.Consistency}'");
        }
    }
}
