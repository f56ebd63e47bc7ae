using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Tests.Http.Tracing;

/// <summary>One span of an OTLP export: ids as lower-case hex, kind and status code as OTLP numbers them.</summary>
/// <param name="Kind">1 internal, 2 server, 3 client.</param>
/// <param name="StatusCode">0 unset, 1 ok, 2 error.</param>
public sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, int StatusCode, string StatusMessage, IReadOnlyDictionary<string, object> Attributes)
{
    public object? this[string attribute] => Attributes.GetValueOrDefault(attribute);
}

/// <summary>
/// Reads the spans out of an OTLP/HTTP protobuf body (<c>ExportTraceServiceRequest</c>): only the fields the tests look
/// at, by their numbers in opentelemetry-proto's <c>trace.proto</c> and <c>common.proto</c>; any other field is skipped.
/// </summary>
public static class OtlpSpans
{
    public static IReadOnlyList<OtlpSpan> Read(byte[] body)
    {
        var spans = new List<OtlpSpan>();
        foreach (var (field, resourceSpans) in Fields(body))
        {
            if (field != 1) continue; // resource_spans
            foreach (var (f2, scopeSpans) in Fields(resourceSpans))
            {
                if (f2 != 2) continue; // scope_spans
                foreach (var (f3, span) in Fields(scopeSpans))
                {
                    if (f3 == 2) spans.Add(Span(span)); // spans
                }
            }
        }
        return spans;
    }

    private static OtlpSpan Span(ReadOnlyMemory<byte> span)
    {
        string traceId = "", spanId = "", parent = "", name = "", statusMessage = "";
        int kind = 0, statusCode = 0;
        var attributes = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (field, value) in Fields(span))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value.Span); break;
                case 2: spanId = Convert.ToHexStringLower(value.Span); break;
                case 4: parent = Convert.ToHexStringLower(value.Span); break;
                case 5: name = Encoding.UTF8.GetString(value.Span); break;
                case 6: kind = (int)Varint(value); break;
                case 9:
                    var (key, attribute) = KeyValue(value);
                    attributes[key] = attribute;
                    break;
                case 15:
                    foreach (var (sf, sv) in Fields(value))
                    {
                        if (sf == 2) statusMessage = Encoding.UTF8.GetString(sv.Span);
                        if (sf == 3) statusCode = (int)Varint(sv);
                    }
                    break;
            }
        }
        return new OtlpSpan(traceId, spanId, parent, name, kind, statusCode, statusMessage, attributes);
    }

    // KeyValue { key = 1; AnyValue value = 2 }, AnyValue { string 1; bool 2; int 3; double 4 }.
    private static (string Key, object Value) KeyValue(ReadOnlyMemory<byte> kv)
    {
        var key = "";
        object value = "";
        foreach (var (field, content) in Fields(kv))
        {
            if (field == 1) key = Encoding.UTF8.GetString(content.Span);
            if (field != 2) continue;
            foreach (var (vf, v) in Fields(content))
            {
                value = vf switch
                {
                    1 => Encoding.UTF8.GetString(v.Span),
                    2 => Varint(v) != 0,
                    3 => (long)Varint(v),
                    4 => BitConverter.Int64BitsToDouble((long)BinaryPrimitives.ReadUInt64LittleEndian(v.Span)),
                    _ => value,
                };
            }
        }
        return (key, value);
    }

    /// <summary>
    /// The fields of a message: a varint field's value as its raw varint bytes, a fixed one's as its 4 or 8 bytes, a
    /// length-delimited one's as its content.
    /// </summary>
    private static IEnumerable<(int Field, ReadOnlyMemory<byte> Value)> Fields(ReadOnlyMemory<byte> message)
    {
        var at = 0;
        while (at < message.Length)
        {
            var tag = ReadVarint(message.Span, ref at);
            var field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    var start = at;
                    ReadVarint(message.Span, ref at);
                    yield return (field, message[start..at]);
                    break;
                case 1:
                    yield return (field, message.Slice(at, 8));
                    at += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message.Span, ref at);
                    yield return (field, message.Slice(at, length));
                    at += length;
                    break;
                case 5:
                    yield return (field, message.Slice(at, 4));
                    at += 4;
                    break;
                default:
                    throw new FormatException($"unsupported protobuf wire type {tag & 7}");
            }
        }
    }

    private static ulong Varint(ReadOnlyMemory<byte> bytes)
    {
        var at = 0;
        return ReadVarint(bytes.Span, ref at);
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value;
        }
    }
}
