using System.Text.Json;
using CloudScale.Sidecar.State;

namespace CloudScale.Sidecar.Api;

/// <summary>The state routes of daprd's HTTP API v1.0, with its status codes and error codes.</summary>
internal static class StateApi
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var state = routes.MapGroup("/v1.0/state/{storeName}");
        state.MapMethods("", ["POST", "PUT"], SaveAsync);
        state.MapMethods("/bulk", ["POST", "PUT"], BulkGetAsync);
        state.MapMethods("/transaction", ["POST", "PUT"], TransactionAsync);
        state.MapGet("/{key}", GetAsync);
        state.MapDelete("/{key}", DeleteAsync);
    }

    private static async Task SaveAsync(HttpContext context)
    {
        var (store, prefix) = Stores(context).Find(StoreName(context));
        var queryMetadata = RequestMetadata.FromQuery(context.Request.Query);
        using var body = await RequestMetadata.ReadJsonAsync(context.Request);
        if (body.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new DaprErrorException(DaprError.Deserialization(new JsonException("the body must be a JSON array of state items")));
        }

        var requests = body.RootElement.EnumerateArray().Select(item => ReadSet(item, prefix, queryMetadata)).ToList();
        await StateCalls.SaveAsync(store, requests, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task GetAsync(HttpContext context)
    {
        var (store, prefix) = Stores(context).Find(StoreName(context));
        var key = (string)context.Request.RouteValues["key"]!;
        var item = await StateCalls.GetAsync(store, StateStores.ToStoreKey(prefix, key), key, context.RequestAborted);
        if (item is null)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        if (item.ETag is not null)
        {
            context.Response.Headers.ETag = item.ETag;
        }

        foreach (var (name, value) in item.Metadata)
        {
            context.Response.Headers["metadata." + name] = value;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = item.Data.Length;
        await context.Response.Body.WriteAsync(item.Data, context.RequestAborted);
    }

    private static async Task BulkGetAsync(HttpContext context)
    {
        var (store, prefix) = Stores(context).Find(StoreName(context));
        using var body = await RequestMetadata.ReadJsonAsync(context.Request);
        var keys = new List<string>();
        var parallelism = 0;
        if (body.RootElement.ValueKind == JsonValueKind.Object)
        {
            keys.AddRange(body.RootElement.ArrayField("keys").Select(key => key.ValueKind switch
            {
                JsonValueKind.String => key.GetString()!,
                JsonValueKind.Null => "",
                _ => throw new JsonException($"keys must be strings, not {key.ValueKind}"),
            }));
            if (body.RootElement.TryGetField("parallelism", out var parallelismElement) && parallelismElement.ValueKind != JsonValueKind.Null)
            {
                parallelism = parallelismElement.ValueKind == JsonValueKind.Number && parallelismElement.TryGetInt32(out var requested)
                    ? requested
                    : throw new JsonException("parallelism must be a whole number");
            }
        }
        else
        {
            throw new DaprErrorException(DaprError.Deserialization(new JsonException("the body must be a JSON object with keys")));
        }

        var storeKeys = keys.Select(key => StateStores.ToStoreKey(prefix, key)).ToList();
        await WriteBulkAsync(context, keys, await StateCalls.BulkGetAsync(store, storeKeys, parallelism, context.RequestAborted));
    }

    private static async Task DeleteAsync(HttpContext context)
    {
        var (store, prefix) = Stores(context).Find(StoreName(context));
        var key = (string)context.Request.RouteValues["key"]!;
        var query = context.Request.Query;
        // The presence of If-Match counts, not its value (an empty If-Match is an empty etag).
        var etag = context.Request.Headers.TryGetValue("If-Match", out var ifMatch) ? ifMatch.ToString() : null;
        var request = new DeleteRequest(
            StateStores.ToStoreKey(prefix, key),
            etag,
            new StateOptions(query["concurrency"].FirstOrDefault(), query["consistency"].FirstOrDefault()),
            RequestMetadata.FromQuery(query));
        await StateCalls.DeleteAsync(store, [(request, key)], context.RequestAborted);

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task TransactionAsync(HttpContext context)
    {
        var (store, prefix) = Stores(context).Find(StoreName(context));
        using var body = await RequestMetadata.ReadJsonAsync(context.Request);
        if (body.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new DaprErrorException(DaprError.Deserialization(new JsonException("the body must be a JSON object with operations")));
        }

        var operations = new List<StateOperation>();
        var noMetadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var operation in body.RootElement.ArrayField("operations"))
        {
            if (operation.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException($"a transaction operation must be a JSON object, not {operation.ValueKind}");
            }

            var type = operation.StringField("operation");
            var request = operation.TryGetField("request", out var requestElement) ? requestElement : default;
            operations.Add(type switch
            {
                "upsert" => ReadSet(request, prefix, noMetadata),
                "delete" => ReadDelete(request, prefix),
                _ => throw StateCalls.UnsupportedOperation(type),
            });
        }

        await StateCalls.TransactAsync(store, operations, context.RequestAborted);

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task WriteBulkAsync(HttpContext context, List<string> keys, (StateItem? Item, string? Error)[] results)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartArray();
        for (var i = 0; i < keys.Count; i++)
        {
            // The item has "data" (not the docs' "value"), each field omitted when empty.
            writer.WriteStartObject();
            writer.WriteString("key", keys[i]);
            var (item, error) = results[i];
            if (item is not null)
            {
                WriteData(writer, item.Data);
                if (item.ETag is not null)
                {
                    writer.WriteString("etag", item.ETag);
                }

                if (item.Metadata.Count > 0)
                {
                    writer.WriteStartObject("metadata");
                    foreach (var (name, value) in item.Metadata)
                    {
                        writer.WriteString(name, value);
                    }

                    writer.WriteEndObject();
                }
            }

            if (error is not null)
            {
                writer.WriteString("error", error);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        await writer.FlushAsync(context.RequestAborted);
    }

    private static SetRequest ReadSet(JsonElement item, string? prefix, IReadOnlyDictionary<string, string> queryMetadata)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new DaprErrorException(DaprError.Deserialization(new JsonException("a state item must be a JSON object")));
        }

        var key = ReadKey(item);
        var metadata = RequestMetadata.FromJson(item.TryGetField("metadata", out var metadataElement) ? metadataElement : default, "metadata");
        foreach (var (name, value) in queryMetadata)
        {
            metadata.TryAdd(name, value);
        }

        var stateValue = item.TryGetField("value", out var valueElement) ? valueElement.Clone() : JsonDocument.Parse("null").RootElement;
        return new SetRequest(StateStores.ToStoreKey(prefix, key), StateValue.FromJson(stateValue), item.StringField("etag"), ReadOptions(item), metadata);
    }

    private static DeleteRequest ReadDelete(JsonElement item, string? prefix)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new DaprErrorException(DaprError.Deserialization(new JsonException("a state item must be a JSON object")));
        }

        var metadata = RequestMetadata.FromJson(item.TryGetField("metadata", out var metadataElement) ? metadataElement : default, "metadata");
        return new DeleteRequest(StateStores.ToStoreKey(prefix, ReadKey(item)), item.StringField("etag"), ReadOptions(item), metadata);
    }

    private static string ReadKey(JsonElement item) =>
        item.TryGetField("key", out var keyElement) && keyElement.ValueKind == JsonValueKind.String && keyElement.GetString() is { Length: > 0 } key
            ? key
            : throw new DaprErrorException(DaprError.Malformed("\"key\" is a required field"));

    private static StateOptions ReadOptions(JsonElement item)
    {
        if (!item.TryGetField("options", out var options) || options.ValueKind != JsonValueKind.Object)
        {
            return new StateOptions(null, null);
        }

        static string? Field(JsonElement options, string name) =>
            options.TryGetField(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        return new StateOptions(Field(options, "concurrency"), Field(options, "consistency"));
    }

    private static void WriteData(Utf8JsonWriter writer, byte[] data)
    {
        var reader = new Utf8JsonReader(data);
        if (JsonDocument.TryParseValue(ref reader, out var document))
        {
            using (document)
            {
                writer.WritePropertyName("data");
                document.RootElement.WriteTo(writer);
            }
        }
        else
        {
            writer.WriteString("data", System.Text.Encoding.UTF8.GetString(data));
        }
    }

    private static StateStores Stores(HttpContext context) => context.RequestServices.GetRequiredService<StateStores>();

    private static string StoreName(HttpContext context) => (string)context.Request.RouteValues["storeName"]!;
}
