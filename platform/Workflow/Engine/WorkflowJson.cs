using System.Text.Json;
using System.Text.Json.Serialization;

namespace CloudScale.Workflow.Engine;

/// <summary>
/// The two JSON dialects of the engine: payloads (inputs, outputs, events, custom status) as Dapr.Workflow writes them
/// (System.Text.Json web defaults), and the engine's own documents, which add readable enum names.
/// </summary>
internal static class WorkflowJson
{
    public static readonly JsonSerializerOptions Payloads = new(JsonSerializerDefaults.Web);

    public static readonly JsonSerializerOptions Documents = new(JsonSerializerDefaults.Web)
    {
        // State stores may re-serialise what they keep (Postgres jsonb sorts keys), so a type discriminator can come anywhere.
        AllowOutOfOrderMetadataProperties = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string? Serialize(object? value, Type? declaredType = null) =>
        value is null ? null : JsonSerializer.Serialize(value, declaredType ?? value.GetType(), Payloads);

    /// <summary>A missing payload is the type's default, so a workflow with no input gets null, 0 or false.</summary>
    public static object? Deserialize(string? json, Type type) =>
        string.IsNullOrEmpty(json)
            ? (type.IsValueType ? Activator.CreateInstance(type) : null)
            : JsonSerializer.Deserialize(json, type, Payloads);

    public static T? Deserialize<T>(string? json) => (T?)Deserialize(json, typeof(T));
}
