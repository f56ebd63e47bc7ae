using System.Diagnostics;
using Gatehouse.Http.Tracing;

namespace Gatehouse.Tests.Http.Tracing;

/// <summary>
/// The incoming trace context Kratos's propagators read (W3C trace context, Jaeger, B3 single and multi; later formats
/// win), turned into the W3C <c>traceparent</c> ASP.NET Core parents a request's activity with.
/// </summary>
public sealed class KratosTracePropagatorTests
{
    private const string Trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string Span = "00f067aa0ba902b7";

    [Fact]
    public void W3C_traceparent_and_tracestate_pass_through()
    {
        var (id, state) = Extract(KratosTracePropagator.All, ("traceparent", $"00-{Trace}-{Span}-01"), ("tracestate", "vendor=x"));
        Assert.Equal($"00-{Trace}-{Span}-01", id);
        Assert.Equal("vendor=x", state);
    }

    [Theory]
    [InlineData($"{Trace}-{Span}-1", $"00-{Trace}-{Span}-01")]
    [InlineData($"{Trace}-{Span}-d", $"00-{Trace}-{Span}-01")]
    [InlineData($"{Trace}-{Span}-0", $"00-{Trace}-{Span}-00")]
    [InlineData($"{Trace}-{Span}", $"00-{Trace}-{Span}-00")]
    [InlineData($"{Trace}-{Span}-1-0000000000000001", $"00-{Trace}-{Span}-01")]
    [InlineData($"a3ce929d0e0e4736-{Span}-1", $"00-0000000000000000a3ce929d0e0e4736-{Span}-01")]
    public void B3_single_header(string header, string expected) =>
        Assert.Equal(expected, Extract(KratosTracePropagator.All, ("b3", header)).TraceId);

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData($"{Trace}")]
    [InlineData($"{Trace}-{Span}-x")]
    [InlineData($"00000000000000000000000000000000-{Span}-1")]
    [InlineData($"{Trace}-00f067aa0ba902-1")]
    [InlineData($"{Trace}-{Span}-1-2-3")]
    public void B3_single_headers_that_name_no_parent_are_ignored(string header) =>
        Assert.Null(Extract(KratosTracePropagator.All, ("b3", header)).TraceId);

    [Theory]
    [InlineData("1", null, "01")]
    [InlineData("true", null, "01")]
    [InlineData("0", null, "00")]
    [InlineData(null, "1", "01")]
    [InlineData(null, null, "00")]
    public void B3_multiple_headers(string? sampled, string? flags, string expectedFlags)
    {
        var headers = new List<(string, string)> { ("X-B3-TraceId", Trace), ("X-B3-SpanId", Span) };
        if (sampled is not null) headers.Add(("X-B3-Sampled", sampled));
        if (flags is not null) headers.Add(("X-B3-Flags", flags));
        Assert.Equal($"00-{Trace}-{Span}-{expectedFlags}", Extract(KratosTracePropagator.All, [.. headers]).TraceId);
    }

    [Theory]
    [InlineData($"{Trace}:{Span}:0:1", $"00-{Trace}-{Span}-01")]
    [InlineData($"{Trace}:{Span}:0:3", $"00-{Trace}-{Span}-01")]
    [InlineData($"{Trace}:{Span}:0:0", $"00-{Trace}-{Span}-00")]
    [InlineData($"{Trace}%3A{Span}%3A0%3A1", $"00-{Trace}-{Span}-01")]
    [InlineData($"abc:{Span}:0:1", $"00-00000000000000000000000000000abc-{Span}-01")]
    public void Jaeger_uber_trace_id(string header, string expected) =>
        Assert.Equal(expected, Extract(KratosTracePropagator.All, ("uber-trace-id", header)).TraceId);

    [Theory]
    [InlineData($"{Trace}:{Span}:0")]
    [InlineData($"0:{Span}:0:1")]
    [InlineData($"{Trace}:xyz:0:1")]
    public void Jaeger_headers_that_name_no_parent_are_ignored(string header) =>
        Assert.Null(Extract(KratosTracePropagator.All, ("uber-trace-id", header)).TraceId);

    [Fact]
    public void B3_wins_over_jaeger_which_wins_over_traceparent_and_tracestate_goes_with_traceparent()
    {
        var w3c = $"00-{Trace}-{Span}-01";
        const string JaegerTrace = "11111111111111111111111111111111";
        const string B3Trace = "22222222222222222222222222222222";
        Assert.Equal($"00-{JaegerTrace}-{Span}-01", Extract(KratosTracePropagator.All, ("traceparent", w3c), ("tracestate", "a=b"), ("uber-trace-id", $"{JaegerTrace}:{Span}:0:1")).TraceId);
        var (id, state) = Extract(KratosTracePropagator.All, ("traceparent", w3c), ("tracestate", "a=b"), ("uber-trace-id", $"{JaegerTrace}:{Span}:0:1"), ("b3", $"{B3Trace}-{Span}-0"));
        Assert.Equal($"00-{B3Trace}-{Span}-00", id);
        Assert.Null(state);
        // A broken later header does not erase a good earlier one.
        Assert.Equal(w3c, Extract(KratosTracePropagator.All, ("traceparent", w3c), ("b3", "garbage")).TraceId);
    }

    [Fact]
    public void None_reads_nothing_as_Kratos_zipkin_provider()
    {
        var (id, state) = Extract(KratosTracePropagator.None, ("traceparent", $"00-{Trace}-{Span}-01"), ("b3", $"{Trace}-{Span}-1"), ("baggage", "k=v"));
        Assert.Null(id);
        Assert.Null(state);
        Assert.Null(KratosTracePropagator.None.ExtractBaggage(Headers([("baggage", "k=v")]), Getter));
    }

    [Fact]
    public void W3C_baggage_is_read()
    {
        var baggage = KratosTracePropagator.All.ExtractBaggage(Headers([("baggage", "k=v")]), Getter);
        Assert.Contains(new KeyValuePair<string, string?>("k", "v"), baggage!);
    }

    [Theory]
    [InlineData(true, "01", "1")]
    [InlineData(false, "00", "0")]
    public void Inject_writes_every_format_Kratos_otel_provider_writes(bool sampled, string w3cFlags, string flag)
    {
        var parent = new ActivityContext(ActivityTraceId.CreateFromString(Trace), ActivitySpanId.CreateFromString(Span), sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None, "vendor=x", isRemote: true);
        using var activity = new Activity("HTTP POST").SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
        activity.TraceStateString = "vendor=x";
        activity.AddBaggage("tenant", "acme corp");
        activity.Start();
        var span = activity.SpanId.ToHexString();

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        KratosTracePropagator.All.Inject(activity, headers, (carrier, name, value) => ((Dictionary<string, string>)carrier!)[name] = value);

        Assert.Equal($"00-{Trace}-{span}-{w3cFlags}", headers["traceparent"]);
        Assert.Equal("vendor=x", headers["tracestate"]);
        Assert.Equal($"{Trace}:{span}:0:{flag}", headers["uber-trace-id"]);
        Assert.Equal($"{Trace}-{span}-{flag}", headers["b3"]);
        Assert.Equal(Trace, headers["X-B3-TraceId"]);
        Assert.Equal(span, headers["X-B3-SpanId"]);
        Assert.Equal(flag, headers["X-B3-Sampled"]);
        Assert.Equal("tenant=acme%20corp", headers["baggage"]);
        Assert.Equal(8, headers.Count); // every field but X-B3-Flags, which Go's b3 propagator writes only for debug

        // What Gatehouse writes, Gatehouse (and so Kratos) reads back: each format names the same parent.
        foreach (var only in new[] { "traceparent", "uber-trace-id", "b3" })
        {
            var (id, _) = Extract(KratosTracePropagator.All, (only, headers[only]));
            Assert.Equal($"00-{Trace}-{span}-{w3cFlags}", id);
        }
    }

    [Fact]
    public void Inject_without_propagation_writes_nothing_as_Kratos_zipkin_provider()
    {
        using var activity = new Activity("HTTP GET").SetIdFormat(ActivityIdFormat.W3C).Start();
        var headers = new Dictionary<string, string>();
        KratosTracePropagator.None.Inject(activity, headers, (carrier, name, value) => ((Dictionary<string, string>)carrier!)[name] = value);
        Assert.Empty(headers);
    }

    private static (string? TraceId, string? TraceState) Extract(DistributedContextPropagator propagator, params (string Name, string Value)[] headers)
    {
        propagator.ExtractTraceIdAndState(Headers(headers), Getter, out var id, out var state);
        // What ASP.NET Core then does with it.
        if (id is not null) Assert.True(ActivityContext.TryParse(id, state, isRemote: true, out _), $"{id} is not a traceparent ASP.NET Core can parse");
        return (id, state);
    }

    private static Dictionary<string, string> Headers((string Name, string Value)[] headers) =>
        headers.ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase);

    private static void Getter(object? carrier, string name, out string? value, out IEnumerable<string>? values)
    {
        values = null;
        value = ((Dictionary<string, string>)carrier!).TryGetValue(name, out var found) ? found : null;
    }
}
