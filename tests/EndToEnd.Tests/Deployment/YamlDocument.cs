using YamlDotNet.RepresentationModel;

namespace CloudScale.EndToEnd.Tests.Deployment;

/// <summary>Reads the single-document YAML files of components/, azure.yaml and the Container Apps templates.</summary>
internal static class YamlDocument
{
    public static YamlMappingNode Load(string path, Func<string, string>? render = null)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader((render ?? (text => text))(File.ReadAllText(path))));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    public static string Scalar(this YamlMappingNode node, string key) =>
        node.Optional(key) ?? throw new InvalidOperationException($"'{key}' is missing in {node.Start}.");

    public static string? Optional(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var value) ? ((YamlScalarNode)value).Value : null;

    public static IEnumerable<YamlNode> Sequence(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var value) ? (YamlSequenceNode)value : [];
}
