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

    public static string PostgresStore(string name, string connectionString, string extraMetadata = "") => $"""
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
        {extraMetadata}
        """;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
