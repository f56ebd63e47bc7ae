using System.Diagnostics;
using Gatehouse.Config;
using Gatehouse.Http.Outbound;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gatehouse.Http.Tracing;

/// <summary>
/// <c>tracing</c>: a server span for every HTTP request on both listeners, exported to OTLP/HTTP or Zipkin, as Kratos's
/// and Hydra's <c>serve</c> wrap their listeners (ory/x <c>otelx.NewMiddleware</c>), a client span with trace headers for
/// every outgoing HTTP call (<see cref="OutgoingRequestTracing"/>), web hook spans, and the courier's dispatch spans.
/// With no <c>tracing.provider</c> nothing is registered: no OpenTelemetry provider, no activity listener, no
/// per-request work.
/// </summary>
public static class TracingServiceCollectionExtensions
{
    /// <summary>Kratos's operation names, the span name of a request that matched no route (<c>cmd/daemon/serve.go</c>).</summary>
    public const string PublicOperation = "servePublic";

    public const string AdminOperation = "serveAdmin";

    /// <summary>How long one export may take before it is given up (its spans are lost; requests never wait for it).</summary>
    public static readonly TimeSpan ExportTimeout = TimeSpan.FromSeconds(10);

    /// <param name="http">
    /// Trace the app's HTTP requests (<c>serve</c>); false for a host without listeners (<c>courier watch</c>), which
    /// exports only the courier's spans.
    /// </param>
    public static IServiceCollection AddTracing(this IServiceCollection services, GatehouseOptions options, bool http = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tracing = options.Tracing;
        if (!tracing.Enabled) return services;
        var exporter = TracingExporter.From(tracing);
        services.AddSingleton(exporter);
        services.AddHostedService<TracingStartup>();
        var owner = new TracingOwner();
        if (http)
        {
            services.AddSingleton(owner);
            services.AddSingleton<DistributedContextPropagator>(exporter.Propagates ? KratosTracePropagator.All : KratosTracePropagator.None);
        }
        // Every outgoing call of the process (web hooks, the courier's HTTP channel, social sign-in, Hydra's token hook,
        // back-channel logout, clients' JWKS, …) gets a client span and the trace headers, as Kratos's httpx client.
        var outgoing = OutgoingRequestTracing.For(exporter);
        services.ConfigureHttpClientDefaults(client => client.AddHttpMessageHandler(() => new OutgoingRequestTracing(outgoing)));
        services.AddOpenTelemetry().WithTracing(builder =>
        {
            builder.SetResourceBuilder(Resource(tracing));
            builder.SetSampler(Sampler(exporter.SamplingRatio));
            builder.AddSource(Courier.CourierTracing.SourceName, OutgoingRequestTracing.SourceName, SelfService.Hooks.WebHooks.WebHookTracing.SourceName);
            if (http)
            {
                builder.AddAspNetCoreInstrumentation(o =>
                {
                    o.Filter = context => !Untraced(context.Request.Path) && ReferenceEquals(context.RequestServices.GetService<TracingOwner>(), owner);
                    o.EnrichWithHttpResponse = NameUnroutedRequest;
                });
            }
            // The exporters are made here rather than with AddOtlpExporter/AddZipkinExporter so that their HTTP client can
            // log a failed export (ExportFailureLog); the batch processor is the one those would add, with its defaults
            // (up to 2,048 waiting spans, sent every 5 s or per 512).
            builder.AddProcessor(services => new BatchActivityExportProcessor(Exporter(exporter, tracing, services)));
        });
        return services;
    }

    private static BaseExporter<Activity> Exporter(TracingExporter exporter, TracingOptions tracing, IServiceProvider services)
    {
        var failures = new ExportFailureLog(exporter.Kind == TracingExporterKind.Otlp ? "OTLP" : "Zipkin", exporter.Endpoint,
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<ExportFailureLog>>());
        switch (exporter.Kind)
        {
            case TracingExporterKind.Otlp:
                return new OtlpTraceExporter(new OtlpExporterOptions
                {
                    Protocol = OtlpExportProtocol.HttpProtobuf,
                    Endpoint = exporter.Endpoint,
                    TimeoutMilliseconds = (int)ExportTimeout.TotalMilliseconds,
                    // The header is set on the client rather than through OtlpExporterOptions.Headers, whose
                    // "k=v,k2=v2" string would split a value containing a comma and percent-decode it.
                    HttpClientFactory = () => ExportClient(tracing.Providers.Otlp.AuthorizationHeader, failures),
                });
            default:
                // OpenTelemetry deprecated its Zipkin exporters in 2025 in favour of OTLP, but 1.21 still ships and
                // works, and it is the only maintained .NET writer of Zipkin's JSON v2 API that Kratos's zipkin
                // provider posts to; a Zipkin behind an OpenTelemetry collector can take provider otel instead.
#pragma warning disable CS0618
                return new ZipkinExporter(new ZipkinExporterOptions
                {
                    Endpoint = exporter.Endpoint,
                    HttpClientFactory = () => ExportClient(null, failures),
                });
#pragma warning restore CS0618
        }
    }

    /// <summary>
    /// Kratos's filter (ory/x <c>otelx.WithDefaultFilters</c>): health checks and metrics are not traced, matched on the
    /// path as it arrived, by prefix.
    /// </summary>
    public static bool Untraced(PathString path)
    {
        var value = path.Value ?? "";
        return value.StartsWith("/health", StringComparison.Ordinal) || value.StartsWith("/admin/health", StringComparison.Ordinal)
            || value.StartsWith("/metrics", StringComparison.Ordinal) || value.StartsWith("/admin/metrics", StringComparison.Ordinal);
    }

    /// <summary>
    /// A routed request is named "{method} {route}" by the instrumentation (Kratos: the matched pattern, e.g.
    /// <c>GET /sessions/whoami</c>); one that matched no route (a 404, a CORS preflight) takes the listener's operation
    /// name, as in Kratos.
    /// </summary>
    private static void NameUnroutedRequest(Activity activity, HttpResponse response)
    {
        if (activity.GetTagItem("http.route") is not null) return;
        var http = response.HttpContext;
        var admin = http.Features.Get<ListenerFeature>() is { } feature
            ? feature.Kind == ListenerKind.Admin
            : http.RequestServices.GetService<ListenerPorts>()?.IsAdmin(http) == true;
        activity.DisplayName = admin ? AdminOperation : PublicOperation;
    }

    // Only service.name and deployment.environment.name, as Kratos's resource.NewWithAttributes (no SDK or host detectors).
    private static ResourceBuilder Resource(TracingOptions tracing)
    {
        var attributes = new List<KeyValuePair<string, object>>
        {
            new("service.name", string.IsNullOrEmpty(tracing.ServiceName) ? TracingOptions.DefaultServiceName : tracing.ServiceName),
        };
        if (!string.IsNullOrEmpty(tracing.DeploymentEnvironment)) attributes.Add(new("deployment.environment.name", tracing.DeploymentEnvironment));
        return ResourceBuilder.CreateEmpty().AddAttributes(attributes);
    }

    /// <summary>
    /// Go's <c>sdktrace.ParentBased(TraceIDRatioBased(ratio))</c>: a caller's decision wins; otherwise the ratio decides.
    /// <c>TraceIDRatioBased</c> turns a ratio of 1 or more into always and one of 0 or less into never (Kratos's schema
    /// takes any number), where OpenTelemetry .NET's ratio sampler would throw.
    /// </summary>
    internal static Sampler Sampler(double ratio) => new ParentBasedSampler(ratio switch
    {
        >= 1 => new AlwaysOnSampler(),
        <= 0 => new AlwaysOffSampler(),
        _ => new TraceIdRatioBasedSampler(ratio),
    });

    private static HttpClient ExportClient(string? authorization, ExportFailureLog failures)
    {
        var client = new HttpClient(failures.Handler(new SocketsHttpHandler { ActivityHeadersPropagator = null })) { Timeout = ExportTimeout };
        if (!string.IsNullOrEmpty(authorization)) client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        return client;
    }

    /// <summary>Marks the services of the app that owns a tracer provider (see <see cref="AddTracing"/>'s filter).</summary>
    /// <remarks>
    /// ASP.NET Core's activity source is named the same in every app of a process, so a tracer provider would also see
    /// the requests of other apps in the process (the test suite runs many); it keeps only its own app's requests.
    /// </remarks>
    internal sealed class TracingOwner;
}
