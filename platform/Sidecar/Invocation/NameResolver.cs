using System.Text.Json;

namespace CloudScale.Sidecar.Invocation;

/// <summary>
/// Resolves an app id to its sidecar's HTTP address from the JSON file named by <c>CLOUDSCALE_NAME_RESOLUTION_FILE</c>
/// (<c>{"apps":{"order":{"httpEndpoint":"http://127.0.0.1:5123"}}}</c>), re-read whenever it changes on disk.
/// </summary>
internal sealed class NameResolver(string? file)
{
    private readonly Lock _lock = new();
    private (DateTime WrittenAt, long Length, IReadOnlyDictionary<string, Uri> Apps) _snapshot =
        (DateTime.MinValue, -1, new Dictionary<string, Uri>(StringComparer.Ordinal));

    public Uri? Resolve(string appId)
    {
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
