using YamlDotNet.RepresentationModel;

namespace CloudScale.Sidecar.Configuration;

/// <summary>
/// A YAML mapping read with its file and field path, so every error names the file, the field and the problem.
/// The representation model is used instead of object deserialisation: no reflection at start-up, exact errors.
/// </summary>
internal sealed class YamlObject(string file, string path, YamlMappingNode node)
{
    public string File { get; } = file;

    public string Path { get; } = path;

    public ConfigurationException Error(string field, string problem) =>
        new($"{File}: {Qualify(field)}: {problem}");

    public string? String(string field)
    {
        var value = Node(field);
        return value switch
        {
            null => null,
            YamlScalarNode scalar => scalar.Value,
            _ => throw Error(field, "must be a string"),
        };
    }

    public string RequiredString(string field) =>
        String(field) is { Length: > 0 } value ? value : throw Error(field, "is required");

    public bool Boolean(string field, bool defaultValue) => String(field) switch
    {
        null => defaultValue,
        "true" or "True" => true,
        "false" or "False" => false,
        var other => throw Error(field, $"'{other}' is not a boolean"),
    };

    public int? Integer(string field) => String(field) switch
    {
        null => null,
        var text when int.TryParse(text, out var value) => value,
        var other => throw Error(field, $"'{other}' is not an integer"),
    };

    public TimeSpan? Duration(string field) => String(field) switch
    {
        null => null,
        var text => GoDuration.TryParse(text, out var value) ? value : throw Error(field, $"'{text}' is not a duration such as 5s, 500ms or 1m30s"),
    };

    public YamlObject? Object(string field) => Node(field) switch
    {
        null => null,
        YamlMappingNode mapping => new YamlObject(File, Qualify(field), mapping),
        _ => throw Error(field, "must be a mapping"),
    };

    public IEnumerable<YamlObject> Objects(string field) => Node(field) switch
    {
        null => [],
        YamlSequenceNode sequence => sequence.Children.Select((child, index) => child is YamlMappingNode mapping
            ? new YamlObject(File, $"{Qualify(field)}[{index}]", mapping)
            : throw Error($"{field}[{index}]", "must be a mapping")),
        _ => throw Error(field, "must be a list"),
    };

    public IReadOnlyList<string> Strings(string field) => Node(field) switch
    {
        null => [],
        YamlSequenceNode sequence => [.. sequence.Children.Select((child, index) => child is YamlScalarNode { Value: { } value }
            ? value
            : throw Error($"{field}[{index}]", "must be a string"))],
        _ => throw Error(field, "must be a list of strings"),
    };

    /// <summary>The entries of a mapping whose values are themselves mappings (policy and target tables).</summary>
    public IEnumerable<(string Name, YamlObject Value)> Entries()
    {
        foreach (var (key, value) in node.Children)
        {
            var name = ((YamlScalarNode)key).Value ?? "";
            yield return value is YamlMappingNode mapping
                ? (name, new YamlObject(File, Qualify(name), mapping))
                : throw Error(name, "must be a mapping");
        }
    }

    /// <summary>The entries of a mapping of strings (metadata, timeouts).</summary>
    public IEnumerable<(string Name, string Value)> StringEntries()
    {
        foreach (var (key, value) in node.Children)
        {
            var name = ((YamlScalarNode)key).Value ?? "";
            yield return value is YamlScalarNode { Value: { } text } ? (name, text) : throw Error(name, "must be a string");
        }
    }

    /// <summary>
    /// A field as daprd reads resources (YAML turned into JSON, decoded by encoding/json): by name without regard to case,
    /// the last matching key winning.
    /// </summary>
    private YamlNode? Node(string field) =>
        node.Children.LastOrDefault(entry => entry.Key is YamlScalarNode { Value: { } name } && name.Equals(field, StringComparison.OrdinalIgnoreCase)).Value is { } value && !IsNull(value)
            ? value
            : null;

    private static bool IsNull(YamlNode value) => value is YamlScalarNode { Value: null or "" or "~" or "null", Style: not (YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted) };

    private string Qualify(string field) => Path.Length == 0 ? field : $"{Path}.{field}";
}
