namespace Gatehouse.Config;

/// <summary>
/// <c>tracing</c>: distributed tracing as Kratos and Hydra configure it (ory/x <c>otelx</c>). Unset <c>provider</c>: no
/// tracing at all, and nothing is registered that would cost a request anything.
/// </summary>
public sealed class TracingOptions
{
    /// <summary>Kratos's default <c>service_name</c> (<c>driver/config/config.go</c> <c>Tracing</c>); Hydra's is "Ory Hydra".</summary>
    public const string DefaultServiceName = "Ory Kratos";

    /// <summary><c>otel</c> (OTLP over HTTP), <c>zipkin</c>, or <c>jaeger</c> (refused at start); empty: off.</summary>
    public string? Provider { get; set; }

    public string? ServiceName { get; set; }

    public string? DeploymentEnvironment { get; set; }

    public TracingProvidersOptions Providers { get; set; } = new();

    /// <summary>Whether a backend is configured.</summary>
    public bool Enabled => !string.IsNullOrEmpty(Provider);
}

/// <summary><c>tracing.providers</c>.</summary>
public sealed class TracingProvidersOptions
{
    public OtlpTracingOptions Otlp { get; set; } = new();
    public ZipkinTracingOptions Zipkin { get; set; } = new();
    public JaegerTracingOptions Jaeger { get; set; } = new();
}

/// <summary><c>tracing.providers.otlp</c>.</summary>
public sealed class OtlpTracingOptions
{
    /// <summary><c>host:port</c> of the OTLP/HTTP receiver (no scheme: <see cref="Insecure"/> picks it).</summary>
    public string? ServerUrl { get; set; }

    /// <summary>Plain http when true; https otherwise, as Go's <c>otlptracehttp</c> without <c>WithInsecure</c>.</summary>
    public bool Insecure { get; set; }

    public TracingSamplingOptions Sampling { get; set; } = new();

    /// <summary>Unset: 1, every trace (Kratos's <c>Float64F(..., 1)</c>).</summary>
    public double EffectiveSamplingRatio => Sampling.SamplingRatio ?? 1;

    /// <summary>The <c>Authorization</c> header value of every export. A secret: never logged or echoed.</summary>
    public string? AuthorizationHeader { get; set; }
}

/// <summary><c>tracing.providers.zipkin</c>.</summary>
public sealed class ZipkinTracingOptions
{
    public string? ServerUrl { get; set; }

    /// <summary>
    /// Kratos reads the zipkin ratio without a default (ory/x <c>configx</c> <c>TracingConfig</c>), so an unset one is 0:
    /// only requests whose caller already sampled them would be traced — and Kratos installs no propagator for zipkin.
    /// </summary>
    public TracingSamplingOptions Sampling { get; set; } = new();

    public double EffectiveSamplingRatio => Sampling.SamplingRatio ?? 0;
}

/// <summary><c>tracing.providers.*.sampling</c> of otlp and zipkin.</summary>
public sealed class TracingSamplingOptions
{
    /// <summary>
    /// The share of traces sampled when the request carries no sampling decision of its caller; unset: the provider's
    /// default (otlp 1, zipkin 0). Any number, as Kratos's schema (ory/x <c>otelx/config.schema.json</c>) takes it: Go's
    /// <c>TraceIDRatioBased</c> treats 1 or more as 1 and 0 or less as 0, and so does Gatehouse.
    /// </summary>
    public double? SamplingRatio { get; set; }
}

/// <summary><c>tracing.providers.jaeger</c>: accepted so Kratos configs load; <c>provider: jaeger</c> itself is refused.</summary>
public sealed class JaegerTracingOptions
{
    public string? LocalAgentAddress { get; set; }
    public JaegerSamplingOptions Sampling { get; set; } = new();
}

/// <summary><c>tracing.providers.jaeger.sampling</c>.</summary>
public sealed class JaegerSamplingOptions
{
    public string? ServerUrl { get; set; }
    public double TraceIdRatio { get; set; } = 1;
}
