namespace CloudScale.Sidecar.Tests;

/// <summary>A throwaway --resources-path folder.</summary>
internal sealed class ResourceFolder : IDisposable
{
    public ResourceFolder(params (string File, string Yaml)[] files)
    {
        Path = Directory.CreateTempSubdirectory("sidecar-resources-").FullName;
        foreach (var (file, yaml) in files)
        {
            File.WriteAllText(System.IO.Path.Combine(Path, file), yaml);
        }
    }

    public string Path { get; }

    public static string PostgresStore(string name, string connectionString) =>
        Component(name, "state.postgresql", ("connectionString", connectionString));

    public static string RedisState(string name, string redisHost, params (string Name, string Value)[] metadata) =>
        Component(name, "state.redis", [("redisHost", redisHost), .. metadata]);

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
        {string.Concat(metadata.Select(item => $"  - name: {item.Name}\n    value: \"{item.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"\n"))}
        """;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
