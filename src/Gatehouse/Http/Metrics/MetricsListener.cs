using Gatehouse.Config;

namespace Gatehouse.Http.Metrics;

/// <summary>
/// The courier worker's own metrics listener (<c>courier watch --expose-metrics-port N</c>, as Kratos's): plain HTTP on
/// <c>serve.admin.host</c> at port N, serving only <c>/metrics/prometheus</c> (the process's metrics and the scrapes').
/// A unix-socket admin host has no port, so the listener then binds loopback.
/// </summary>
public sealed class MetricsListener(GatehouseOptions options, int port, MetricsEndpoints.MetricsHandler handler, ILogger<MetricsListener> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var host = UnixSockets.PathOf(options.Serve.Admin.Host) is null ? options.Serve.Admin.Host : "127.0.0.1";
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            GatehouseApp.Listen(k, new ListenerOptions { Host = host, Port = port }, tls: null, admin: false);
        });
        var app = builder.Build();
        app.MapGet(MetricsEndpoints.Path, handler.WriteAsync);
        await app.StartAsync(cancellationToken);
        _app = app;
        logger.LogInformation("Serving the courier's metrics on {Host}:{Port}{Path}", host, port, MetricsEndpoints.Path);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null) await _app.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}
