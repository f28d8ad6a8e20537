namespace CloudScale.Testing.Otlp;

/// <summary>
/// Reads the fields of an OTLP <c>ExportTraceServiceRequest</c> that tests check (field numbers from
/// opentelemetry-proto: request.resource_spans=1; ResourceSpans.resource=1, scope_spans=2; Resource.attributes=1;
/// KeyValue.key=1, value=2; AnyValue.string_value=1; ScopeSpans.scope=1, spans=2; InstrumentationScope.name=1; Span.trace_id=1, span_id=2,
/// parent_span_id=4, name=5, kind=6) and skips every other field.
/// </summary>
internal static class TraceRequestDecoder
{
    public static IEnumerable<ExportedSpan> Decode(byte[] request)
    {
        var spans = new List<ExportedSpan>();
        foreach (var resourceSpans in Fields(request).Where(field => field.Number == 1).Select(field => field.Bytes))
        {
            var service = "";
            var scopeSpans = new List<byte[]>();
            foreach (var field in Fields(resourceSpans))
            {
                if (field.Number == 1)
                {
                    service = ServiceName(field.Bytes) ?? service;
                }
                else if (field.Number == 2)
                {
                    scopeSpans.Add(field.Bytes);
                }
            }

            foreach (var scope in scopeSpans)
            {
                var fields = Fields(scope).ToList();
                var scopeName = fields.FirstOrDefault(field => field.Number == 1) is { } instrumentation
                    ? Fields(instrumentation.Bytes).FirstOrDefault(field => field.Number == 1)?.Text ?? ""
                    : "";
                spans.AddRange(fields.Where(field => field.Number == 2).Select(field => Span(service, scopeName, field.Bytes)));
            }
        }

        return spans;
    }

    private static string? ServiceName(byte[] resource)
    {
        foreach (var attribute in Fields(resource).Where(field => field.Number == 1))
        {
            var fields = Fields(attribute.Bytes).ToList();
            if (fields.FirstOrDefault(field => field.Number == 1)?.Text == "service.name")
            {
                var value = fields.FirstOrDefault(field => field.Number == 2);
                return value is null ? null : Fields(value.Bytes).FirstOrDefault(field => field.Number == 1)?.Text;
            }
        }

        return null;
    }

    private static ExportedSpan Span(string service, string scope, byte[] span)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null;
        var kind = 0;
        foreach (var field in Fields(span))
        {
            switch (field.Number)
            {
                case 1: traceId = Convert.ToHexStringLower(field.Bytes); break;
                case 2: spanId = Convert.ToHexStringLower(field.Bytes); break;
                case 4: parent = field.Bytes.Length == 0 ? null : Convert.ToHexStringLower(field.Bytes); break;
                case 5: name = field.Text; break;
                case 6: kind = (int)field.Varint; break;
            }
        }

        return new ExportedSpan(service, traceId, spanId, parent, name, kind, scope);
    }

    private sealed record Field(int Number, ulong Varint, byte[] Bytes)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Bytes);
    }

    private static IEnumerable<Field> Fields(byte[] message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var key = ReadVarint(message, ref position);
            var number = (int)(key >> 3);
            switch (key & 7)
            {
                case 0:
                    yield return new Field(number, ReadVarint(message, ref position), []);
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    yield return new Field(number, 0, message[position..(position + length)]);
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {key & 7} at byte {position}.");
            }
        }
    }

    private static ulong ReadVarint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var current = message[position++];
            value |= (ulong)(current & 0x7F) << shift;
            if (current < 0x80)
            {
                return value;
            }
        }
    }
}
