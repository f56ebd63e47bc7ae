using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Gatehouse.Http.Health;
using Prometheus;

namespace Gatehouse.Http.Metrics;

/// <summary>
/// The HTTP metrics Kratos and Hydra publish at <c>/admin/metrics/prometheus</c> (ory/x <c>prometheusx.HTTPMetrics</c>
/// with the prefix <c>http</c>), with their names, label names, label values and the client library's default buckets,
/// so dashboards and alerts written against Kratos or Hydra read Gatehouse unchanged:
/// <c>http_requests_total{code, method, endpoint}</c>, <c>http_requests_duration_seconds{code, method, endpoint}</c>,
/// <c>http_response_time_seconds{endpoint}</c>, <c>http_response_size_bytes{code, method}</c>,
/// <c>http_requests_size_bytes{code, method}</c> and <c>http_requests_statuses_total{method, status_bucket}</c>, each also
/// labelled <c>app</c>, <c>version</c>, <c>hash</c> and <c>buildTime</c>. <c>app</c> is <c>hydra</c> on Hydra's routes
/// and <c>kratos</c> on the others, as the two servers label them. Only requests that reached a route are counted (in
/// Kratos the router instruments each route it registers), under the route's pattern with every parameter written
/// <c>{param}</c>.
/// </summary>
public sealed partial class HttpMetrics
{
    /// <summary>What Kratos's release builds put in the <c>hash</c> and <c>buildTime</c> labels when the build did not say.</summary>
    private const string Undefined = "undefined";

    // The label names in the order the Go client writes them (sorted), so the exposition reads as Kratos's does.
    private static readonly string[] CodeMethodEndpoint = ["app", "buildTime", "code", "endpoint", "hash", "method", "version"];
    private static readonly string[] EndpointOnly = ["app", "buildTime", "endpoint", "hash", "version"];
    private static readonly string[] CodeMethod = ["app", "buildTime", "code", "hash", "method", "version"];
    private static readonly string[] MethodBucket = ["app", "buildTime", "hash", "method", "status_bucket", "version"];

    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Histogram _responseTime;
    private readonly Histogram _responseSize;
    private readonly Histogram _requestSize;
    private readonly Counter _statuses;
    private readonly string _version;
    private readonly string _hash;
    private readonly ConcurrentDictionary<Key, Children> _children = new();

    public HttpMetrics(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Registry = registry;
        (_version, _hash) = VersionLabels(HealthEndpoints.InformationalVersion);
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        // The Go client's DefBuckets, which Kratos uses for every one of these histograms (sizes included).
        var buckets = new HistogramConfiguration { Buckets = [.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10], ExemplarBehavior = ExemplarBehavior.NoExemplars() };
        var counters = new CounterConfiguration { ExemplarBehavior = ExemplarBehavior.NoExemplars() };
        _responseTime = factory.CreateHistogram("http_response_time_seconds", "Description", EndpointOnly, buckets);
        _requests = factory.CreateCounter("http_requests_total", "number of requests", CodeMethodEndpoint, counters);
        _duration = factory.CreateHistogram("http_requests_duration_seconds", "duration of a requests in seconds", CodeMethodEndpoint, buckets);
        _responseSize = factory.CreateHistogram("http_response_size_bytes", "size of the responses in bytes", CodeMethod, buckets);
        _requestSize = factory.CreateHistogram("http_requests_size_bytes", "size of the requests in bytes", CodeMethod, buckets);
        _statuses = factory.CreateCounter("http_requests_statuses_total", "count number of responses per status", MethodBucket, counters);
    }

    public CollectorRegistry Registry { get; }

    /// <summary>
    /// Records one request that reached <paramref name="endpoint"/>. The label children are looked up once per route,
    /// method and status and kept, so a request costs six lock-free updates.
    /// </summary>
    public void Record(RouteEndpoint endpoint, string method, int status, double seconds, long requestBytes, long responseBytes)
    {
        if (!_children.TryGetValue(new Key(endpoint, method, status), out var children))
        {
            children = _children.GetOrAdd(new Key(endpoint, method, status), Create);
        }
        children.Requests.Inc();
        children.Duration.Observe(seconds);
        children.ResponseTime.Observe(seconds);
        children.ResponseSize.Observe(responseBytes);
        children.RequestSize.Observe(requestBytes);
        children.Statuses.Inc();
    }

    private Children Create(Key key)
    {
        var app = key.Endpoint.Metadata.GetMetadata<OAuth2.OAuth2ErrorFilter.Routes>() is null ? "kratos" : "hydra";
        var endpoint = EndpointLabel(key.Endpoint.RoutePattern.RawText ?? "");
        var code = key.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var method = MethodLabel(key.Method);
        return new Children(
            _requests.WithLabels(app, Undefined, code, endpoint, _hash, method, _version),
            _duration.WithLabels(app, Undefined, code, endpoint, _hash, method, _version),
            _responseTime.WithLabels(app, Undefined, endpoint, _hash, _version),
            _responseSize.WithLabels(app, Undefined, code, _hash, method, _version),
            _requestSize.WithLabels(app, Undefined, code, _hash, method, _version),
            _statuses.WithLabels(app, Undefined, _hash, key.Method, StatusBucket(key.Status), _version));
    }

    /// <summary>A route's pattern as Kratos labels it (ory/x <c>GetLabelForPattern</c>): every parameter is <c>{param}</c>.</summary>
    public static string EndpointLabel(string pattern)
    {
        var label = Parameter().Replace(pattern, "{param}");
        return label.Length == 0 ? "/" : label[0] == '/' ? label : "/" + label;
    }

    /// <summary>
    /// The Go client's <c>method</c> label: the standard methods in lower case, any other <c>unknown</c> (promhttp's
    /// <c>sanitizeMethod</c>). The status-bucket counter takes the method as sent, as Kratos's does.
    /// </summary>
    public static string MethodLabel(string method) => method.ToUpperInvariant() switch
    {
        "GET" => "get",
        "PUT" => "put",
        "HEAD" => "head",
        "POST" => "post",
        "DELETE" => "delete",
        "CONNECT" => "connect",
        "OPTIONS" => "options",
        "NOTIFY" => "notify",
        "TRACE" => "trace",
        "PATCH" => "patch",
        _ => "unknown",
    };

    public static string StatusBucket(int status) => status switch
    {
        >= 200 and <= 299 => "2xx",
        >= 300 and <= 399 => "3xx",
        >= 400 and <= 499 => "4xx",
        >= 500 and <= 599 => "5xx",
        _ => "unknown",
    };

    /// <summary>
    /// The <c>version</c> and <c>hash</c> labels from the assembly's informational version (<c>0.1.0+&lt;commit&gt;</c> when
    /// the build knew its commit): <c>v0.1.0</c> and the commit, or <c>undefined</c>.
    /// </summary>
    public static (string Version, string Hash) VersionLabels(string informationalVersion)
    {
        var plus = informationalVersion.IndexOf('+', StringComparison.Ordinal);
        var version = plus < 0 ? informationalVersion : informationalVersion[..plus];
        var hash = plus < 0 || plus == informationalVersion.Length - 1 ? Undefined : informationalVersion[(plus + 1)..];
        return ("v" + (version.Length == 0 ? "0.0.0" : version), hash);
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Parameter();

    private readonly record struct Key(RouteEndpoint Endpoint, string Method, int Status);

    private sealed record Children(
        Counter.Child Requests,
        Histogram.Child Duration,
        Histogram.Child ResponseTime,
        Histogram.Child ResponseSize,
        Histogram.Child RequestSize,
        Counter.Child Statuses);
}
