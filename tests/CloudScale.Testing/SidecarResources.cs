using System.Text.Json;

namespace CloudScale.Testing;

/// <summary>
/// What a sidecar reads besides its command line: <c>--resources-path</c> folders of component YAML and name-resolution
/// files, written under the test servers' root (removed with it).
/// </summary>
public static class SidecarResources
{
    private static int _folders;

    /// <summary>A <c>--resources-path</c> folder holding <paramref name="files"/>.</summary>
    public static string Folder(params (string File, string Yaml)[] files)
    {
        var folder = TestServerRoot.Shared.CreateDirectory($"sidecar-resources-{Interlocked.Increment(ref _folders)}");
        foreach (var (file, yaml) in files)
        {
            File.WriteAllText(Path.Combine(folder, file), yaml);
        }

        return folder;
    }

    /// <summary>A <c>state.postgresql</c> v2 component, the layout the sidecar implements.</summary>
    public static string PostgresStateStore(string name, string connectionString) =>
        Component(name, "state.postgresql", ("connectionString", connectionString));

    /// <summary>A <c>state.redis</c> component on the Redis at <paramref name="redisHost"/> (<c>host:port</c>).</summary>
    public static string RedisStateStore(string name, string redisHost, params (string Name, string Value)[] metadata) =>
        Component(name, "state.redis", [("redisHost", redisHost), .. metadata]);

    /// <summary>A <c>pubsub.redis</c> component (Redis Streams) on the Redis at <paramref name="redisHost"/> (<c>host:port</c>).</summary>
    public static string RedisPubSub(string name, string redisHost, params (string Name, string Value)[] metadata) =>
        Component(name, "pubsub.redis", [("redisHost", redisHost), .. metadata]);

    /// <summary>A Component document; state.postgresql gets version v2, every other type v1.</summary>
    public static string Component(string name, string type, params (string Name, string Value)[] metadata) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: {name}
        spec:
          type: {type}
          version: {(type == "state.postgresql" ? "v2" : "v1")}
          metadata:
        {string.Concat(metadata.Select(item => $"  - name: {item.Name}\n    value: \"{Escape(item.Value)}\"\n"))}
        """;

    /// <summary>
    /// Writes the sidecar's name-resolution file (<c>CLOUDSCALE_NAME_RESOLUTION_FILE</c>): each app id to its sidecar's HTTP
    /// endpoint. Written whole and renamed into place, because the sidecar re-reads it whenever it changes.
    /// </summary>
    public static string NameResolutionFile(IReadOnlyDictionary<string, Uri> sidecarsByAppId)
    {
        var file = Path.Combine(TestServerRoot.Shared.Path, $"names-{Guid.NewGuid():N}.json");
        File.WriteAllText(file + ".tmp", NameResolutionJson(sidecarsByAppId));
        File.Move(file + ".tmp", file);
        return file;
    }

    /// <summary>The content of a name-resolution file: <c>{"apps":{"&lt;app id&gt;":{"httpEndpoint":"&lt;sidecar&gt;"}}}</c>.</summary>
    public static string NameResolutionJson(IReadOnlyDictionary<string, Uri> sidecarsByAppId) =>
        JsonSerializer.Serialize(new
        {
            apps = sidecarsByAppId.ToDictionary(entry => entry.Key, entry => new { httpEndpoint = entry.Value.ToString().TrimEnd('/') }, StringComparer.Ordinal),
        });

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
