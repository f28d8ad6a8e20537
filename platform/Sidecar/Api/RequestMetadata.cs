using System.Text.Json;

namespace CloudScale.Sidecar.Api;

internal static class RequestMetadata
{
    /// <summary>Query keys <c>metadata.x</c> become component metadata <c>x</c>; only the first value of a repeated key counts.</summary>
    public static Dictionary<string, string> FromQuery(IQueryCollection query)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, values) in query)
        {
            if (key.StartsWith("metadata.", StringComparison.Ordinal) && key.Length > "metadata.".Length)
            {
                metadata[key["metadata.".Length..]] = values.Count > 0 ? values[0] ?? "" : "";
            }
        }

        return metadata;
    }

    /// <summary>A JSON <c>{"k":"v"}</c> map; Dapr's Go types declare these as map[string]string.</summary>
    public static Dictionary<string, string> FromJson(JsonElement element, string field)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return metadata;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException($"{field} must be an object of strings");
        }

        foreach (var property in element.EnumerateObject())
        {
            metadata[property.Name] = property.Value.ValueKind == JsonValueKind.String
                ? property.Value.GetString()!
                : throw new JsonException($"{field}.{property.Name} must be a string");
        }

        return metadata;
    }

    public static async Task<JsonDocument> ReadJsonAsync(HttpRequest request)
    {
        try
        {
            return await JsonDocument.ParseAsync(request.Body, default, request.HttpContext.RequestAborted);
        }
        catch (JsonException exception)
        {
            throw new DaprErrorException(DaprError.Deserialization(exception));
        }
    }
}
