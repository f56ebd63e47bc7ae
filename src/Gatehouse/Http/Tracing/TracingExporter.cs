using Gatehouse.Config;

namespace Gatehouse.Http.Tracing;

public enum TracingExporterKind
{
    Otlp,
    Zipkin,
}

/// <summary>Where spans go and how they are sampled, derived from a validated <c>tracing</c> section.</summary>
public sealed record TracingExporter(TracingExporterKind Kind, Uri Endpoint, double SamplingRatio, string ServiceName, bool Propagates)
{
    /// <summary>
    /// <c>otel</c>: <c>{http|https}://{server_url}/v1/traces</c> (Go's <c>otlptracehttp</c> with <c>WithEndpoint</c>,
    /// https unless <c>insecure</c>), ratio default 1, Kratos's four propagators. <c>zipkin</c>: the URL as configured,
    /// ratio default 0, no propagator (Kratos installs none for it).
    /// </summary>
    public static TracingExporter From(TracingOptions tracing)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        var serviceName = string.IsNullOrEmpty(tracing.ServiceName) ? TracingOptions.DefaultServiceName : tracing.ServiceName;
        return tracing.Provider switch
        {
            "otel" => new(TracingExporterKind.Otlp, OtlpEndpoint(tracing.Providers.Otlp), tracing.Providers.Otlp.EffectiveSamplingRatio, serviceName, Propagates: true),
            "zipkin" => new(TracingExporterKind.Zipkin, new Uri(tracing.Providers.Zipkin.ServerUrl!), tracing.Providers.Zipkin.EffectiveSamplingRatio, serviceName, Propagates: false),
            _ => throw new ConfigException($"tracing.provider: expected one of \"otel\", \"zipkin\", got \"{tracing.Provider}\""),
        };
    }

    public static Uri OtlpEndpoint(OtlpTracingOptions otlp)
    {
        ArgumentNullException.ThrowIfNull(otlp);
        return new Uri($"{(otlp.Insecure ? "http" : "https")}://{otlp.ServerUrl}/v1/traces");
    }
}
