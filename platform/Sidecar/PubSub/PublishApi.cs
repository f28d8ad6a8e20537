using System.Diagnostics;
using System.Text.Json;
using CloudScale.Sidecar.Api;
using CloudScale.Sidecar.Configuration;

namespace CloudScale.Sidecar.PubSub;

/// <summary>Publish and bulk publish (the alpha route and the /v1.0 alias daprd added in 1.17).</summary>
internal static class PublishApi
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapMethods("/v1.0/publish/bulk/{pubsubName}/{**topic}", ["POST", "PUT"], BulkPublishAsync);
        routes.MapMethods("/v1.0-alpha1/publish/bulk/{pubsubName}/{**topic}", ["POST", "PUT"], BulkPublishAsync);
        routes.MapMethods("/v1.0/publish/{pubsubName}/{**topic}", ["POST", "PUT"], PublishAsync);
    }

    private static async Task PublishAsync(HttpContext context)
    {
        var (pubsub, topic) = Find(context);
        var metadata = RequestMetadata.FromQuery(context.Request.Query);
        var raw = RawPayload(metadata);
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        byte[] data;
        try
        {
            data = raw ? buffer.ToArray() : Envelope(context, buffer.ToArray(), context.Request.ContentType, pubsub.Name, topic, metadata);
        }
        catch (JsonException exception)
        {
            throw new DaprErrorException(new DaprError(StatusCodes.Status500InternalServerError, "ERR_PUBSUB_CLOUD_EVENTS_SER", exception.Message));
        }

        try
        {
            await pubsub.PublishAsync(new PubSubMessage(topic, data, metadata), context.RequestAborted);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new DaprErrorException(new DaprError(StatusCodes.Status500InternalServerError, "ERR_PUBSUB_PUBLISH_MESSAGE", $"error when publishing to topic {topic} in pubsub {pubsub.Name}: {exception.Message}"));
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task BulkPublishAsync(HttpContext context)
    {
        var (pubsub, topic) = Find(context);
        var requestMetadata = RequestMetadata.FromQuery(context.Request.Query);
        using var body = await RequestMetadata.ReadJsonAsync(context.Request);
        if (body.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new DaprErrorException(new DaprError(StatusCodes.Status400BadRequest, "ERR_PUBSUB_EVENTS_SER", "error when unmarshaling the request for topic " + topic + " pubsub " + pubsub.Name + ": the body must be a JSON array"));
        }

        var entries = ReadBulkEntries(context, body.RootElement, pubsub, topic, requestMetadata);
        var failed = new List<(string EntryId, string Error)>();
        foreach (var (entryId, message) in entries)
        {
            try
            {
                await pubsub.PublishAsync(message, context.RequestAborted);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                failed.Add((entryId, exception.Message));
            }
        }

        if (failed.Count == 0)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteStartArray("failedEntries");
        foreach (var (entryId, error) in failed)
        {
            writer.WriteStartObject();
            writer.WriteString("entryId", entryId);
            writer.WriteString("error", error);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("errorCode", "ERR_PUBSUB_PUBLISH_MESSAGE");
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    private static List<(string EntryId, PubSubMessage Message)> ReadBulkEntries(HttpContext context, JsonElement root, IPubSub pubsub, string topic, Dictionary<string, string> requestMetadata)
    {
        var entries = new List<(string EntryId, PubSubMessage Message)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in root.EnumerateArray())
        {
            var entryId = entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("entryId", out var id) ? id.GetString() : null;
            if (string.IsNullOrEmpty(entryId) || !seen.Add(entryId))
            {
                throw new DaprErrorException(new DaprError(StatusCodes.Status400BadRequest, "ERR_PUBSUB_EVENTS_SER",
                    string.IsNullOrEmpty(entryId) ? "entryId is duplicated or not present for entry" : $"entryId {entryId} is duplicated or not present for entry"));
            }

            var contentType = entry.TryGetProperty("contentType", out var type) ? type.GetString() : null;
            var metadata = RequestMetadata.FromJson(entry.TryGetProperty("metadata", out var metadataElement) ? metadataElement : default, "metadata");
            foreach (var (name, value) in requestMetadata)
            {
                metadata.TryAdd(name, value);
            }

            var eventElement = entry.TryGetProperty("event", out var e) ? e : default;
            byte[] payload = eventElement.ValueKind switch
            {
                JsonValueKind.String when contentType == "application/octet-stream" => Convert.FromBase64String(eventElement.GetString()!),
                JsonValueKind.String when contentType?.Contains("json", StringComparison.Ordinal) != true => System.Text.Encoding.UTF8.GetBytes(eventElement.GetString()!),
                JsonValueKind.Undefined => [],
                _ => JsonSerializerRaw(eventElement),
            };
            var data = RawPayload(metadata) ? payload : Envelope(context, payload, contentType, pubsub.Name, topic, metadata);
            entries.Add((entryId, new PubSubMessage(topic, data, metadata)));
        }

        return entries;
    }

    private static byte[] JsonSerializerRaw(JsonElement element) => System.Text.Encoding.UTF8.GetBytes(element.GetRawText());

    private static byte[] Envelope(HttpContext context, byte[] body, string? contentType, string pubsubName, string topic, Dictionary<string, string> metadata)
    {
        var appId = context.RequestServices.GetRequiredService<SidecarOptions>().AppId;
        return CloudEvents.Build(body, contentType, pubsubName, topic, appId, metadata, Activity.Current);
    }

    private static bool RawPayload(Dictionary<string, string> metadata) =>
        metadata.TryGetValue("rawPayload", out var raw)
            ? bool.TryParse(raw, out var value)
                ? value
                : throw new DaprErrorException(new DaprError(StatusCodes.Status400BadRequest, "ERR_PUBSUB_REQUEST_METADATA", $"failed deserializing metadata: rawPayload '{raw}' is not a boolean"))
            : false;

    private static (IPubSub PubSub, string Topic) Find(HttpContext context)
    {
        var pubsubs = context.RequestServices.GetRequiredService<PubSubs>();
        var name = (string?)context.Request.RouteValues["pubsubName"] ?? "";
        var topic = (string?)context.Request.RouteValues["topic"] ?? "";
        if (!pubsubs.Any)
        {
            throw new DaprErrorException(new DaprError(StatusCodes.Status400BadRequest, "ERR_PUBSUB_NOT_CONFIGURED", "no pubsub is configured", "DAPR_PUBSUB_NOT_CONFIGURED"));
        }

        if (name.Length == 0)
        {
            throw new DaprErrorException(new DaprError(StatusCodes.Status404NotFound, "ERR_PUBSUB_EMPTY", "pubsub name is empty", "DAPR_PUBSUB_NAME_EMPTY"));
        }

        var pubsub = pubsubs.Find(name)
            ?? throw new DaprErrorException(new DaprError(StatusCodes.Status404NotFound, "ERR_PUBSUB_NOT_FOUND", $"pubsub {name} is not found", "DAPR_PUBSUB_NOT_FOUND"));
        if (topic.Length == 0)
        {
            throw new DaprErrorException(new DaprError(StatusCodes.Status404NotFound, "ERR_TOPIC_NAME_EMPTY", $"topic is empty in pubsub {name}", "DAPR_PUBSUB_TOPIC_NAME_EMPTY"));
        }

        return (pubsub, topic);
    }
}
