using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Bench;

/// <summary>
/// A stand-in OTLP/HTTP collector for <c>--tracing otlp</c>: it reads every POSTed export and answers 200, counting
/// exports and bytes, so the server's tracing runs at full cost against a collector that keeps up. Runs in the driver.
/// </summary>
internal sealed class OtlpSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _exports;
    private long _bytes;

    private OtlpSink(WebApplication app) => _app = app;

    public string HostPort { get; private set; } = "";
    public long Exports => Interlocked.Read(ref _exports);
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The config that sends every request's span here (ratio 1, plain http).</summary>
    public string ServerConfig => $"""
        tracing:
          provider: otel
          service_name: gatehouse-bench
          providers:
            otlp:
              server_url: {HostPort}
              insecure: true
              sampling:
                sampling_ratio: 1
        """;

    public static async Task<OtlpSink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var sink = new OtlpSink(app);
        app.Run(async http =>
        {
            var buffer = new byte[16 * 1024];
            long total = 0;
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0) total += read;
            Interlocked.Increment(ref sink._exports);
            Interlocked.Add(ref sink._bytes, total);
            http.Response.StatusCode = 200;
            http.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        sink.HostPort = $"127.0.0.1:{address.Port}";
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
