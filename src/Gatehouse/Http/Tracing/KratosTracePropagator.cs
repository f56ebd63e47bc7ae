using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Gatehouse.Http.Tracing;

/// <summary>
/// How an incoming request's trace context is read, and an outgoing request's written, when tracing is on: the propagators Kratos installs for
/// <c>otel</c> (and <c>jaeger</c>) — W3C <c>traceparent</c>/<c>tracestate</c>, Jaeger's <c>uber-trace-id</c>, B3 (the
/// single <c>b3</c> header or the <c>X-B3-*</c> headers) and W3C <c>baggage</c> — in Kratos's order, where a later
/// format that is present wins (Go's composite propagator extracts each in turn). For <c>zipkin</c> Kratos installs none
/// (ory/x <c>otelx/zipkin.go</c> sets no propagator), so every request starts a new trace and outgoing requests carry no
/// trace headers: <see cref="None"/>.
/// </summary>
/// <remarks>
/// ASP.NET Core's hosting layer reads the parent of a request's <see cref="Activity"/> through the
/// <see cref="DistributedContextPropagator"/> registered in the app's services, so this class is registered there (per
/// app, not as the process-wide <see cref="DistributedContextPropagator.Current"/>); <see cref="OutgoingRequestTracing"/>
/// injects through it. Written here because the B3 and
/// Jaeger propagators of OpenTelemetry .NET (<c>OpenTelemetry.Extensions.Propagators</c>) are not served by the package
/// source this project uses; the formats are small and fixed, and tests cover each.
/// </remarks>
public sealed class KratosTracePropagator : DistributedContextPropagator
{
    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";
    private const string UberTraceId = "uber-trace-id";
    private const string B3Single = "b3";
    private const string B3TraceId = "X-B3-TraceId";
    private const string B3SpanId = "X-B3-SpanId";
    private const string B3Sampled = "X-B3-Sampled";
    private const string B3Flags = "X-B3-Flags";

    private static readonly DistributedContextPropagator W3C = CreateDefaultPropagator();

    private readonly bool _propagates;

    private KratosTracePropagator(bool propagates) => _propagates = propagates;

    /// <summary>W3C trace context, Jaeger, B3 and W3C baggage, as Kratos's <c>otel</c> and <c>jaeger</c> providers.</summary>
    public static KratosTracePropagator All { get; } = new(propagates: true);

    /// <summary>No incoming context is read, as Kratos's <c>zipkin</c> provider.</summary>
    public static KratosTracePropagator None { get; } = new(propagates: false);

    public override IReadOnlyCollection<string> Fields { get; } = [TraceParent, TraceState, UberTraceId, B3Single, B3TraceId, B3SpanId, B3Sampled, B3Flags, "baggage"];

    /// <summary>
    /// Writes the context of <paramref name="activity"/> (an outgoing request's client span) as Kratos's composite
    /// propagator does, in its order: W3C <c>traceparent</c> (+ <c>tracestate</c> when there is one), Jaeger's
    /// <c>uber-trace-id</c> (<c>{trace}:{span}:0:{flags}</c>), B3 both single (<c>b3</c>) and multi (<c>X-B3-TraceId</c>,
    /// <c>X-B3-SpanId</c>, <c>X-B3-Sampled</c>: <c>b3.WithInjectEncoding(B3MultipleHeader|B3SingleHeader)</c>), and W3C
    /// <c>baggage</c> when the request carries any. <see cref="None"/> writes nothing, as Kratos's zipkin provider (Go's
    /// default global propagator injects nothing).
    /// </summary>
    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
    {
        if (!_propagates || activity is null || setter is null || activity.IdFormat != ActivityIdFormat.W3C) return;
        var trace = activity.TraceId.ToHexString();
        var span = activity.SpanId.ToHexString();
        var sampled = activity.Recorded;
        setter(carrier, TraceParent, Format(trace, span, sampled));
        if (!string.IsNullOrEmpty(activity.TraceStateString)) setter(carrier, TraceState, activity.TraceStateString);
        setter(carrier, UberTraceId, $"{trace}:{span}:0:{(sampled ? "1" : "0")}");
        setter(carrier, B3Single, $"{trace}-{span}-{(sampled ? "1" : "0")}");
        setter(carrier, B3TraceId, trace);
        setter(carrier, B3SpanId, span);
        setter(carrier, B3Sampled, sampled ? "1" : "0");
        if (Baggage(activity) is { } baggage) setter(carrier, "baggage", baggage);
    }

    /// <summary>W3C baggage, <c>key=value</c> pairs with percent-encoded values, or null when there is none.</summary>
    internal static string? Baggage(Activity activity)
    {
        StringBuilder? text = null;
        foreach (var (key, value) in activity.Baggage)
        {
            if (string.IsNullOrEmpty(key)) continue;
            text = text is null ? new StringBuilder() : text.Append(',');
            text.Append(key).Append('=').Append(Uri.EscapeDataString(value ?? ""));
        }
        return text?.ToString();
    }

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
    {
        traceId = null;
        traceState = null;
        if (!_propagates || getter is null) return;
        // Kratos's order: tracecontext, jaeger, b3; the last one present wins.
        var w3c = Get(carrier, getter, TraceParent);
        if (w3c is not null && ActivityContext.TryParse(w3c, null, out _))
        {
            traceId = w3c;
            traceState = Get(carrier, getter, TraceState);
        }
        if (Get(carrier, getter, UberTraceId) is { } jaeger && FromJaeger(jaeger) is { } fromJaeger)
        {
            traceId = fromJaeger;
            traceState = null;
        }
        if (FromB3(carrier, getter) is { } fromB3)
        {
            traceId = fromB3;
            traceState = null;
        }
    }

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) =>
        _propagates ? W3C.ExtractBaggage(carrier, getter) : null;

    /// <summary>
    /// Jaeger's <c>{trace-id}:{span-id}:{parent-span-id}:{flags}</c> (hex ids of up to 32 and 16 digits, possibly
    /// URL-encoded), as a W3C <c>traceparent</c>; flags bit 1 (sampled) or 2 (debug) mean sampled.
    /// </summary>
    internal static string? FromJaeger(string value)
    {
        if (value.Contains('%', StringComparison.Ordinal)) value = Uri.UnescapeDataString(value);
        var parts = value.Split(':');
        if (parts.Length != 4) return null;
        if (!TryHexId(parts[0], 32, out var trace) || !TryHexId(parts[1], 16, out var span)) return null;
        if (!int.TryParse(parts[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var flags) || parts[3].Length is 0 or > 2) return null;
        return Format(trace, span, (flags & 0x3) != 0);
    }

    /// <summary>B3: the single <c>b3</c> header first (as Go's b3 propagator), else the <c>X-B3-*</c> headers.</summary>
    internal static string? FromB3(object? carrier, PropagatorGetterCallback getter)
    {
        if (Get(carrier, getter, B3Single) is { } single) return FromB3Single(single);
        if (Get(carrier, getter, B3TraceId) is not { } traceId || Get(carrier, getter, B3SpanId) is not { } spanId) return null;
        if (!TryB3Id(traceId, out var trace) || spanId.Length != 16 || !TryHexId(spanId, 16, out var span)) return null;
        var sampled = Get(carrier, getter, B3Flags) == "1" || Get(carrier, getter, B3Sampled) is "1" or "true";
        return Format(trace, span, sampled);
    }

    /// <summary>
    /// <c>b3: {trace-id}-{span-id}[-{sampling}[-{parent-span-id}]]</c>; sampling <c>1</c> or <c>d</c> (debug) is sampled,
    /// none is deferred, which Go's b3 propagator leaves unsampled too. A sampling state alone (<c>b3: 0</c>) names no
    /// parent.
    /// </summary>
    internal static string? FromB3Single(string value)
    {
        var parts = value.Trim().Split('-');
        if (parts.Length is < 2 or > 4) return null;
        if (!TryB3Id(parts[0], out var trace) || parts[1].Length != 16 || !TryHexId(parts[1], 16, out var span)) return null;
        var sampled = parts.Length > 2 && parts[2] is "1" or "d";
        if (parts.Length > 2 && parts[2] is not ("0" or "1" or "d")) return null;
        return Format(trace, span, sampled);
    }

    // B3 trace ids are 16 or 32 hex digits; a 64-bit one is left-padded to 128 bits.
    private static bool TryB3Id(string text, out string id)
    {
        id = "";
        return text.Length is 16 or 32 && TryHexId(text, 32, out id);
    }

    /// <summary>A non-zero lower-case hex id of at most <paramref name="digits"/> digits, left-padded with zeros.</summary>
    private static bool TryHexId(string text, int digits, out string id)
    {
        id = "";
        if (text.Length is 0 || text.Length > digits || !text.All(char.IsAsciiHexDigit) || text.All(c => c == '0')) return false;
        id = text.ToLowerInvariant().PadLeft(digits, '0');
        return true;
    }

    private static string Format(string trace, string span, bool sampled) => $"00-{trace}-{span}-{(sampled ? "01" : "00")}";

    private static string? Get(object? carrier, PropagatorGetterCallback getter, string name)
    {
        getter(carrier, name, out var value, out var values);
        if (string.IsNullOrEmpty(value) && values is not null) value = values.FirstOrDefault();
        return string.IsNullOrEmpty(value) ? null : value;
    }
}
