using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CloudScale.Sidecar.Api;
using CloudScale.Sidecar.Configuration;
using CloudScale.Sidecar.Telemetry;

namespace CloudScale.Sidecar.PubSub;

/// <summary>
/// Publish and bulk publish (the alpha route and the /v1.0 alias daprd added in 1.17), with daprd's envelope, status
/// codes and dapr/kit error bodies (<c>pkg/api/http/http.go</c> <c>onPublish</c>/<c>onBulkPublish</c>).
/// </summary>
internal static class PublishApi
{
    private const string ResourceType = "pubsub";
    private const string ContentTypeMismatch = "error: mismatch between contentType and event";

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapMethods("/v1.0/publish/bulk/{pubsubName}/{**topic}", ["POST", "PUT"], BulkPublishAsync);
        routes.MapMethods("/v1.0-alpha1/publish/bulk/{pubsubName}/{**topic}", ["POST", "PUT"], BulkPublishAsync);
        routes.MapMethods("/v1.0/publish/{pubsubName}/{**topic}", ["POST", "PUT"], PublishAsync);
    }

    private static async Task PublishAsync(HttpContext context)
    {
        var metadata = RequestMetadata.FromQuery(context.Request.Query);
        var (pubsub, topic) = Find(context, metadata);
        var raw = RawPayload(pubsub, metadata);
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var data = raw ? buffer.ToArray() : Envelope(context, pubsub, topic, buffer.ToArray(), context.Request.ContentType, metadata, Activity.Current);
        try
        {
            await pubsub.PublishAsync(new PubSubMessage(topic, data, metadata), context.RequestAborted);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw PublishFailed(pubsub, topic, exception);
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task BulkPublishAsync(HttpContext context)
    {
        var requestMetadata = RequestMetadata.FromQuery(context.Request.Query);
        var (pubsub, topic) = Find(context, requestMetadata);
        var raw = RawPayload(pubsub, requestMetadata);
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var entries = ReadBulkEntries(context, pubsub, topic, buffer.ToArray(), requestMetadata);
        var messages = new List<(string EntryId, PubSubMessage Message)>(entries.Count);
        foreach (var (entryId, payload, contentType, metadata) in entries)
        {
            // Each event gets a span of its own, so every CloudEvent carries its own traceparent.
            using var activity = SidecarTelemetry.Source.StartActivity("publish", ActivityKind.Producer);
            var data = raw ? payload : Envelope(context, pubsub, topic, payload, contentType, metadata ?? new Dictionary<string, string>(StringComparer.Ordinal), activity ?? Activity.Current);
            messages.Add((entryId, new PubSubMessage(topic, data, metadata)));
        }

        var failed = new List<(string EntryId, string Error)>();
        foreach (var (entryId, message) in messages)
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

    /// <summary>
    /// The entries as daprd reads them: the event turned into bytes for its content type (<c>ConvertEventToBytes</c>),
    /// and request metadata merged under the entry's own, but only for an entry that has metadata at all.
    /// </summary>
    private static List<BulkEntry> ReadBulkEntries(
        HttpContext context, IPubSub pubsub, string topic, byte[] body, Dictionary<string, string> requestMetadata)
    {
        var appId = context.RequestServices.GetRequiredService<SidecarOptions>().AppId;
        var entries = new List<BulkEntry>();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
            var kind = document.RootElement.ValueKind;
            if (kind is not (JsonValueKind.Array or JsonValueKind.Null))
            {
                document.Dispose();
                throw new JsonException($"the body must be a JSON array of entries, not {kind}");
            }
        }
        catch (JsonException exception)
        {
            throw UnmarshalFailed(pubsub, topic, appId, exception);
        }

        using (document)
        {
            // A JSON null is an empty list to Go.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var element in document.RootElement.ValueKind == JsonValueKind.Array ? [.. document.RootElement.EnumerateArray()] : Array.Empty<JsonElement>())
            {
                var entry = ReadBulkEntry(element, pubsub, topic, appId, requestMetadata);
                if (string.IsNullOrEmpty(entry.EntryId) || !seen.Add(entry.EntryId))
                {
                    throw MarshalFailed(pubsub, topic, appId, "entryId is duplicated or not present for entry");
                }

                entries.Add(entry);
            }
        }

        return entries;
    }

    private static BulkEntry ReadBulkEntry(
        JsonElement entry, IPubSub pubsub, string topic, string appId, Dictionary<string, string> requestMetadata)
    {
        string? entryId, contentType;
        Dictionary<string, string>? metadata;
        try
        {
            entryId = OptionalString(entry, "entryId");
            contentType = OptionalString(entry, "contentType") ?? "";
            metadata = entry.TryGetProperty("metadata", out var metadataElement) && metadataElement.ValueKind != JsonValueKind.Null
                ? RequestMetadata.FromJson(metadataElement, "metadata")
                : null;
        }
        catch (JsonException exception)
        {
            throw UnmarshalFailed(pubsub, topic, appId, exception);
        }

        byte[] payload;
        try
        {
            payload = EventBytes(entry.TryGetProperty("event", out var eventElement) ? eventElement : default, contentType);
        }
        catch (FormatException exception)
        {
            throw MarshalFailed(pubsub, topic, appId, exception.Message);
        }

        if (metadata is not null)
        {
            foreach (var (name, value) in requestMetadata)
            {
                metadata.TryAdd(name, value);
            }
        }

        return new BulkEntry(entryId ?? "", payload, contentType, metadata);
    }

    /// <summary>daprd's <c>ConvertEventToBytes</c>; throws <see cref="FormatException"/> with daprd's text when the event does not fit its content type.</summary>
    private static byte[] EventBytes(JsonElement value, string contentType)
    {
        if (CloudEvents.IsContentType(contentType, "application/octet-stream"))
        {
            // A JSON request carries binary events as base64 strings.
            return value.ValueKind != JsonValueKind.String ? throw new FormatException(ContentTypeMismatch)
                : value.TryGetBytesFromBase64(out var bytes) ? bytes
                : throw new FormatException("error: unable to decode base64 application/octect-stream data: illegal base64 data");
        }

        if (contentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase) || CloudEvents.IsContentType(contentType, "application/xml"))
        {
            return value.ValueKind == JsonValueKind.String ? Encoding.UTF8.GetBytes(value.GetString()!) : throw new FormatException(ContentTypeMismatch);
        }

        if (CloudEvents.IsContentType(contentType, "application/json") || CloudEvents.IsContentType(contentType, CloudEvents.ContentType))
        {
            // daprd decoded the event into any: numbers are float64 when it marshals them back.
            return value.ValueKind == JsonValueKind.Undefined ? "null"u8.ToArray() : GoJson.EncodingJson(value);
        }

        throw new FormatException(ContentTypeMismatch);
    }

    private static byte[] Envelope(HttpContext context, IPubSub pubsub, string topic, byte[] body, string? contentType, IReadOnlyDictionary<string, string> metadata, Activity? activity)
    {
        var appId = context.RequestServices.GetRequiredService<SidecarOptions>().AppId;
        try
        {
            return CloudEvents.Build(body, contentType, pubsub.Name, topic, appId, metadata, activity);
        }
        catch (JsonException exception)
        {
            throw Error(StatusCodes.Status500InternalServerError, "ERR_PUBSUB_CLOUD_EVENTS_SER", "cannot create cloudevent", "CLOUD_EVENT_CREATION", pubsub.Name,
                new Dictionary<string, string>(StringComparer.Ordinal) { ["appID"] = appId, ["error"] = exception.Message });
        }
    }

    /// <summary><c>metadata.rawPayload</c>, parsed as Go's <c>strconv.ParseBool</c> does.</summary>
    private static bool RawPayload(IPubSub pubsub, Dictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue("rawPayload", out var text) || text.Length == 0)
        {
            return false;
        }

        return GoStrconv.TryParseBool(text, out var raw)
            ? raw
            : throw Error(StatusCodes.Status400BadRequest, "ERR_PUBSUB_REQUEST_METADATA",
                $"failed deserializing metadata. Error: rawPayload value must be a valid boolean: actual is '{text}'", "METADATA_DESERIALIZATION", pubsub.Name, metadata);
    }

    /// <summary>daprd's <c>validateAndGetPubsubAndTopic</c>, in its order.</summary>
    private static (IPubSub PubSub, string Topic) Find(HttpContext context, Dictionary<string, string> metadata)
    {
        var pubsubs = context.RequestServices.GetRequiredService<PubSubs>();
        var name = (string?)context.Request.RouteValues["pubsubName"] ?? "";
        var topic = (string?)context.Request.RouteValues["topic"] ?? "";
        if (!pubsubs.Any)
        {
            throw new DaprErrorException(new DaprError(StatusCodes.Status400BadRequest, "ERR_PUBSUB_NOT_CONFIGURED", $"pubsub {name} is not configured", "DAPR_PUBSUB_NOT_CONFIGURED"));
        }

        if (name.Length == 0)
        {
            throw Error(StatusCodes.Status404NotFound, "ERR_PUBSUB_EMPTY", "pubsub name is empty", "NAME_EMPTY", name, metadata);
        }

        var pubsub = pubsubs.Find(name)
            ?? throw new DaprErrorException(new DaprError(StatusCodes.Status404NotFound, "ERR_PUBSUB_NOT_FOUND", $"pubsub {name} is not found", "DAPR_PUBSUB_NOT_FOUND"));
        return topic.Length > 0
            ? (pubsub, topic)
            : throw Error(StatusCodes.Status404NotFound, "ERR_TOPIC_NAME_EMPTY", $"topic is empty in pubsub {name}", "TOPIC_NAME_EMPTY", name, metadata);
    }

    private static DaprErrorException PublishFailed(IPubSub pubsub, string topic, Exception exception) =>
        Error(StatusCodes.Status500InternalServerError, "ERR_PUBSUB_PUBLISH_MESSAGE", $"error when publishing to topic {topic} in pubsub {pubsub.Name}: {exception.Message}", "PUBLISH_MESSAGE", pubsub.Name,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["topic"] = topic, ["error"] = exception.Message });

    private static DaprErrorException UnmarshalFailed(IPubSub pubsub, string topic, string appId, JsonException exception) =>
        Error(StatusCodes.Status400BadRequest, "ERR_PUBSUB_EVENTS_SER", $"error when unmarshaling the request for topic {topic} pubsub {pubsub.Name}: {exception.Message}", "UNMARSHAL_EVENTS", pubsub.Name,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["appID"] = appId });

    private static DaprErrorException MarshalFailed(IPubSub pubsub, string topic, string appId, string error)
    {
        var message = $"error marshaling events to bytes for topic {topic} pubsub {pubsub.Name}";
        return new(new DaprError(StatusCodes.Status400BadRequest, "ERR_PUBSUB_EVENTS_SER", $"{message}. error: {error}", "DAPR_PUBSUB_MARSHAL_EVENTS")
        {
            ReasonMetadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["appID"] = appId, ["error"] = error },
            Resource = (ResourceType, pubsub.Name, message),
        });
    }

    /// <summary>A dapr/kit pub/sub error: ErrorInfo reason <c>DAPR_PUBSUB_*</c> and a ResourceInfo naming the component.</summary>
    private static DaprErrorException Error(int status, string errorCode, string message, string reason, string pubsubName, IReadOnlyDictionary<string, string> metadata) =>
        new(new DaprError(status, errorCode, message, "DAPR_PUBSUB_" + reason) { ReasonMetadata = metadata, Resource = (ResourceType, pubsubName, message) });

    private static string? OptionalString(JsonElement entry, string name)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("an entry must be a JSON object");
        }

        return !entry.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
            : value.ValueKind == JsonValueKind.String ? value.GetString()
            : throw new JsonException($"{name} must be a string");
    }

    /// <summary>One bulk entry as daprd hands it on: the event's bytes, its content type, and its metadata (null when it has none).</summary>
    private sealed record BulkEntry(string EntryId, byte[] Payload, string ContentType, Dictionary<string, string>? Metadata);
}
