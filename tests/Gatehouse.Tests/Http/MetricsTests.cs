using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Gatehouse.Http.Metrics;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Http;

/// <summary>
/// <c>/admin/metrics/prometheus</c>: Kratos's and Hydra's HTTP metrics (names, labels, what is counted), the text format,
/// gzip, and the admin API key in front of it; and <c>/admin/health/config</c>, the other operator's endpoint.
/// </summary>
public sealed partial class MetricsTests
{
    [Fact]
    public async Task The_metrics_count_each_routed_request_under_its_pattern_as_Kratos_and_Hydra_label_them()
    {
        await using var server = await TestServer.StartAsync(Db.Sqlite);
        // whoami without a session (401), an unknown identity twice (404), Hydra's discovery (200).
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Public.GetAsync("/sessions/whoami")).StatusCode);
        long notFoundBytes = 0;
        foreach (var id in new[] { Guid.NewGuid(), Guid.NewGuid() })
        {
            var missing = await server.AdminWithKey.GetAsync($"/admin/identities/{id}");
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            notFoundBytes += (await missing.Content.ReadAsByteArrayAsync()).Length;
        }
        Assert.Equal(HttpStatusCode.OK, (await server.Public.GetAsync("/.well-known/openid-configuration")).StatusCode);
        // Not routed: an unknown path and a method the route does not take. Kratos's router counts neither.
        Assert.Equal(HttpStatusCode.NotFound, (await server.Public.GetAsync("/no/such/route")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await server.Public.DeleteAsync("/.well-known/openid-configuration")).StatusCode);

        var metrics = await ScrapeAsync(server.AdminWithKey);

        var (version, hash) = (Labels.Version, Labels.Hash);
        Assert.Equal(1, metrics.Value($"http_requests_total{{app=\"kratos\",buildTime=\"undefined\",code=\"401\",endpoint=\"/sessions/whoami\",hash=\"{hash}\",method=\"get\",version=\"{version}\"}}"));
        Assert.Equal(2, metrics.Value($"http_requests_total{{app=\"kratos\",buildTime=\"undefined\",code=\"404\",endpoint=\"/admin/identities/{{param}}\",hash=\"{hash}\",method=\"get\",version=\"{version}\"}}"));
        Assert.Equal(1, metrics.Value($"http_requests_total{{app=\"hydra\",buildTime=\"undefined\",code=\"200\",endpoint=\"/.well-known/openid-configuration\",hash=\"{hash}\",method=\"get\",version=\"{version}\"}}"));
        Assert.DoesNotContain(metrics.Series.Keys, s => s.Contains("/no/such/route", StringComparison.Ordinal));
        Assert.DoesNotContain(metrics.Series.Keys, s => s.StartsWith("http_requests_total", StringComparison.Ordinal) && s.Contains("method=\"delete\"", StringComparison.Ordinal));

        // The same request in every family: duration and response time by route, sizes by code and method, and the
        // status bucket with the method as sent.
        var routeLabels = $"app=\"kratos\",buildTime=\"undefined\",code=\"404\",endpoint=\"/admin/identities/{{param}}\",hash=\"{hash}\",method=\"get\",version=\"{version}\"";
        Assert.Equal(2, metrics.Value($"http_requests_duration_seconds_count{{{routeLabels}}}"));
        Assert.Equal(2, metrics.Value($"http_requests_duration_seconds_bucket{{{routeLabels},le=\"+Inf\"}}"));
        Assert.InRange(metrics.Value($"http_requests_duration_seconds_sum{{{routeLabels}}}"), 0, 60);
        Assert.Equal(2, metrics.Value($"http_response_time_seconds_count{{app=\"kratos\",buildTime=\"undefined\",endpoint=\"/admin/identities/{{param}}\",hash=\"{hash}\",version=\"{version}\"}}"));
        var sizeLabels = $"app=\"kratos\",buildTime=\"undefined\",code=\"404\",hash=\"{hash}\",method=\"get\",version=\"{version}\"";
        Assert.Equal(2, metrics.Value($"http_response_size_bytes_count{{{sizeLabels}}}"));
        Assert.Equal(notFoundBytes, metrics.Value($"http_response_size_bytes_sum{{{sizeLabels}}}"));
        Assert.Equal(2, metrics.Value($"http_requests_size_bytes_count{{{sizeLabels}}}"));
        Assert.True(metrics.Value($"http_requests_size_bytes_sum{{{sizeLabels}}}") > 2 * "/admin/identities/".Length);
        Assert.Equal(3, metrics.Value($"http_requests_statuses_total{{app=\"kratos\",buildTime=\"undefined\",hash=\"{hash}\",method=\"GET\",status_bucket=\"4xx\",version=\"{version}\"}}"));
        Assert.Equal(1, metrics.Value($"http_requests_statuses_total{{app=\"hydra\",buildTime=\"undefined\",hash=\"{hash}\",method=\"GET\",status_bucket=\"2xx\",version=\"{version}\"}}"));

        Assert.Equal("counter", metrics.Types["http_requests_total"]);
        Assert.Equal("histogram", metrics.Types["http_requests_duration_seconds"]);
        Assert.Equal("histogram", metrics.Types["http_response_size_bytes"]);
        // The process, as every Prometheus client publishes it.
        Assert.True(metrics.Value("process_cpu_seconds_total") > 0);
        Assert.True(metrics.Value("process_resident_memory_bytes") > 0);
        Assert.True(metrics.Value("process_open_fds") > 0);
        Assert.True(metrics.Value("process_start_time_seconds") > 1.7e9);

        // The scrape itself is counted by the next one, as promhttp counts its handler's requests.
        var again = await ScrapeAsync(server.AdminWithKey);
        Assert.Equal(1, again.Value("promhttp_metric_handler_requests_total{code=\"200\"}") - metrics.Value("promhttp_metric_handler_requests_total{code=\"200\"}"));
        Assert.Equal(1, again.Value($"http_requests_total{{app=\"kratos\",buildTime=\"undefined\",code=\"200\",endpoint=\"/admin/metrics/prometheus\",hash=\"{hash}\",method=\"get\",version=\"{version}\"}}"));
    }

    [Fact]
    public async Task The_fedcm_routes_are_counted_as_kratos_routes_under_their_patterns()
    {
        await using var server = await TestServer.StartAsync(Db.Sqlite);
        Assert.Equal(HttpStatusCode.OK, (await server.Public.GetAsync("/self-service/fed-cm/parameters")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await server.Public.PostAsync("/self-service/fed-cm/token", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        var metrics = await ScrapeAsync(server.AdminWithKey);
        var (version, hash) = (Labels.Version, Labels.Hash);
        Assert.Equal(1, metrics.Value($"http_requests_total{{app=\"kratos\",buildTime=\"undefined\",code=\"200\",endpoint=\"/self-service/fed-cm/parameters\",hash=\"{hash}\",method=\"get\",version=\"{version}\"}}"));
        Assert.Equal(1, metrics.Value($"http_requests_total{{app=\"kratos\",buildTime=\"undefined\",code=\"403\",endpoint=\"/self-service/fed-cm/token\",hash=\"{hash}\",method=\"post\",version=\"{version}\"}}"));
    }

    [Fact]
    public async Task The_admin_api_key_guards_the_metrics_and_the_admin_prefix_is_optional_on_the_admin_listener()
    {
        await using var server = await TestServer.StartAsync(Db.Sqlite);

        var refused = await server.Admin.GetAsync("/admin/metrics/prometheus");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.StartsWith("application/json", refused.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);

        // Kratos's admin listener takes its routes with or without /admin; so does Gatehouse's.
        var answer = await server.AdminWithKey.GetAsync("/metrics/prometheus");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", answer.Content.Headers.ContentType?.ToString());
        Assert.Contains("# TYPE process_cpu_seconds_total counter", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // One base URL (Ory Network style): the public listener serves it with the API key only.
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Public.GetAsync("/admin/metrics/prometheus")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Public.GetAsync("/metrics/prometheus")).StatusCode);
    }

    [Fact]
    public async Task A_scraper_that_accepts_gzip_gets_gzip_and_every_line_is_in_prometheus_text_format()
    {
        await using var server = await TestServer.StartAsync(Db.Sqlite);
        await server.Public.GetAsync("/sessions/whoami");

        using var gzipRequest = new HttpRequestMessage(HttpMethod.Get, "/admin/metrics/prometheus");
        gzipRequest.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var gzipped = await server.AdminWithKey.SendAsync(gzipRequest);
        Assert.Equal(HttpStatusCode.OK, gzipped.StatusCode);
        Assert.Equal(["gzip"], gzipped.Content.Headers.ContentEncoding);
        await using var unzip = new GZipStream(await gzipped.Content.ReadAsStreamAsync(), CompressionMode.Decompress);
        var text = await new StreamReader(unzip, Encoding.UTF8).ReadToEndAsync();

        var lines = text.Split('\n');
        Assert.Equal("", lines[^1]);
        foreach (var line in lines[..^1])
        {
            Assert.True(SampleLine().IsMatch(line) || CommentLine().IsMatch(line), $"not a line of Prometheus's text format: {line}");
        }
        Assert.Contains(lines, l => l.StartsWith("http_requests_total{app=\"kratos\"", StringComparison.Ordinal) && l.Contains("endpoint=\"/sessions/whoami\"", StringComparison.Ordinal));

        using var refusedGzip = new HttpRequestMessage(HttpMethod.Get, "/admin/metrics/prometheus");
        refusedGzip.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip;q=0, identity");
        using var plain = await server.AdminWithKey.SendAsync(refusedGzip);
        Assert.Empty(plain.Content.Headers.ContentEncoding);
        Assert.Contains("# TYPE http_requests_total counter", await plain.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("deploy-42", "deploy-42")]
    [InlineData(null, "5f0c6b0b4e0c8b2d1a7f3e9c2b1d0a9f8e7d6c5b4a3928170615243342516070")]
    public async Task Health_config_answers_the_revision_or_else_the_hash_of_the_loaded_configuration(string? revision, string expected)
    {
        await using var server = await TestServer.StartAsync(Db.Sqlite, o =>
        {
            o.Revision = revision;
            o.ConfigHash = "5f0c6b0b4e0c8b2d1a7f3e9c2b1d0a9f8e7d6c5b4a3928170615243342516070";
        });

        var answer = await server.AdminWithKey.GetAsync("/admin/health/config");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("text/plain", answer.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expected, await answer.Content.ReadAsStringAsync());
        // The admin listener takes it without the prefix too; without the API key it is refused like the admin API.
        Assert.Equal(expected, await server.AdminWithKey.GetStringAsync("/health/config"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Admin.GetAsync("/admin/health/config")).StatusCode);
    }

    [Theory]
    [InlineData("/sessions/whoami", "/sessions/whoami")]
    [InlineData("/admin/identities/{id}", "/admin/identities/{param}")]
    [InlineData("/admin/identities/{id}/credentials/{type}", "/admin/identities/{param}/credentials/{param}")]
    [InlineData("/admin/clients/{id:guid}", "/admin/clients/{param}")]
    [InlineData("/self-service/methods/oidc/callback/{provider}", "/self-service/methods/oidc/callback/{param}")]
    [InlineData("", "/")]
    public void The_endpoint_label_writes_every_route_parameter_as_param(string pattern, string label) =>
        Assert.Equal(label, HttpMetrics.EndpointLabel(pattern));

    [Theory]
    [InlineData("GET", "get")]
    [InlineData("post", "post")]
    [InlineData("PATCH", "patch")]
    [InlineData("PROPFIND", "unknown")]
    public void The_method_label_is_lower_case_for_the_standard_methods_and_unknown_otherwise(string method, string label) =>
        Assert.Equal(label, HttpMetrics.MethodLabel(method));

    [Theory]
    [InlineData("0.1.0+760eca9990800009145e77d1bd311c204715e34c", "v0.1.0", "760eca9990800009145e77d1bd311c204715e34c")]
    [InlineData("0.1.0", "v0.1.0", "undefined")]
    [InlineData("0.1.0+", "v0.1.0", "undefined")]
    public void The_version_and_hash_labels_come_from_the_informational_version(string informational, string version, string hash) =>
        Assert.Equal((version, hash), HttpMetrics.VersionLabels(informational));

    [Fact]
    public void The_request_size_is_the_go_clients_approximation()
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = "POST";
        request.Protocol = "HTTP/1.1";
        request.Path = "/admin/identities";
        request.QueryString = new QueryString("?x=1");
        request.Headers.Host = "example.org";
        request.Headers.Accept = "application/json";
        request.ContentLength = 42;

        // "/admin/identities?x=1" + "POST" + "HTTP/1.1" + "Accept" + "application/json" + Host's value only
        // ("example.org"; Go keeps it out of the header map) + the body's 42 bytes; Content-Length is a header too.
        var expected = "/admin/identities?x=1".Length + 4 + 8 + "Accept".Length + "application/json".Length + "example.org".Length
            + "Content-Length".Length + "42".Length + 42;
        Assert.Equal(expected, HttpMetricsMiddleware.ApproximateRequestSize(request));
    }

    private static async Task<Scrape> ScrapeAsync(HttpClient admin)
    {
        var answer = await admin.GetAsync("/admin/metrics/prometheus");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return Scrape.Parse(await answer.Content.ReadAsStringAsync());
    }

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=""([^""\\]|\\.)*"",?)*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$")]
    private static partial Regex CommentLine();

    private static class Labels
    {
        public static readonly string Version = HttpMetrics.VersionLabels(Gatehouse.Http.Health.HealthEndpoints.InformationalVersion).Version;
        public static readonly string Hash = HttpMetrics.VersionLabels(Gatehouse.Http.Health.HealthEndpoints.InformationalVersion).Hash;
    }

    private sealed record Scrape(Dictionary<string, double> Series, Dictionary<string, string> Types)
    {
        public static Scrape Parse(string text)
        {
            var series = new Dictionary<string, double>(StringComparer.Ordinal);
            var types = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ');
                    types[parts[2]] = parts[3];
                }
                else if (!line.StartsWith('#'))
                {
                    var space = line.LastIndexOf(' ');
                    series[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
                }
            }
            return new Scrape(series, types);
        }

        public double Value(string key) =>
            Series.TryGetValue(key, out var value) ? value : throw new Xunit.Sdk.XunitException($"no series {key}; have:\n{string.Join('\n', Series.Keys.Where(k => k.StartsWith(key.Split('{')[0], StringComparison.Ordinal)))}");
    }
}
