using CloudScale.Sidecar.Api;
using CloudScale.Sidecar.Configuration;

namespace CloudScale.Sidecar.State;

/// <summary>The loaded state stores by name, and the Dapr key scheme (<c>keyPrefix</c>) of each.</summary>
internal sealed class StateStores(IReadOnlyList<(IStateStore Store, string? KeyPrefix)> stores) : IAsyncDisposable
{
    private readonly Dictionary<string, (IStateStore Store, string? KeyPrefix)> _byName =
        stores.ToDictionary(entry => entry.Store.Name, StringComparer.Ordinal);

    public IEnumerable<IStateStore> All => _byName.Values.Select(entry => entry.Store);

    public static string? KeyPrefixFor(ComponentDefinition component, string appId)
    {
        var mode = component.Get("keyPrefix") ?? "appid";
        var prefix = mode switch
        {
            "appid" => appId,
            "name" => component.Name,
            "namespace" => Environment.GetEnvironmentVariable("NAMESPACE") is { Length: > 0 } ns ? $"{ns}.{appId}" : appId,
            "none" => null,
            _ => mode,
        };
        if (prefix is not null && prefix.Contains("||", StringComparison.Ordinal))
        {
            throw component.Error("keyPrefix", $"'{prefix}' can't contain '||'");
        }

        return string.IsNullOrEmpty(prefix) ? null : prefix;
    }

    /// <summary>The store, or daprd's error for "none configured" (500) and "unknown name" (400).</summary>
    public (IStateStore Store, string? KeyPrefix) Find(string name)
    {
        if (_byName.Count == 0)
        {
            throw new DaprErrorException(new DaprError(StatusCodes.Status500InternalServerError, "ERR_STATE_STORE_NOT_CONFIGURED", $"state store {name} is not configured", "DAPR_STATE_NOT_CONFIGURED")
            {
                GrpcCode = Grpc.Core.StatusCode.FailedPrecondition,
            });
        }

        return _byName.TryGetValue(name, out var entry)
            ? entry
            : throw new DaprErrorException(new DaprError(StatusCodes.Status400BadRequest, "ERR_STATE_STORE_NOT_FOUND", $"state store {name} is not found", "DAPR_STATE_NOT_FOUND"));
    }

    public static string ToStoreKey(string? prefix, string key)
    {
        if (key.Contains("||", StringComparison.Ordinal))
        {
            throw new DaprErrorException(new DaprError(StatusCodes.Status400BadRequest, "ERR_MALFORMED_REQUEST", $"input key/keyPrefix '{key}' can't contain '||'", "DAPR_STATE_ILLEGAL_KEY"));
        }

        return prefix is null ? key : $"{prefix}||{key}";
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in All)
        {
            await store.DisposeAsync();
        }
    }
}
