using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CloudScale.Sidecar.PubSub;

/// <summary>
/// The CloudEvent envelope daprd builds on publish (contrib <c>NewCloudEventsEnvelope</c>), an incoming CloudEvent
/// completed the way daprd's <c>FromCloudEvent</c> does, and the event daprd makes up for a raw payload. All are
/// written as daprd writes them: <c>encoding/json</c> of a Go map, keys sorted, data numbers as published.
/// </summary>
internal static class CloudEvents
{
    public const string ContentType = "application/cloudevents+json";
    public const string DefaultType = "com.dapr.event.sent";

    /// <summary>The envelope for a published body. Throws <see cref="JsonException"/> when a CloudEvent body is not a JSON object.</summary>
    public static byte[] Build(
        ReadOnlySpan<byte> body,
        string? contentType,
        string pubsubName,
        string topic,
        string source,
        IReadOnlyDictionary<string, string> metadata,
        Activity? activity)
    {
        var fields = new Dictionary<string, Action<Utf8JsonWriter>>(StringComparer.Ordinal);
        var traceparent = activity?.Id ?? "";
        var tracestate = activity?.TraceStateString ?? "";
        if (IsContentType(contentType, ContentType))
        {
            CompleteIncoming(fields, body, pubsubName, topic, source, traceparent, tracestate);
        }
        else
        {
            NewEnvelope(fields, body, contentType, pubsubName, topic, source, traceparent, tracestate);

            // daprd applies the cloudevent.* overrides to envelopes it builds, not to CloudEvents passed through.
            foreach (var field in new[] { "id", "source", "type", "traceid", "traceparent", "tracestate", "subject" })
            {
                if (metadata.TryGetValue("cloudevent." + field, out var overridden))
                {
                    fields[field] = writer => writer.WriteStringValue(overridden);
                }
            }
        }

        // pubsub.redis has no native message TTL: daprd adds "expiration" and subscribers drop the event once it passes.
        if (metadata.TryGetValue("ttlInSeconds", out var ttlText) && long.TryParse(ttlText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ttl) && ttl > 0)
        {
            // Go's time.Duration saturates at maxInt64 nanoseconds.
            var expiration = DateTimeOffset.UtcNow.AddSeconds(Math.Min(ttl, long.MaxValue / 1_000_000_000)).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            fields["expiration"] = writer => writer.WriteStringValue(expiration);
        }

        return Serialize(fields);
    }

    /// <summary>
    /// What daprd delivers for a <c>rawPayload</c> subscription (<c>FromRawPayload</c>), with the trace context of the
    /// message metadata when it has one (traceparent supersedes traceid).
    /// </summary>
    public static byte[] FromRawPayload(byte[] data, string topic, string pubsubName, IReadOnlyDictionary<string, string> metadata)
    {
        var fields = new Dictionary<string, Action<Utf8JsonWriter>>(StringComparer.Ordinal)
        {
            ["id"] = writer => writer.WriteStringValue(Guid.NewGuid().ToString()),
            ["specversion"] = writer => writer.WriteStringValue("1.0"),
            ["datacontenttype"] = writer => writer.WriteStringValue("application/octet-stream"),
            ["source"] = writer => writer.WriteStringValue("Dapr"),
            ["type"] = writer => writer.WriteStringValue(DefaultType),
            ["topic"] = writer => writer.WriteStringValue(topic),
            ["pubsubname"] = writer => writer.WriteStringValue(pubsubName),
            ["data_base64"] = writer => writer.WriteBase64StringValue(data),
        };
        foreach (var (field, source) in new[] { ("traceid", "traceid"), ("traceparent", "traceparent"), ("traceid", "traceparent"), ("tracestate", "tracestate") })
        {
            if (metadata.TryGetValue(source, out var value))
            {
                fields[field] = writer => writer.WriteStringValue(value);
            }
        }

        return Serialize(fields);
    }

    /// <summary>contrib's <c>isContentType</c>: the media type, case-insensitive, optionally followed directly by ';' and parameters.</summary>
    public static bool IsContentType(string? contentType, string expected)
    {
        if (contentType is null)
        {
            return false;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? contentType : contentType[..semicolon]).Equals(expected, StringComparison.OrdinalIgnoreCase);
    }

    private static void CompleteIncoming(Dictionary<string, Action<Utf8JsonWriter>> fields, ReadOnlySpan<byte> body, string pubsubName, string topic, string source, string traceparent, string tracestate)
    {
        using var incoming = JsonDocument.Parse(body.ToArray());
        if (incoming.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException($"a CloudEvent must be a JSON object, not {incoming.RootElement.ValueKind}");
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

    private static void NewEnvelope(Dictionary<string, Action<Utf8JsonWriter>> fields, ReadOnlySpan<byte> body, string? contentType, string pubsubName, string topic, string source, string traceparent, string tracestate)
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

    private static void AddData(Dictionary<string, Action<Utf8JsonWriter>> fields, byte[] body, string contentType)
    {
        if (IsContentType(contentType, "application/json"))
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
                // daprd keeps a body it cannot parse as a string.
            }
        }
        else if (IsContentType(contentType, "application/octet-stream"))
        {
            fields["data_base64"] = writer => writer.WriteBase64StringValue(body);
            return;
        }

        var text = Encoding.UTF8.GetString(body);
        fields["data"] = writer => writer.WriteStringValue(text);
    }

    /// <summary>Writes the fields as one object and re-encodes it as Go's <c>json.Marshal</c> would.</summary>
    private static byte[] Serialize(Dictionary<string, Action<Utf8JsonWriter>> fields)
    {
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

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return GoJson.EncodingJsonKeepingNumbers(document.RootElement);
    }

    /// <summary>Go's <c>time.Now().Format(time.RFC3339)</c>: local offset, whole seconds, Z when UTC.</summary>
    private static string Now()
    {
        var now = DateTimeOffset.Now;
        return now.Offset == TimeSpan.Zero
            ? now.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)
            : now.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
    }
}
