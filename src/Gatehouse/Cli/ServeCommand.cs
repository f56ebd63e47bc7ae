using System.CommandLine;
using Gatehouse.Config;
using Gatehouse.Courier;
using Gatehouse.Courier.Templates;
using Gatehouse.Persistence;
using Gatehouse.Schemas;

namespace Gatehouse.Cli;

internal static class ServeCommand
{
    public static Command Create()
    {
        var dev = new Option<bool>("--dev") { Description = "Development mode: SQLite file in the working directory by default, migrations applied at start, no API key on the admin listener, relaxed cookies, mail shown on the dev mailbox page (/ui/dev/mailbox) unless courier.smtp.connection_uri is set.", Recursive = true };
        var watchCourier = new Option<bool>("--watch-courier") { Description = "Also run the courier worker in this process, delivering queued messages (otherwise run `gatehouse courier watch`).", Recursive = true };
        // Kratos's and Hydra's serve commands take it; their documented command lines (docker-compose files, guides)
        // carry it, so they must not fail here.
        var sqaOptOut = new Option<bool>("--sqa-opt-out") { Description = "Accepted as Kratos and Hydra take it: Gatehouse sends no usage telemetry, so there is nothing to opt out of.", Recursive = true };
        var command = new Command("serve", "Run the Gatehouse server (public API, default 127.0.0.1:4433; admin API, default 127.0.0.1:4434).") { dev, watchCourier, sqaOptOut };
        command.SetAction(Action(dev, watchCourier, ServedListeners.Both));
        // Hydra's subcommands, so `hydra serve all --dev` and split deployments carry over.
        var all = new Command("all", "Hydra's `serve all`: both listeners, as `gatehouse serve`.");
        all.SetAction(Action(dev, watchCourier, ServedListeners.Both));
        var onlyPublic = new Command("public", "Hydra's `serve public`: only the public listener (serve.public.*); run `serve admin` in another process on the same database.");
        onlyPublic.SetAction(Action(dev, watchCourier, ServedListeners.Public));
        var onlyAdmin = new Command("admin", "Hydra's `serve admin`: only the admin listener (serve.admin.*); run `serve public` in another process on the same database.");
        onlyAdmin.SetAction(Action(dev, watchCourier, ServedListeners.Admin));
        command.Subcommands.Add(all);
        command.Subcommands.Add(onlyPublic);
        command.Subcommands.Add(onlyAdmin);
        return command;
    }

    private static Func<ParseResult, CancellationToken, Task<int>> Action(Option<bool> dev, Option<bool> watchCourier, ServedListeners served) =>
        (parse, ct) => CliContext.Run(async () =>
        {
            var config = CliContext.Load(parse, parse.GetValue(dev));
            var options = config.Options;
            // --dev, or Kratos's `dev` key in the config or environment.
            var isDev = options.Dev;
            options.Serve.Served = served;
            // The two halves run in two processes on one database. Hydra refuses an in-memory database here; Gatehouse
            // refuses SQLite too: a SQLite file serves one process, whose whoami and OAuth2 client caches see only its own
            // writes (docs/sessions.md), so a session revoked through `serve admin` would stay valid in `serve public`.
            if (served != ServedListeners.Both && Dsn.Parse(options.Dsn) is { } dsn && (dsn.InMemory || dsn.Provider != DatabaseProvider.Postgres))
                throw new ArgumentException($"serve {(served == ServedListeners.Public ? "public" : "admin")} needs PostgreSQL, which both halves share: SQLite and memory serve one process (run `gatehouse serve` for both listeners in one).");
            var schemas = await IdentitySchemaRegistry.LoadAsync(options, config.BaseDirectory, ct);
            // In --dev without SMTP, mail goes to the dev mailbox page, so the worker runs here to deliver it there.
            var devMailbox = DevMailbox.Active(options);
            var withWorker = parse.GetValue(watchCourier) || options.WatchCourier || devMailbox;
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
            var listeners = served switch
            {
                ServedListeners.Public => $"public API on {Http.UnixSockets.Describe(options.Serve.Public)}",
                ServedListeners.Admin when !Http.UnixSockets.Shared(options.Serve) => $"admin API on {Http.UnixSockets.Describe(options.Serve.Admin)}",
                _ => $"public API on {Http.UnixSockets.Describe(options.Serve.Public)}, admin API on {Http.UnixSockets.Describe(options.Serve.Admin)}",
            };
            Console.Error.WriteLine($"gatehouse {Http.Health.HealthEndpoints.CurrentVersion}: {listeners}, database {Dsn.Redact(options.Dsn)}{(withWorker ? ", courier worker running" : "")}");
            if (isDev && options.Ui.Enabled && served != ServedListeners.Admin)
            {
                var publicBase = Http.ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/');
                Console.Error.WriteLine($"self-service UI: {publicBase}{Ui.UiEndpoints.Login} (registration: {Ui.UiEndpoints.Registration})");
                Console.Error.WriteLine(devMailbox
                    ? $"dev mailbox (mail is not sent; no courier.smtp.connection_uri): {publicBase}{Ui.UiEndpoints.DevMailbox}"
                    : $"dev mailbox (copies of the mail sent through SMTP): {publicBase}{Ui.UiEndpoints.DevMailbox}");
            }
            await app.RunAsync(ct);
            return 0;
        });
}
