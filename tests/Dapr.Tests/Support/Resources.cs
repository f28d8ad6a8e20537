using System.Net;
using System.Text.Json;

namespace CloudScale.Dapr.Tests.Support;

/// <summary>Throwaway files under the test servers' root (removed with it): resource folders and name-resolution files.</summary>
public static class Resources
{
    private static int _folders;

    /// <summary>A <c>--resources-path</c> folder holding the given component YAML documents.</summary>
    public static string Folder(params string[] components)
    {
        var folder = TestServerRoot.Shared.CreateDirectory($"dapr-resources-{Interlocked.Increment(ref _folders)}");
        for (var index = 0; index < components.Length; index++)
        {
            File.WriteAllText(Path.Combine(folder, $"component-{index}.yaml"), components[index]);
        }

        return folder;
    }

    /// <summary>A <c>state.postgresql</c> v2 component, the layout the sidecar implements.</summary>
    public static string PostgresStateStore(string name, string connectionString) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: {name}
        spec:
          type: state.postgresql
          version: v2
          metadata:
          - name: connectionString
            value: "{connectionString}"
        """;

    /// <summary>A <c>pubsub.redis</c> component (Redis Streams) on the shared Redis server.</summary>
    public static string RedisPubSub(string name, string redisHost) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: {name}
        spec:
          type: pubsub.redis
          version: v1
          metadata:
          - name: redisHost
            value: "{redisHost}"
        """;

    /// <summary>
    /// Writes the sidecar's name-resolution file (<c>CLOUDSCALE_NAME_RESOLUTION_FILE</c>): each app id to its sidecar's HTTP
    /// endpoint. Written whole and renamed into place, because the sidecar re-reads it whenever it changes.
    /// </summary>
    public static string NameResolutionFile(IReadOnlyDictionary<string, Uri> sidecarsByAppId)
    {
        var file = Path.Combine(TestServerRoot.Shared.Path, $"names-{Guid.NewGuid():N}.json");
        var apps = sidecarsByAppId.ToDictionary(entry => entry.Key, entry => new { httpEndpoint = entry.Value.ToString().TrimEnd('/') }, StringComparer.Ordinal);
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(new { apps }));
        File.Move(file + ".tmp", file);
        return file;
    }

}
