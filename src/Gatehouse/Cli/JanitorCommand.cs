using System.CommandLine;
using Gatehouse.Persistence;
using Gatehouse.Persistence.Cleanup;

namespace Gatehouse.Cli;

/// <summary>
/// Hydra's <c>janitor</c>, with its arguments and flags: removes expired OAuth2 tokens (<c>--tokens</c>), login, consent
/// and logout requests that never became a consent session (<c>--requests</c>) and expired JWT-bearer trusts
/// (<c>--grants</c>), in batches, at most <c>--limit</c> rows each. The same cleaners as <c>cleanup sql</c>, which also
/// covers Kratos's tables.
/// </summary>
internal static class JanitorCommand
{
    public static Command Create()
    {
        var dsn = new Argument<string?>("database_url") { Description = "Database to clean (postgres://… or sqlite://…); or use -e or --config.", Arity = ArgumentArity.ZeroOrOne };
        var fromEnv = new Option<bool>("--read-from-env", "-e") { Description = "Read the DSN from the DSN environment variable (or the configuration's dsn)." };
        var tokens = new Option<bool>("--tokens") { Description = "Remove access and refresh tokens past their expiry." };
        var requests = new Option<bool>("--requests") { Description = "Remove expired login, consent and logout requests that did not end in a given consent." };
        var grants = new Option<bool>("--grants") { Description = "Remove expired JWT-bearer grant trusts." };
        var keepIfYounger = new Option<string>("--keep-if-younger") { Description = "Keep rows that expired less than this long ago, e.g. 1h.", DefaultValueFactory = _ => "0s" };
        var limit = new Option<int>("--limit") { Description = "At most this many rows removed per kind in this run.", DefaultValueFactory = _ => 10000 };
        var batchSize = new Option<int>("--batch-size") { Description = "Rows removed per statement.", DefaultValueFactory = _ => 100 };
        // Hydra finds inactive tokens and requests by their age against these lifespans; Gatehouse stores each row's
        // expiry (the client's or the configured lifespan at issue) and finds them by it, so the lifespans are not needed.
        var lifespans = new[] { "--access-lifespan", "--refresh-lifespan", "--consent-request-lifespan" }
            .Select(name => new Option<string?>(name) { Description = "Hydra's; not needed: every token and request carries its own expiry." }).ToArray();
        var command = new Command("janitor", "Remove expired OAuth2 tokens, requests and grants from the database (Hydra's janitor). Irreversible; back up first.")
        {
            dsn, fromEnv, tokens, requests, grants, keepIfYounger, limit, batchSize,
        };
        foreach (var option in lifespans) command.Options.Add(option);
        command.SetAction((parse, ct) => CliContext.Run(async () =>
        {
            var explicitDsn = parse.GetValue(dsn);
            var configFiles = parse.GetValue(CliContext.Config) ?? [];
            if (string.IsNullOrEmpty(explicitDsn) && !parse.GetValue(fromEnv) && configFiles.Length == 0)
                throw new ArgumentException("a DSN is required as the argument when neither -e (the DSN environment variable) nor --config (its dsn) is given");
            var kinds = new List<(string Name, Type Cleaner)>();
            if (parse.GetValue(tokens)) kinds.Add(("tokens", typeof(ExpiredOAuth2TokensCleaner)));
            if (parse.GetValue(requests))
            {
                kinds.Add(("login-consent requests", typeof(ExpiredOAuth2RequestsCleaner)));
                kinds.Add(("logout requests", typeof(ExpiredOAuth2LogoutRequestsCleaner)));
            }
            if (parse.GetValue(grants)) kinds.Add(("grants", typeof(ExpiredOAuth2TrustedJwtIssuersCleaner)));
            if (kinds.Count == 0) throw new ArgumentException("janitor requires at least one of --tokens, --requests or --grants");
            var most = parse.GetValue(limit);
            var batch = parse.GetValue(batchSize);
            if (most <= 0 || batch <= 0) throw new ArgumentException("--limit and --batch-size must both be greater than 0");
            if (batch > most) throw new ArgumentException("--batch-size must not be greater than --limit");
            var keep = Config.GoDuration.TryParse(parse.GetValue(keepIfYounger) ?? "0s", out var k) && k >= TimeSpan.Zero
                ? k
                : throw new ArgumentException($"--keep-if-younger: expected a duration such as 30s, 1m or 24h, got \"{parse.GetValue(keepIfYounger)}\"");
            foreach (var option in lifespans)
            {
                if (parse.GetValue(option) is not { Length: > 0 } value) continue;
                if (!Config.GoDuration.TryParse(value, out var d) || d < TimeSpan.Zero) throw new ArgumentException($"{option.Name}: expected a duration such as 1h, got \"{value}\"");
                Console.Error.WriteLine($"note: {option.Name} is not needed: Gatehouse stores each row's expiry and removes the rows past it");
            }

            if (parse.GetValue(fromEnv)) explicitDsn ??= Environment.GetEnvironmentVariable("DSN");
            var options = CliContext.Load(parse, dev: false, explicitDsn).Options;
            if (string.IsNullOrWhiteSpace(options.Dsn)) throw new ArgumentException("no database given: with -e the DSN environment variable must be set, with --config its dsn");
            await using var services = (ServiceProvider)CliContext.Services(options);
            await CliContext.EnsureMigratedAsync(services, ct);
            var cleanup = services.GetRequiredService<DatabaseCleanup>();
            foreach (var (name, type) in kinds)
            {
                await cleanup.RunAsync(cleanup.Cleaners.Where(type.IsInstanceOfType), keep, batch, most, TimeSpan.Zero,
                    (table, deleted) => Console.WriteLine($"Deleted {deleted} {table}"), ct);
                Console.WriteLine($"Successfully completed Janitor run on {name}");
            }
            return 0;
        }));
        return command;
    }
}
