using Gatehouse.Http.Outbound;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Gatehouse.Http.Tracing;

/// <summary>Logs the configured backend once at start, in Kratos's words, and disables the instrumentation's own re-extraction.</summary>
internal sealed class TracingStartup(TracingExporter exporter, ILogger<TracingStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The ASP.NET Core instrumentation re-reads the trace context with OpenTelemetry's global propagator unless
        // that is exactly the W3C one (then it trusts what ASP.NET Core read through KratosTracePropagator). Set it
        // so, or it would re-parent a span from traceparent where Kratos's order lets b3 win, or under zipkin.
        Sdk.SetDefaultTextMapPropagator(new TraceContextPropagator());
        logger.LogInformation("{Backend} tracer configured! Sending spans to {Endpoint} (sampling ratio {Ratio}, service name \"{ServiceName}\")",
            exporter.Kind == TracingExporterKind.Otlp ? "OTLP" : "Zipkin", LoggedUrl.FromUri(exporter.Endpoint), exporter.SamplingRatio, exporter.ServiceName);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
