using System.IO.Compression;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;

namespace Gatehouse.Http.Metrics;

/// <summary>
/// <c>GET /admin/metrics/prometheus</c>, as Kratos and Hydra serve it on their admin listeners (ory/x
/// <c>prometheusx.MetricsPrometheusPath</c>, the Go client's <c>promhttp.Handler()</c>): Prometheus's text format 0.0.4,
/// gzip when the scraper accepts it, and the handler's own <c>promhttp_metric_handler_requests_total</c> and
/// <c>promhttp_metric_handler_requests_in_flight</c>.
/// </summary>
public static class MetricsEndpoints
{
    public const string Path = "/metrics/prometheus";

    /// <summary>What Kratos's handler answers with (the Go client without OpenMetrics, which <c>promhttp.Handler()</c> leaves off).</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The registry with the process's metrics, and the HTTP metrics of a server that has listeners.</summary>
    public static IServiceCollection AddMetrics(this IServiceCollection services, bool http)
    {
        services.TryAddSingleton(_ => CreateRegistry());
        if (http) services.TryAddSingleton<HttpMetrics>();
        services.TryAddSingleton<MetricsHandler>();
        return services;
    }

    /// <summary>
    /// A registry of its own (never the library's default one, whose first scrape would also start its event-counter and
    /// meter listeners, and with them ASP.NET Core's per-request instruments) with the process metrics.
    /// </summary>
    public static CollectorRegistry CreateRegistry()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        DotNetStats.Register(registry);
        ProcessMetrics.Register(registry);
        return registry;
    }

    public static RouteGroupBuilder MapMetrics(this RouteGroupBuilder group)
    {
        group.MapGet(Path, (HttpContext http, MetricsHandler handler) => handler.WriteAsync(http));
        return group;
    }

    /// <summary>Writes the registry's metrics to a response; also serves the courier's metrics listener.</summary>
    public sealed class MetricsHandler
    {
        private readonly CollectorRegistry _registry;
        private readonly Counter _scrapes;
        private readonly Gauge _inFlight;

        public MetricsHandler(CollectorRegistry registry)
        {
            _registry = registry;
            var factory = Prometheus.Metrics.WithCustomRegistry(registry);
            _scrapes = factory.CreateCounter("promhttp_metric_handler_requests_total", "Total number of scrapes by HTTP status code.", ["code"],
                new CounterConfiguration { ExemplarBehavior = ExemplarBehavior.NoExemplars() });
            _inFlight = factory.CreateGauge("promhttp_metric_handler_requests_in_flight", "Current number of scrapes being served.");
            // Published at 0 from the start, as promhttp initialises them.
            foreach (var code in new[] { "200", "500", "503" }) _scrapes.WithLabels(code);
        }

        public async Task WriteAsync(HttpContext http)
        {
            _inFlight.Inc();
            var status = StatusCodes.Status200OK;
            try
            {
                http.Response.ContentType = ContentType;
                if (AcceptsGzip(http.Request))
                {
                    http.Response.Headers.ContentEncoding = "gzip";
                    http.Response.Headers.Vary = "Accept-Encoding";
                    await using var gzip = new GZipStream(http.Response.Body, CompressionLevel.Fastest, leaveOpen: true);
                    await _registry.CollectAndExportAsTextAsync(gzip, ExpositionFormat.PrometheusText, http.RequestAborted);
                }
                else
                {
                    await _registry.CollectAndExportAsTextAsync(http.Response.Body, ExpositionFormat.PrometheusText, http.RequestAborted);
                }
            }
            catch when (!http.RequestAborted.IsCancellationRequested)
            {
                status = StatusCodes.Status500InternalServerError;
                throw;
            }
            finally
            {
                _inFlight.Dec();
                _scrapes.WithLabels(status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
            }
        }

        /// <summary>
        /// Whether <c>Accept-Encoding</c> gives <c>gzip</c> a weight above 0: its own, or else that of <c>*</c> (RFC 9110
        /// 12.5.3), as the Go client negotiates it.
        /// </summary>
        private static bool AcceptsGzip(HttpRequest request)
        {
            double? gzip = null, any = null;
            foreach (var value in request.Headers.AcceptEncoding)
            {
                foreach (var part in (value ?? "").Split(','))
                {
                    var pieces = part.Split(';');
                    var coding = pieces[0].Trim();
                    var weight = 1.0;
                    foreach (var parameter in pieces.Skip(1))
                    {
                        var pair = parameter.Split('=', 2);
                        if (pair.Length == 2 && pair[0].Trim() is "q" or "Q"
                            && double.TryParse(pair[1].Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var q))
                            weight = q;
                    }
                    if (string.Equals(coding, "gzip", StringComparison.OrdinalIgnoreCase)) gzip = weight;
                    else if (coding == "*") any = weight;
                }
            }
            return (gzip ?? any ?? 0) > 0;
        }
    }
}
