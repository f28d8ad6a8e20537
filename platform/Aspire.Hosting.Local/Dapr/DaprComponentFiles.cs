using YamlDotNet.RepresentationModel;

namespace Aspire.Hosting.Dapr;

/// <summary>A component of a resources path: its name, building block (<c>state</c> of <c>state.redis</c>) and scopes.</summary>
internal sealed record DaprComponentFile(string Name, string BuildingBlock, IReadOnlySet<string> Scopes);

internal static class DaprComponentFiles
{
    /// <summary>Every <c>kind: Component</c> document of the YAML files in <paramref name="directories"/>.</summary>
    public static IEnumerable<DaprComponentFile> Read(IEnumerable<string> directories)
    {
        foreach (var file in directories.Where(Directory.Exists)
            .SelectMany(directory => Directory.EnumerateFiles(directory, "*.y*ml")).Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            using (var reader = File.OpenText(file))
            {
                stream.Load(reader);
            }

            foreach (var document in stream.Documents)
            {
                if (document.RootNode is YamlMappingNode root && Scalar(root, "kind") == "Component" &&
                    Child(root, "metadata") is { } metadata && Scalar(metadata, "name") is { } name &&
                    Child(root, "spec") is { } spec && Scalar(spec, "type") is { } type)
                {
                    var scopes = root.Children.TryGetValue(new YamlScalarNode("scopes"), out var node) && node is YamlSequenceNode sequence
                        ? sequence.Children.OfType<YamlScalarNode>().Select(scope => scope.Value ?? "").ToHashSet(StringComparer.Ordinal)
                        : [];
                    yield return new DaprComponentFile(name, type.Split('.')[0], scopes);
                }
            }
        }
    }

    private static YamlMappingNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child as YamlMappingNode : null;

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? (child as YamlScalarNode)?.Value : null;
}
