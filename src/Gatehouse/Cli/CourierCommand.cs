using System.CommandLine;
using Gatehouse.Courier;
using Gatehouse.Courier.Templates;
using Gatehouse.Http.Metrics;
using Gatehouse.Http.Tracing;
using Gatehouse.Persistence;

namespace Gatehouse.Cli;

internal static class CourierCommand
{
    public static Command Create()
    {
        var exposeMetricsPort = new Option<int?>("--expose-metrics-port")
        {
            Description = "The port to serve the worker's metrics on, at /metrics/prometheus on serve.admin.host (not served by default; also the config key expose-metrics-port).",
        };
        var watch = new Command("watch", "Run only the courier worker: deliver queued messages until stopped (Ctrl+C). Several may run against one database; each message is sent once.") { exposeMetricsPort };
        watch.SetAction((parse, ct) => CliContext.Run(async () =>
        {
            var options = CliContext.Load(parse, dev: false).Options;
            var metricsPort = parse.GetValue(exposeMetricsPort) ?? options.ExposeMetricsPort;
            if (metricsPort is < 0 or > 65535) throw new ArgumentException($"--expose-metrics-port: {metricsPort} is not a port (0 to 65535; 0 serves no metrics).");
            // A worker without an SMTP server would only burn every message's retries (e-mail over HTTP needs none).
            if (options.Courier.DeliveryStrategy == "smtp") SmtpConnection.Parse(options.Courier.Smtp.ConnectionUri);
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory, DisableDefaults = true });
            GatehouseApp.ConfigureLogging(builder.Logging, options);
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = CliContext.ShutdownTimeout);
            builder.Services.AddSingleton(options);
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddPersistence(Dsn.Parse(options.Dsn));
            builder.Services.AddCourier(options);
            builder.Services.AddCourierWorker();
            if (metricsPort != 0)
            {
                builder.Services.AddMetrics(http: false);
                builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<MetricsListener>(sp, metricsPort));
            }
            builder.Services.AddTracing(options, http: false);
            using var host = builder.Build();
            await CliContext.EnsureMigratedAsync(host.Services, ct);
            await host.Services.GetRequiredService<CourierTemplates>().ValidateAsync(ct);
            Console.Error.WriteLine($"gatehouse {Http.Health.HealthEndpoints.CurrentVersion}: courier worker on database {Dsn.Redact(options.Dsn)}");
            await host.RunAsync(ct);
            return 0;
        }));
        return new Command("courier", "Deliver the messages Gatehouse queues (e-mails with codes and links).") { watch };
    }
}
