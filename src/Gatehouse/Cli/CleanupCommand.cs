using System.CommandLine;
using Gatehouse.Persistence;
using Gatehouse.Persistence.Cleanup;

namespace Gatehouse.Cli;

/// <summary><c>gatehouse cleanup sql</c>, with the flags of <c>kratos cleanup sql</c>.</summary>
internal static class CleanupCommand
{
    public static Command Create()
    {
        var fromEnv = new Option<bool>("--read-from-env", "-e") { Description = "Read the DSN from the DSN environment variable (or the configuration's dsn)." };
        var keepLast = new Option<string>("--keep-last") { Description = "Don't remove records that expired less than this long ago (e.g. 24h).", DefaultValueFactory = _ => "0s" };
        var batchSize = new Option<int?>("--batch-size", "-b", "--database.cleanup.batch_size") { Description = "Rows deleted per statement (default: database.cleanup.batch_size, 100)." };
        var sleep = new Option<string?>("--sleep", "--database.cleanup.sleep.tables") { Description = "Pause between two tables (default: database.cleanup.sleep.tables, 1m)." };
        var dsn = new Argument<string?>("DSN") { Description = "Database to clean (postgres://… or sqlite://…); defaults to the configuration's dsn.", Arity = ArgumentArity.ZeroOrOne };
        var sql = new Command("sql", "Delete expired self-service flows, one-time codes, sessions, stored errors, finished courier messages, ended rate-limit windows, expired OAuth2 tokens and OAuth2 requests, in short batches. Run it as often as you like; back up first.")
        {
            fromEnv, keepLast, batchSize, sleep, dsn,
        };
        sql.SetAction((parse, ct) => CliContext.Run(async () =>
        {
            var explicitDsn = parse.GetValue(dsn);
            if (parse.GetValue(fromEnv)) explicitDsn ??= Environment.GetEnvironmentVariable("DSN");
            var options = CliContext.Load(parse, dev: false, explicitDsn).Options;
            if (string.IsNullOrWhiteSpace(options.Dsn)) throw new ArgumentException("no database given: pass the DSN as an argument, use -e with the DSN environment variable, or set dsn in the configuration");
            var keep = Duration(parse.GetValue(keepLast) ?? "0s", "--keep-last");
            var pause = parse.GetValue(sleep) is { } s ? Duration(s, "--sleep") : options.Database.Cleanup.Sleep.Tables;
            var batch = parse.GetValue(batchSize) ?? options.Database.Cleanup.BatchSize;
            if (batch < 1) throw new ArgumentException($"--batch-size: expected a positive number, got {batch}");
            await using var services = (ServiceProvider)CliContext.Services(options);
            await CliContext.EnsureMigratedAsync(services, ct);
            Console.WriteLine($"Cleaning up records that expired before now - {Config.GoDuration.Format(keep)} on {Dsn.Redact(options.Dsn)} (batches of {batch}, {Config.GoDuration.Format(pause)} between tables)");
            var result = await services.GetRequiredService<DatabaseCleanup>().RunAsync(keep, batch, pause,
                (name, deleted) => Console.WriteLine($"Deleted {deleted} {name}"), ct);
            Console.WriteLine($"Done: deleted {result.Total} rows.");
            return 0;
        }));
        return new Command("cleanup", "Remove expired data from the database.") { sql };
    }

    private static TimeSpan Duration(string value, string flag) =>
        Config.GoDuration.TryParse(value, out var d) && d >= TimeSpan.Zero
            ? d
            : throw new ArgumentException($"{flag}: expected a duration such as 30s, 1m or 24h, got \"{value}\"");
}
