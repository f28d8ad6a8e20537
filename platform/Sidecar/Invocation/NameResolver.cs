using System.Text.Json;

namespace CloudScale.Sidecar.Invocation;

/// <summary>
/// Resolves an app id to a sidecar's HTTP address: from the variables the AppHost gives every sidecar
/// (<c>CLOUDSCALE_DAPR_APPS__{appId}__{replica}</c>, one per replica, taken in turn as Container Apps spreads calls over
/// replicas), else from the JSON file named by <c>CLOUDSCALE_NAME_RESOLUTION_FILE</c>
/// (<c>{"apps":{"order":{"httpEndpoint":"http://127.0.0.1:5123"}}}</c>), re-read whenever it changes on disk.
/// </summary>
internal sealed class NameResolver(string? file, IReadOnlyDictionary<string, Uri[]> replicasByAppId)
{
    public const string VariablePrefix = "CLOUDSCALE_DAPR_APPS__";

    private readonly Lock _lock = new();
    private (DateTime WrittenAt, long Length, IReadOnlyDictionary<string, Uri> Apps) _snapshot =
        (DateTime.MinValue, -1, new Dictionary<string, Uri>(StringComparer.Ordinal));
    private int _turn;

    /// <summary>The <c>CLOUDSCALE_DAPR_APPS__{appId}__{replica}</c> variables, by app id in replica order.</summary>
    public static Dictionary<string, Uri[]> FromEnvironment(System.Collections.IDictionary variables) =>
        variables.Keys.OfType<string>()
            .Where(name => name.StartsWith(VariablePrefix, StringComparison.Ordinal))
            .Select(name => (Parts: name[VariablePrefix.Length..].Split("__"), Value: variables[name] as string))
            .Where(entry => entry.Parts.Length == 2 && int.TryParse(entry.Parts[1], out _) && Uri.TryCreate(entry.Value, UriKind.Absolute, out _))
            .GroupBy(entry => entry.Parts[0], StringComparer.Ordinal)
            .ToDictionary(
                app => app.Key,
                app => app.OrderBy(entry => int.Parse(entry.Parts[1], System.Globalization.CultureInfo.InvariantCulture)).Select(entry => new Uri(entry.Value!)).ToArray(),
                StringComparer.Ordinal);

    public Uri? Resolve(string appId)
    {
        if (replicasByAppId.TryGetValue(appId, out var replicas))
        {
            return replicas[(int)((uint)Interlocked.Increment(ref _turn) % (uint)replicas.Length)];
        }

        if (file is null)
        {
            return null;
        }

        var info = new FileInfo(file);
        if (!info.Exists)
        {
            return null;
        }

        lock (_lock)
        {
            if (info.LastWriteTimeUtc != _snapshot.WrittenAt || info.Length != _snapshot.Length)
            {
                _snapshot = (info.LastWriteTimeUtc, info.Length, Read(file));
            }

            return _snapshot.Apps.GetValueOrDefault(appId);
        }
    }

    private static Dictionary<string, Uri> Read(string file)
    {
        var apps = new Dictionary<string, Uri>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            if (document.RootElement.TryGetProperty("apps", out var appsElement) && appsElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var app in appsElement.EnumerateObject())
                {
                    if (app.Value.ValueKind == JsonValueKind.Object &&
                        app.Value.TryGetProperty("httpEndpoint", out var endpoint) &&
                        Uri.TryCreate(endpoint.GetString(), UriKind.Absolute, out var uri))
                    {
                        apps[app.Name] = uri;
                    }
                }
            }
        }
        catch (Exception exception) when (exception is JsonException or IOException)
        {
            // A file caught half-written resolves nothing until its next write completes.
            return apps;
        }

        return apps;
    }
}
