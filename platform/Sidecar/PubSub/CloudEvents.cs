using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CloudScale.Sidecar.PubSub;

/// <summary>
/// The CloudEvent envelope daprd builds on publish (contrib <c>NewCloudEventsEnvelope</c>), written with Go's
/// sorted map keys, or an incoming CloudEvent completed the way daprd's <c>FromCloudEvent</c> does.
/// </summary>
internal static class CloudEvents
{
    public const string ContentType = "application/cloudevents+json";
    public const string DefaultType = "com.dapr.event.sent";

    public static byte[] Build(
        ReadOnlySpan<byte> body,
        string? contentType,
        string pubsubName,
        string topic,
        string source,
        IReadOnlyDictionary<string, string> metadata,
        Activity? activity)
    {
        var fields = new SortedDictionary<string, Action<Utf8JsonWriter>>(StringComparer.Ordinal);
        var traceparent = activity?.Id ?? "";
        var tracestate = activity?.TraceStateString ?? "";
        if (contentType?.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase) == true)
        {
            CompleteIncoming(fields, body, pubsubName, topic, source, traceparent, tracestate);
        }
        else
        {
            NewEnvelope(fields, body, contentType, pubsubName, topic, source, traceparent, tracestate);
        }

        foreach (var field in new[] { "id", "source", "type", "traceid", "traceparent", "tracestate", "subject" })
        {
            if (metadata.TryGetValue("cloudevent." + field, out var overridden))
            {
                fields[field] = writer => writer.WriteStringValue(overridden);
            }
        }

        // pubsub.redis has no native TTL: daprd adds "expiration" and subscribers drop the event once it passes.
        if (metadata.TryGetValue("ttlInSeconds", out var ttlText) && int.TryParse(ttlText, out var ttl) && ttl > 0)
        {
            var expiration = DateTimeOffset.UtcNow.AddSeconds(ttl).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            fields["expiration"] = writer => writer.WriteStringValue(expiration);
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, write) in fields)
            {
                writer.WritePropertyName(name);
                write(writer);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void CompleteIncoming(SortedDictionary<string, Action<Utf8JsonWriter>> fields, ReadOnlySpan<byte> body, string pubsubName, string topic, string source, string traceparent, string tracestate)
    {
        using var incoming = JsonDocument.Parse(body.ToArray());
        if (incoming.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("a CloudEvent must be a JSON object");
        }

        foreach (var property in incoming.RootElement.EnumerateObject())
        {
            var value = property.Value.Clone();
            fields[property.Name] = writer => value.WriteTo(writer);
        }

        fields["topic"] = writer => writer.WriteStringValue(topic);
        fields["pubsubname"] = writer => writer.WriteStringValue(pubsubName);
        fields.TryAdd("time", writer => writer.WriteStringValue(Now()));
        fields.TryAdd("traceid", writer => writer.WriteStringValue(traceparent));
        fields.TryAdd("traceparent", writer => writer.WriteStringValue(traceparent));
        fields.TryAdd("tracestate", writer => writer.WriteStringValue(tracestate));
        fields.TryAdd("source", writer => writer.WriteStringValue(source));
        fields.TryAdd("type", writer => writer.WriteStringValue(DefaultType));
        fields.TryAdd("specversion", writer => writer.WriteStringValue("1.0"));
    }

    private static void NewEnvelope(SortedDictionary<string, Action<Utf8JsonWriter>> fields, ReadOnlySpan<byte> body, string? contentType, string pubsubName, string topic, string source, string traceparent, string tracestate)
    {
        var dataContentType = string.IsNullOrEmpty(contentType) ? "text/plain" : contentType;
        fields["id"] = writer => writer.WriteStringValue(Guid.NewGuid().ToString());
        fields["specversion"] = writer => writer.WriteStringValue("1.0");
        fields["source"] = writer => writer.WriteStringValue(source);
        fields["type"] = writer => writer.WriteStringValue(DefaultType);
        fields["datacontenttype"] = writer => writer.WriteStringValue(dataContentType);
        fields["topic"] = writer => writer.WriteStringValue(topic);
        fields["pubsubname"] = writer => writer.WriteStringValue(pubsubName);
        fields["traceid"] = writer => writer.WriteStringValue(traceparent);
        fields["traceparent"] = writer => writer.WriteStringValue(traceparent);
        fields["tracestate"] = writer => writer.WriteStringValue(tracestate);
        fields["time"] = writer => writer.WriteStringValue(Now());
        AddData(fields, body.ToArray(), dataContentType);
    }

    /// <summary>What daprd delivers for a <c>rawPayload</c> subscription (<c>FromRawPayload</c>).</summary>
    public static byte[] FromRawPayload(byte[] data, string topic, string pubsubName)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBase64String("data_base64", data);
            writer.WriteString("datacontenttype", "application/octet-stream");
            writer.WriteString("id", Guid.NewGuid().ToString());
            writer.WriteString("pubsubname", pubsubName);
            writer.WriteString("source", "Dapr");
            writer.WriteString("specversion", "1.0");
            writer.WriteString("topic", topic);
            writer.WriteString("type", DefaultType);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void AddData(SortedDictionary<string, Action<Utf8JsonWriter>> fields, byte[] body, string contentType)
    {
        var mediaType = contentType.Split(';')[0].Trim().ToLowerInvariant();
        if (mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal))
        {
            try
            {
                var reader = new Utf8JsonReader(body);
                using var document = JsonDocument.ParseValue(ref reader);
                var data = document.RootElement.Clone();
                fields["data"] = writer => data.WriteTo(writer);
                return;
            }
            catch (JsonException)
            {
                // daprd keeps unparsable JSON as a string.
            }
        }
        else if (IsBinary(mediaType))
        {
            fields["data_base64"] = writer => writer.WriteBase64StringValue(body);
            return;
        }

        var text = Encoding.UTF8.GetString(body);
        fields["data"] = writer => writer.WriteStringValue(text);
    }

    private static bool IsBinary(string mediaType) =>
        mediaType is "application/octet-stream" or "application/x-protobuf" or "application/protobuf" ||
        mediaType.StartsWith("image/", StringComparison.Ordinal) || mediaType.StartsWith("audio/", StringComparison.Ordinal) ||
        mediaType.StartsWith("video/", StringComparison.Ordinal);

    /// <summary>Go's <c>time.Now().Format(time.RFC3339)</c>: local offset, whole seconds, Z when UTC.</summary>
    private static string Now()
    {
        var now = DateTimeOffset.Now;
        return now.Offset == TimeSpan.Zero
            ? now.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)
            : now.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
    }
}
