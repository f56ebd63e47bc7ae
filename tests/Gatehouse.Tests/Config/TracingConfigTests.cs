using System.Diagnostics;
using Gatehouse.Config;
using Gatehouse.Http.Tracing;
using OpenTelemetry.Trace;

namespace Gatehouse.Tests.Config;

/// <summary>
/// The <c>tracing</c> key as Kratos and Hydra read it (ory/x <c>configx.TracingConfig</c> and <c>otelx</c>): its
/// defaults, environment overrides, and the start-up errors for values that would not trace.
/// </summary>
public sealed class TracingConfigTests : IDisposable
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    private ConfigLoadResult Load(string yaml, Dictionary<string, string?>? environment = null) =>
        ConfigLoader.Load([_files.Write("kratos.yml", "dsn: memory\n" + yaml)], environment ?? NoEnvironment, dev: false);

    private string Error(string yaml, Dictionary<string, string?>? environment = null) =>
        Assert.Throws<ConfigException>(() => Load(yaml, environment)).Message;

    [Fact]
    public void Kratos_tracing_config_loads_without_a_warning_with_Kratos_defaults()
    {
        var result = Load("""
            tracing:
              provider: otel
              service_name: Ory Kratos
              deployment_environment: production
              providers:
                otlp:
                  server_url: localhost:4318
                  authorization_header: Bearer x
                zipkin:
                  server_url: http://localhost:9411/api/v2/spans
                jaeger:
                  local_agent_address: 127.0.0.1:6831
                  sampling:
                    server_url: http://localhost:5778/sampling
                    trace_id_ratio: 0.5
            """);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("tracing", StringComparison.Ordinal));
        var tracing = result.Options.Tracing;
        Assert.True(tracing.Enabled);
        Assert.Equal("production", tracing.DeploymentEnvironment);
        Assert.Equal("Bearer x", tracing.Providers.Otlp.AuthorizationHeader);
        Assert.Equal(0.5, tracing.Providers.Jaeger.Sampling.TraceIdRatio);

        var exporter = TracingExporter.From(tracing);
        Assert.Equal(TracingExporterKind.Otlp, exporter.Kind);
        // insecure unset: https, as Go's otlptracehttp; a missing sampling_ratio is 1.
        Assert.Equal(new Uri("https://localhost:4318/v1/traces"), exporter.Endpoint);
        Assert.Equal(1, exporter.SamplingRatio);
        Assert.True(exporter.Propagates);
    }

    [Fact]
    public void Without_a_provider_nothing_is_traced_and_no_service_is_registered()
    {
        var options = Load("tracing:\n  service_name: x\n").Options;
        Assert.False(options.Tracing.Enabled);
        var services = new ServiceCollection();
        services.AddTracing(options);
        Assert.Empty(services);
        Assert.Equal("Ory Kratos", TracingOptions.DefaultServiceName);
    }

    [Fact]
    public void With_a_provider_OpenTelemetry_and_the_propagator_are_registered()
    {
        var options = Load("tracing:\n  provider: otel\n  providers:\n    otlp:\n      server_url: localhost:4318\n").Options;
        var services = new ServiceCollection();
        services.AddTracing(options);
        Assert.Contains(services, d => d.ServiceType == typeof(OpenTelemetry.Trace.TracerProvider));
        Assert.Contains(services, d => d.ServiceType == typeof(System.Diagnostics.DistributedContextPropagator) && d.ImplementationInstance == KratosTracePropagator.All);
    }

    [Fact]
    public void Zipkin_defaults_to_ratio_0_and_no_propagation_as_Kratos_and_says_so()
    {
        var result = Load("tracing:\n  provider: zipkin\n  providers:\n    zipkin:\n      server_url: http://zipkin:9411/api/v2/spans\n");
        var exporter = TracingExporter.From(result.Options.Tracing);
        Assert.Equal(TracingExporterKind.Zipkin, exporter.Kind);
        Assert.Equal(new Uri("http://zipkin:9411/api/v2/spans"), exporter.Endpoint);
        Assert.Equal(0, exporter.SamplingRatio);
        Assert.False(exporter.Propagates);
        Assert.Contains(result.Warnings, w => w.StartsWith("tracing.providers.zipkin.sampling.sampling_ratio is not set", StringComparison.Ordinal));

        var set = Load("tracing:\n  provider: zipkin\n  providers:\n    zipkin:\n      server_url: http://zipkin:9411/api/v2/spans\n      sampling:\n        sampling_ratio: 1\n");
        Assert.Equal(1, TracingExporter.From(set.Options.Tracing).SamplingRatio);
        Assert.DoesNotContain(set.Warnings, w => w.Contains("tracing", StringComparison.Ordinal));
    }

    [Fact]
    public void Environment_variables_set_every_tracing_key()
    {
        var options = Load("", new Dictionary<string, string?>
        {
            ["TRACING_PROVIDER"] = "otel",
            ["TRACING_SERVICE_NAME"] = "Auth",
            ["TRACING_DEPLOYMENT_ENVIRONMENT"] = "staging",
            ["TRACING_PROVIDERS_OTLP_SERVER_URL"] = "collector.monitoring:4318",
            ["TRACING_PROVIDERS_OTLP_INSECURE"] = "true",
            ["TRACING_PROVIDERS_OTLP_SAMPLING_SAMPLING_RATIO"] = "0.25",
            ["TRACING_PROVIDERS_OTLP_AUTHORIZATION_HEADER"] = "Bearer from-env",
            ["TRACING_PROVIDERS_ZIPKIN_SAMPLING_SAMPLING_RATIO"] = "0.5",
        }).Options;
        var exporter = TracingExporter.From(options.Tracing);
        Assert.Equal(new Uri("http://collector.monitoring:4318/v1/traces"), exporter.Endpoint);
        Assert.Equal(0.25, exporter.SamplingRatio);
        Assert.Equal("Auth", exporter.ServiceName);
        Assert.Equal("staging", options.Tracing.DeploymentEnvironment);
        Assert.Equal("Bearer from-env", options.Tracing.Providers.Otlp.AuthorizationHeader);
        Assert.Equal(0.5, options.Tracing.Providers.Zipkin.Sampling.SamplingRatio);
    }

    [Theory]
    [InlineData("tracing:\n  provider: datadog\n", "tracing.provider: expected one of \"otel\", \"zipkin\", \"jaeger\", got \"datadog\" (in ")]
    [InlineData("tracing:\n  provider: otel\n", "tracing.providers.otlp.server_url: is required when tracing.provider is otel")]
    [InlineData("tracing:\n  provider: otel\n  providers:\n    otlp:\n      server_url: http://localhost:4318\n",
        "tracing.providers.otlp.server_url: expected a host and port such as \"localhost:4318\" (no scheme or path), got \"http://localhost:4318\"")]
    [InlineData("tracing:\n  providers:\n    otlp:\n      server_url: localhost\n", "tracing.providers.otlp.server_url: expected a host and port")]
    [InlineData("tracing:\n  provider: zipkin\n", "tracing.providers.zipkin.server_url: is required when tracing.provider is zipkin")]
    [InlineData("tracing:\n  providers:\n    zipkin:\n      server_url: localhost:9411\n",
        "tracing.providers.zipkin.server_url: expected an http:// or https:// URL such as \"http://localhost:9411/api/v2/spans\", got \"localhost:9411\"")]
    [InlineData("tracing:\n  providers:\n    otlp:\n      sampling:\n        sampling_ratio: all\n", "tracing.providers.otlp.sampling.sampling_ratio: expected a number, got \"all\"")]
    [InlineData("tracing:\n  providers:\n    otlp:\n      insecure: \"yes\"\n", "tracing.providers.otlp.insecure: expected true or false, got \"yes\"")]
    [InlineData("tracing:\n  providers:\n    jaeger:\n      local_agent_address: udp://127.0.0.1:6831\n", "tracing.providers.jaeger.local_agent_address: expected a host and port")]
    public void Bad_tracing_values_stop_the_start_naming_the_key(string yaml, string expected) =>
        Assert.StartsWith(expected, Error(yaml), StringComparison.Ordinal);

    [Fact]
    public void A_sampling_ratio_outside_0_to_1_loads_and_is_clamped_as_Go_TraceIDRatioBased_does()
    {
        var result = Load("""
            tracing:
              provider: otel
              providers:
                otlp:
                  server_url: localhost:4318
                  sampling:
                    sampling_ratio: 2
                zipkin:
                  sampling:
                    sampling_ratio: -0.5
                jaeger:
                  sampling:
                    trace_id_ratio: 7
            """);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("tracing", StringComparison.Ordinal));
        Assert.Equal(2, TracingExporter.From(result.Options.Tracing).SamplingRatio);
        Assert.Equal(-0.5, result.Options.Tracing.Providers.Zipkin.EffectiveSamplingRatio);

        // A new trace (no caller's decision) is always sampled at 2 and never at -0.5; a sampled caller still wins.
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(TracingServiceCollectionExtensions.Sampler(2), parent: default));
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(TracingServiceCollectionExtensions.Sampler(1.0000001), parent: default));
        Assert.Equal(SamplingDecision.Drop, Decide(TracingServiceCollectionExtensions.Sampler(-0.5), parent: default));
        var sampledCaller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(TracingServiceCollectionExtensions.Sampler(-0.5), sampledCaller));
    }

    private static SamplingDecision Decide(Sampler sampler, ActivityContext parent)
    {
        var traceId = parent == default ? ActivityTraceId.CreateRandom() : parent.TraceId;
        return sampler.ShouldSample(new SamplingParameters(parent, traceId, "GET /version", ActivityKind.Server)).Decision;
    }

    [Fact]
    public void An_unknown_key_under_tracing_is_a_warning_like_any_other() =>
        Assert.Contains("\"tracing.sampling_ratio\" is not supported by Gatehouse yet and is ignored", Load("tracing:\n  sampling_ratio: 1\n").Warnings);

    [Fact]
    public void Provider_jaeger_is_refused_with_the_way_to_send_to_Jaeger_over_OTLP()
    {
        var message = Error("tracing:\n  provider: jaeger\n  providers:\n    jaeger:\n      local_agent_address: 127.0.0.1:6831\n");
        Assert.StartsWith("tracing.provider: \"jaeger\" (the Jaeger agent's UDP protocol) is not supported by Gatehouse; Jaeger 1.35 and later receive OTLP: set tracing.provider to otel", message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);
        Assert.Equal(message, Error("", new Dictionary<string, string?> { ["TRACING_PROVIDER"] = "jaeger" }));
    }

    [Fact]
    public void The_authorization_header_is_never_echoed_in_an_error()
    {
        var wrongType = Error("tracing:\n  providers:\n    otlp:\n      authorization_header: [\"Bearer secret-in-a-list\"]\n");
        Assert.StartsWith("tracing.providers.otlp.authorization_header: expected a string, got a", wrongType, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-in-a-list", wrongType, StringComparison.Ordinal);

        var broken = Error("tracing:\n  provider: otel\n  providers:\n    otlp:\n      server_url: localhost:4318\n      authorization_header: \"Bearer secret-with\\nnewline\"\n");
        Assert.Equal("tracing.providers.otlp.authorization_header: must not contain line breaks or other control characters, got a value of 26 characters", broken);
    }

    [Fact]
    public void An_environment_error_names_the_variable()
    {
        var message = Error("", new Dictionary<string, string?> { ["TRACING_PROVIDERS_OTLP_SAMPLING_SAMPLING_RATIO"] = "all" });
        Assert.Equal("tracing.providers.otlp.sampling.sampling_ratio: expected a number, got \"all\" (from environment variable TRACING_PROVIDERS_OTLP_SAMPLING_SAMPLING_RATIO)", message);
    }
}
