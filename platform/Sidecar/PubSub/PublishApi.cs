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

    /// <summary>Publishes one event as daprd does on either API: enveloped in a CloudEvent unless raw.</summary>
    public static async Task PublishAsync(
        IServiceProvider services, string pubsubName, string topicName, byte[] body, string? contentType, Dictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var (pubsub, topic) = Find(services.GetRequiredService<PubSubs>(), pubsubName, topicName, metadata);
        var data = RawPayload(pubsub, metadata) ? body : Envelope(AppId(services), pubsub, topic, body, contentType, metadata, Activity.Current);
        try
        {
            await pubsub.PublishAsync(new PubSubMessage(topic, data, metadata), cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw PublishFailed(pubsub, topic, exception);
        }
    }

    /// <summary>
    /// Publishes bulk entries as daprd does on either API; <paramref name="readEntries"/> reads them from the request once
    /// the pub/sub is known. Returns the entries that failed, each with its error.
    /// </summary>
    public static async Task<List<(string EntryId, string Error)>> BulkPublishAsync(
        IServiceProvider services, string pubsubName, string topicName, Dictionary<string, string> requestMetadata,
        Func<IPubSub, string, string, IEnumerable<BulkEntry>> readEntries, CancellationToken cancellationToken)
    {
        var (pubsub, topic) = Find(services.GetRequiredService<PubSubs>(), pubsubName, topicName, requestMetadata);
        var raw = RawPayload(pubsub, requestMetadata);
        var appId = AppId(services);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var messages = new List<(string EntryId, PubSubMessage Message)>();
        foreach (var (entryId, payload, contentType, entryMetadata) in readEntries(pubsub, topic, appId))
        {
            if (string.IsNullOrEmpty(entryId) || !seen.Add(entryId))
            {
                throw MarshalFailed(pubsub, topic, appId, "entryId is duplicated or not present for entry");
            }

            // Request metadata goes under the entry's own, but only for an entry that has metadata at all.
            var metadata = entryMetadata;
            if (metadata is not null)
            {
                foreach (var (name, value) in requestMetadata)
                {
                    metadata.TryAdd(name, value);
                }
            }

            // Each event gets a span of its own, so every CloudEvent carries its own traceparent.
            using var activity = SidecarTelemetry.Source.StartActivity("publish", ActivityKind.Producer);
            var data = raw ? payload : Envelope(appId, pubsub, topic, payload, contentType, metadata ?? new Dictionary<string, string>(StringComparer.Ordinal), activity ?? Activity.Current);
            messages.Add((entryId, new PubSubMessage(topic, data, metadata)));
        }

        var failed = new List<(string EntryId, string Error)>();
        foreach (var (entryId, message) in messages)
        {
            try
            {
                await pubsub.PublishAsync(message, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                failed.Add((entryId, exception.Message));
            }
        }

        return failed;
    }

    private static async Task PublishAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        await PublishAsync(context.RequestServices, Route(context, "pubsubName"), Route(context, "topic"), buffer.ToArray(), context.Request.ContentType,
            RequestMetadata.FromQuery(context.Request.Query), context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task BulkPublishAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var failed = await BulkPublishAsync(context.RequestServices, Route(context, "pubsubName"), Route(context, "topic"), RequestMetadata.FromQuery(context.Request.Query),
            (pubsub, topic, appId) => ReadBulkEntries(pubsub, topic, appId, buffer.ToArray()), context.RequestAborted);
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

    /// <summary>The entries of a JSON body as daprd reads them: each event turned into bytes for its content type (<c>ConvertEventToBytes</c>).</summary>
    private static List<BulkEntry> ReadBulkEntries(IPubSub pubsub, string topic, string appId, byte[] body)
    {
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
            return document.RootElement.ValueKind == JsonValueKind.Array
                ? [.. document.RootElement.EnumerateArray().Select(element => ReadBulkEntry(element, pubsub, topic, appId))]
                : [];
        }
    }

    private static BulkEntry ReadBulkEntry(JsonElement entry, IPubSub pubsub, string topic, string appId)
    {
        string? entryId, contentType;
        Dictionary<string, string>? metadata;
        try
        {
            entryId = OptionalString(entry, "entryId");
            contentType = OptionalString(entry, "contentType") ?? "";
            metadata = entry.TryGetField("metadata", out var metadataElement) && metadataElement.ValueKind != JsonValueKind.Null
                ? RequestMetadata.FromJson(metadataElement, "metadata")
                : null;
        }
        catch (JsonException exception)
        {
            throw UnmarshalFailed(pubsub, topic, appId, exception);
        }

        try
        {
            return new BulkEntry(entryId ?? "", EventBytes(entry.TryGetField("event", out var eventElement) ? eventElement : default, contentType), contentType, metadata);
        }
        catch (FormatException exception)
        {
            throw MarshalFailed(pubsub, topic, appId, exception.Message);
        }
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

    private static byte[] Envelope(string appId, IPubSub pubsub, string topic, byte[] body, string? contentType, IReadOnlyDictionary<string, string> metadata, Activity? activity)
    {
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
    private static (IPubSub PubSub, string Topic) Find(PubSubs pubsubs, string name, string topic, Dictionary<string, string> metadata)
    {
        if (!pubsubs.Any)
        {
            throw new DaprErrorException(new DaprError(StatusCodes.Status400BadRequest, "ERR_PUBSUB_NOT_CONFIGURED", $"pubsub {name} is not configured", "DAPR_PUBSUB_NOT_CONFIGURED")
            {
                GrpcCode = Grpc.Core.StatusCode.FailedPrecondition,
            });
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

        return entry.StringField(name);
    }

    private static string Route(HttpContext context, string name) => (string?)context.Request.RouteValues[name] ?? "";

    private static string AppId(IServiceProvider services) => services.GetRequiredService<SidecarOptions>().AppId;

    /// <summary>One bulk entry as daprd hands it on: the event's bytes, its content type, and its metadata (null when it has none).</summary>
    public sealed record BulkEntry(string EntryId, byte[] Payload, string ContentType, Dictionary<string, string>? Metadata);
}
