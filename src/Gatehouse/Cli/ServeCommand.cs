using System.CommandLine;
using Gatehouse.Courier;
using Gatehouse.Courier.Templates;
using Gatehouse.Persistence;
using Gatehouse.Schemas;

namespace Gatehouse.Cli;

internal static class ServeCommand
{
    public static Command Create()
    {
        var dev = new Option<bool>("--dev") { Description = "Development mode: SQLite file in the working directory by default, migrations applied at start, no API key on the admin listener, relaxed cookies, mail shown on the dev mailbox page (/ui/dev/mailbox) unless courier.smtp.connection_uri is set." };
        var watchCourier = new Option<bool>("--watch-courier") { Description = "Also run the courier worker in this process, delivering queued messages (otherwise run `gatehouse courier watch`)." };
        var command = new Command("serve", "Run the Gatehouse server (public API, default 127.0.0.1:4433; admin API, default 127.0.0.1:4434).") { dev, watchCourier };
        command.SetAction((parse, ct) => CliContext.Run(async () =>
        {
            var isDev = parse.GetValue(dev);
            var config = CliContext.Load(parse, isDev);
            var options = config.Options;
            var schemas = await IdentitySchemaRegistry.LoadAsync(options, config.BaseDirectory, ct);
            // In --dev without SMTP, mail goes to the dev mailbox page, so the worker runs here to deliver it there.
            var devMailbox = DevMailbox.Active(options);
            var withWorker = parse.GetValue(watchCourier) || devMailbox;
            // A worker without an SMTP server would only burn every message's retries (e-mail over HTTP needs none).
            if (withWorker && !devMailbox && options.Courier.DeliveryStrategy == "smtp") SmtpConnection.Parse(options.Courier.Smtp.ConnectionUri);
            await using var app = GatehouseApp.Build(options, schemas, s =>
            {
                s.Configure<HostOptions>(o => o.ShutdownTimeout = CliContext.ShutdownTimeout);
                if (withWorker) s.AddCourierWorker();
            });
            await app.Services.GetRequiredService<CourierTemplates>().ValidateAsync(ct);
            await app.Services.GetRequiredService<Sessions.Tokenizer.SessionTokenizer>().ValidateAsync(ct);
            var migrator = app.Services.GetRequiredService<DatabaseMigrator>();
            if (isDev)
            {
                var applied = await migrator.MigrateAsync(ct);
                if (applied.Count > 0) Console.Error.WriteLine($"applied {applied.Count} migration(s)");
            }
            else
            {
                await CliContext.EnsureMigratedAsync(app.Services, ct);
            }
            Console.Error.WriteLine($"gatehouse {Http.Health.HealthEndpoints.CurrentVersion}: public API on {Http.UnixSockets.Describe(options.Serve.Public)}, admin API on {Http.UnixSockets.Describe(options.Serve.Admin)}, database {Dsn.Redact(options.Dsn)}{(withWorker ? ", courier worker running" : "")}");
            if (isDev && options.Ui.Enabled)
            {
                var publicBase = Http.ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/');
                Console.Error.WriteLine($"self-service UI: {publicBase}{Ui.UiEndpoints.Login} (registration: {Ui.UiEndpoints.Registration})");
                Console.Error.WriteLine(devMailbox
                    ? $"dev mailbox (mail is not sent; no courier.smtp.connection_uri): {publicBase}{Ui.UiEndpoints.DevMailbox}"
                    : $"dev mailbox (copies of the mail sent through SMTP): {publicBase}{Ui.UiEndpoints.DevMailbox}");
            }
            await app.RunAsync(ct);
            return 0;
        }));
        return command;
    }
}
