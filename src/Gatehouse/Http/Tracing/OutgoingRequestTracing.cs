using System.Diagnostics;
using System.Globalization;
using Gatehouse.Config;
using Gatehouse.Http.Outbound;

namespace Gatehouse.Http.Tracing;

/// <summary>
/// A client span for every outgoing HTTP request and the trace headers that carry it, as Kratos's and Hydra's HTTP client
/// does (ory/x <c>httpx</c> wraps its transport in otelhttp v0.62's <c>Transport</c>): the span is named
/// <c>HTTP {method}</c>, is a child of the span the call is made in (the request's server span, a web hook's span, the
/// courier's dispatch), carries OpenTelemetry's HTTP client attributes and an error status for a failed call or an answer
/// of 400 or more; the headers are those of <see cref="KratosTracePropagator"/> (W3C, Jaeger, B3, baggage with
/// <c>otel</c>; none with <c>zipkin</c>, as Kratos). Only in the chain when <c>tracing.provider</c> is set.
/// </summary>
/// <remarks>
/// Nothing secret reaches the span: <c>url.full</c> is the URL without user info and with a query replaced by <c>?*</c>
/// (<see cref="LoggedUrl"/>; otelhttp keeps the query, but web hook and back-channel URLs may carry tokens there), no
/// request or response header is recorded, and a failure's description is the exception's message, which .NET's HTTP
/// stack writes without the URL.
/// </remarks>
public sealed class OutgoingRequestTracing(DistributedContextPropagator propagator) : DelegatingHandler
{
    /// <summary>The activity source of the client spans (what the tracer provider listens to).</summary>
    public const string SourceName = "Gatehouse.HttpClient";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// <paramref name="inner"/> behind a tracing handler when <c>tracing</c> is on, for the few clients not made by
    /// <see cref="IHttpClientFactory"/> (courier templates, identity schemas); else <paramref name="inner"/> itself.
    /// </summary>
    public static HttpMessageHandler Wrap(GatehouseOptions options, HttpMessageHandler inner)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Tracing.Enabled ? new OutgoingRequestTracing(For(TracingExporter.From(options.Tracing))) { InnerHandler = inner } : inner;
    }

    /// <summary>The propagator outgoing requests are written with: Kratos's four with <c>otel</c>, none with <c>zipkin</c>.</summary>
    public static KratosTracePropagator For(TracingExporter exporter)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        return exporter.Propagates ? KratosTracePropagator.All : KratosTracePropagator.None;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        // otelhttp v0.62's defaultTransportFormatter: "HTTP " + the request's method.
        using var span = Source.StartActivity("HTTP " + request.Method.Method, ActivityKind.Client);
        if (span is { IsAllDataRequested: true }) RequestTags(span, request);
        // Even an unsampled span (created to carry the caller's decision) is propagated, as Go's non-recording span is.
        propagator.Inject(span ?? Activity.Current, request, SetHeader);
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (span is { IsAllDataRequested: true })
            {
                var status = (int)response.StatusCode;
                span.SetTag("http.response.status_code", status);
                if (status >= 400) span.SetTag("error.type", status.ToString(CultureInfo.InvariantCulture));
                if (status is < 100 or >= 600) span.SetStatus(ActivityStatusCode.Error, $"Invalid HTTP status code {status}");
                else if (status >= 400) span.SetStatus(ActivityStatusCode.Error);
            }
            return response;
        }
        catch (Exception e) when (span is { IsAllDataRequested: true })
        {
            span.SetTag("error.type", e.GetType().FullName);
            span.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    /// <summary>otelhttp's <c>RequestTraceAttrs</c> (OpenTelemetry's stable HTTP client conventions).</summary>
    private static void RequestTags(Activity span, HttpRequestMessage request)
    {
        var method = request.Method.Method;
        if (KnownMethods.Contains(method))
        {
            span.SetTag("http.request.method", method);
        }
        else
        {
            span.SetTag("http.request.method", "_OTHER");
            span.SetTag("http.request.method_original", method);
        }
        if (request.RequestUri is not { IsAbsoluteUri: true } url) return;
        span.SetTag("url.full", LoggedUrl.FromUri(url).ToString());
        span.SetTag("server.address", url.IdnHost);
        // Only a port other than the scheme's default (otelhttp's requiredHTTPPort).
        if (!url.IsDefaultPort) span.SetTag("server.port", url.Port);
        span.SetTag("network.protocol.version", request.Version.Minor == 0 && request.Version.Major > 1 ? request.Version.Major.ToString(CultureInfo.InvariantCulture) : request.Version.ToString(2));
    }

    private static readonly HashSet<string> KnownMethods = ["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"];

    // Go's HeaderCarrier.Set: a header the caller set (e.g. a web hook's configured traceparent) is replaced.
    private static void SetHeader(object? carrier, string name, string value)
    {
        var headers = ((HttpRequestMessage)carrier!).Headers;
        headers.Remove(name);
        headers.TryAddWithoutValidation(name, value);
    }
}
