using System.CommandLine;
using Gatehouse.Persistence;

namespace Gatehouse.Cli;

internal static class MigrateCommand
{
    public static Command Create()
    {
        var fromEnv = new Option<bool>("--read-from-env", "-e") { Description = "Read the DSN from the DSN environment variable." };
        var yes = new Option<bool>("--yes", "-y") { Description = "Apply without asking for confirmation." };
        var dsn = new Argument<string?>("DSN") { Description = "Database to migrate (postgres://… or sqlite://…); defaults to the configuration's dsn.", Arity = ArgumentArity.ZeroOrOne };
        var sql = new Command("sql", "Apply the SQL schema migrations to the database.") { fromEnv, yes, dsn };
        sql.SetAction((parse, ct) => CliContext.Run(async () =>
        {
            var explicitDsn = parse.GetValue(dsn);
            if (parse.GetValue(fromEnv)) explicitDsn ??= Environment.GetEnvironmentVariable("DSN") ?? throw new ArgumentException("-e was given but the DSN environment variable is not set");
            var options = CliContext.Load(parse, dev: false, explicitDsn).Options;
            await using var services = (ServiceProvider)CliContext.Services(options);
            var migrator = services.GetRequiredService<DatabaseMigrator>();
            var pending = await migrator.PendingAsync(ct);
            if (pending.Count == 0)
            {
                Console.WriteLine("The database is up to date; no migrations to apply.");
                return 0;
            }
            Console.WriteLine($"{pending.Count} migration(s) to apply to {Dsn.Redact(options.Dsn)}:");
            foreach (var m in pending) Console.WriteLine($"  {m}");
            if (!parse.GetValue(yes))
            {
                if (Console.IsInputRedirected && Console.In.Peek() < 0)
                    throw new InvalidOperationException("confirmation needed but no terminal is attached; pass --yes to apply");
                Console.Write("Apply them? [y/N] ");
                var answer = Console.ReadLine()?.Trim().ToLowerInvariant();
                if (answer is not ("y" or "yes"))
                {
                    Console.Error.WriteLine("error: aborted, nothing was applied");
                    return 1;
                }
            }
            await migrator.MigrateAsync(ct);
            Console.WriteLine($"Applied {pending.Count} migration(s).");
            return 0;
        }));
        return new Command("migrate", "Database migrations.") { sql };
    }
}
