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

        var requests = new List<SetRequest>();
        foreach (var item in body.RootElement.EnumerateArray())
        {
            var set = ReadSet(item, prefix, queryMetadata);
            requests.Add(set);
        }

        foreach (var request in requests)
        {
            try
            {
                await store.SetAsync(request, context.RequestAborted);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                throw StateError(exception, "ERR_STATE_SAVE", $"failed saving state in state store {store.Name}");
            }
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task GetAsync(HttpContext context)
    {
        var (store, prefix) = Stores(context).Find(StoreName(context));
        var key = (string)context.Request.RouteValues["key"]!;
        var storeKey = StateStores.ToStoreKey(prefix, key);
        StateItem? item;
        try
        {
            item = await store.GetAsync(storeKey, context.RequestAborted);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new DaprErrorException(new DaprError(StatusCodes.Status500InternalServerError, "ERR_STATE_GET", $"fail to get {key} from state store {store.Name}: {exception.Message}"));
        }

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
            if (body.RootElement.TryGetProperty("keys", out var keysElement) && keysElement.ValueKind == JsonValueKind.Array)
            {
                keys.AddRange(keysElement.EnumerateArray().Select(key => key.GetString() ?? ""));
            }

            if (body.RootElement.TryGetProperty("parallelism", out var parallelismElement) && parallelismElement.ValueKind == JsonValueKind.Number)
            {
                parallelism = parallelismElement.GetInt32();
            }
        }
        else
        {
            throw new DaprErrorException(DaprError.Deserialization(new JsonException("the body must be a JSON object with keys")));
        }

        var storeKeys = keys.Select(key => StateStores.ToStoreKey(prefix, key)).ToList();
        var results = new (StateItem? Item, string? Error)[keys.Count];
        if (store is IBulkStateStore bulk)
        {
            try
            {
                var items = await bulk.BulkGetAsync(storeKeys, context.RequestAborted);
                for (var index = 0; index < keys.Count; index++)
                {
                    results[index] = (items[index], null);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // As when each key is read alone: the failure is reported on every key, not as a failed request.
                Array.Fill(results, (null, exception.Message));
            }

            await WriteBulkAsync(context, keys, results);
            return;
        }

        await Parallel.ForAsync(0, keys.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism > 0 ? parallelism : 100, CancellationToken = context.RequestAborted }, async (index, cancellationToken) =>
        {
            try
            {
                results[index] = (await store.GetAsync(storeKeys[index], cancellationToken), null);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                results[index] = (null, exception.Message);
            }
        });

        await WriteBulkAsync(context, keys, results);
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
        try
        {
            await store.DeleteAsync(request, context.RequestAborted);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw StateError(exception, "ERR_STATE_DELETE", $"failed deleting state with key {key}");
        }

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
        if (body.RootElement.TryGetProperty("operations", out var operationsElement) && operationsElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var operation in operationsElement.EnumerateArray())
            {
                var type = operation.TryGetProperty("operation", out var typeElement) ? typeElement.GetString() : null;
                var request = operation.TryGetProperty("request", out var requestElement) ? requestElement : default;
                operations.Add(type switch
                {
                    "upsert" => ReadSet(request, prefix, noMetadata),
                    "delete" => ReadDelete(request, prefix),
                    _ => throw new DaprErrorException(new DaprError(StatusCodes.Status400BadRequest, "ERR_NOT_SUPPORTED_STATE_OPERATION", $"operation type {type} not supported")),
                });
            }
        }

        if (operations.Count > 0)
        {
            try
            {
                await store.MultiAsync(operations, context.RequestAborted);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // An etag mismatch inside a transaction is a 500 too, never a 409.
                throw new DaprErrorException(new DaprError(StatusCodes.Status500InternalServerError, "ERR_STATE_TRANSACTION", $"error while executing state transaction: {exception.Message}"));
            }
        }

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
        var metadata = RequestMetadata.FromJson(item.TryGetProperty("metadata", out var metadataElement) ? metadataElement : default, "metadata");
        foreach (var (name, value) in queryMetadata)
        {
            metadata.TryAdd(name, value);
        }

        var stateValue = item.TryGetProperty("value", out var valueElement) ? valueElement.Clone() : JsonDocument.Parse("null").RootElement;
        return new SetRequest(StateStores.ToStoreKey(prefix, key), stateValue, ReadETag(item), ReadOptions(item), metadata);
    }

    private static DeleteRequest ReadDelete(JsonElement item, string? prefix)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new DaprErrorException(DaprError.Deserialization(new JsonException("a state item must be a JSON object")));
        }

        var metadata = RequestMetadata.FromJson(item.TryGetProperty("metadata", out var metadataElement) ? metadataElement : default, "metadata");
        return new DeleteRequest(StateStores.ToStoreKey(prefix, ReadKey(item)), ReadETag(item), ReadOptions(item), metadata);
    }

    private static string ReadKey(JsonElement item) =>
        item.TryGetProperty("key", out var keyElement) && keyElement.ValueKind == JsonValueKind.String && keyElement.GetString() is { Length: > 0 } key
            ? key
            : throw new DaprErrorException(DaprError.Malformed("\"key\" is a required field"));

    private static string? ReadETag(JsonElement item) =>
        item.TryGetProperty("etag", out var etag) ? etag.ValueKind switch
        {
            JsonValueKind.String => etag.GetString(),
            JsonValueKind.Null => null,
            _ => throw new DaprErrorException(DaprError.Deserialization(new JsonException("etag must be a string"))),
        }
        : null;

    private static StateOptions ReadOptions(JsonElement item)
    {
        if (!item.TryGetProperty("options", out var options) || options.ValueKind != JsonValueKind.Object)
        {
            return new StateOptions(null, null);
        }

        static string? Field(JsonElement options, string name) =>
            options.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

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

    private static DaprErrorException StateError(Exception exception, string errorCode, string prefix) => exception switch
    {
        ETagException { Kind: ETagErrorKind.Mismatch } => new(new DaprError(StatusCodes.Status409Conflict, errorCode, $"{prefix}: {exception.Message}")),
        ETagException => new(new DaprError(StatusCodes.Status400BadRequest, errorCode, $"{prefix}: {exception.Message}")),
        DaprErrorException daprError => daprError,
        _ => new(new DaprError(StatusCodes.Status500InternalServerError, errorCode, $"{prefix}: {exception.Message}")),
    };

    private static StateStores Stores(HttpContext context) => context.RequestServices.GetRequiredService<StateStores>();

    private static string StoreName(HttpContext context) => (string)context.Request.RouteValues["storeName"]!;
}
