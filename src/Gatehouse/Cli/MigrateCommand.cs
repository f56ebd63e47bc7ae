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
        sql.SetAction(Apply(fromEnv, yes, dsn));
        // Kratos's (ory/x popx) `migrate sql up`: the same as `migrate sql`.
        var up = new Command("up", "Apply the SQL schema migrations to the database (as migrate sql).") { fromEnv, yes, dsn };
        up.SetAction(Apply(fromEnv, yes, dsn));
        sql.Subcommands.Add(up);
        sql.Subcommands.Add(Status("Show which migrations are applied and which are pending (Kratos's migrate sql status)."));
        // Hydra's older spelling, `hydra migrate status`.
        return new Command("migrate", "Database migrations.") { sql, Status("Show which migrations are applied and which are pending (Hydra's migrate status; as migrate sql status).") };
    }

    private static Func<ParseResult, CancellationToken, Task<int>> Apply(Option<bool> fromEnv, Option<bool> yes, Argument<string?> dsn) =>
        (parse, ct) => CliContext.Run(async () =>
        {
            await using var services = Open(parse, fromEnv, dsn, out var options);
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
        });

    /// <summary>
    /// ory/x popx's <c>status</c>: a table of every migration (Version, Name, Status: Applied or Pending), or with
    /// <c>--format json</c> an array of <c>{state, version, name}</c>. With <c>--block</c> it first waits, checking once a
    /// second and listing what is still pending, until nothing is (an init container's wait for <c>migrate sql</c>).
    /// </summary>
    private static Command Status(string description)
    {
        var fromEnv = new Option<bool>("--read-from-env", "-e") { Description = "Read the DSN from the DSN environment variable." };
        var block = new Option<bool>("--block") { Description = "Block until all migrations have been applied." };
        var format = new Option<string>("--format") { Description = "Output: table (the default) or json.", DefaultValueFactory = _ => "table" };
        var dsn = new Argument<string?>("DSN") { Description = "The database (postgres://… or sqlite://…); defaults to the configuration's dsn.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", description) { fromEnv, block, format, dsn };
        command.SetAction((parse, ct) => CliContext.Run(async () =>
        {
            if (parse.GetValue(format) is not ("table" or "json" or "json-pretty")) throw new ArgumentException("--format must be table, json or json-pretty");
            await using var services = Open(parse, fromEnv, dsn, out _);
            var migrator = services.GetRequiredService<DatabaseMigrator>();
            var status = await migrator.StatusAsync(ct);
            while (parse.GetValue(block) && status.Any(m => !m.Applied))
            {
                Console.WriteLine("Waiting for migrations to finish...");
                foreach (var (id, _) in status.Where(m => !m.Applied)) Console.WriteLine($" - {Name(id)}");
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                status = await migrator.StatusAsync(ct);
            }
            if (parse.GetValue(format) == "table")
            {
                Console.WriteLine("Version\tName\tStatus");
                foreach (var (id, applied) in status) Console.WriteLine($"{Version(id)}\t{Name(id)}\t{(applied ? "Applied" : "Pending")}");
                return 0;
            }
            var rows = new System.Text.Json.Nodes.JsonArray([.. status.Select(m => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["state"] = m.Applied ? "Applied" : "Pending",
                ["version"] = Version(m.Id),
                ["name"] = Name(m.Id),
            })]);
            Console.WriteLine(rows.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = parse.GetValue(format) == "json-pretty" }));
            return 0;
        }));
        return command;
    }

    // EF's migration ids are <timestamp>_<name>; popx shows the two as Version and Name.
    private static string Version(string id) => id.Split('_', 2)[0];

    private static string Name(string id) => id.Split('_', 2) is [_, var name] ? name : id;

    private static ServiceProvider Open(ParseResult parse, Option<bool> fromEnv, Argument<string?> dsn, out Config.GatehouseOptions options)
    {
        var explicitDsn = parse.GetValue(dsn);
        if (parse.GetValue(fromEnv)) explicitDsn ??= Environment.GetEnvironmentVariable("DSN") ?? throw new ArgumentException("-e was given but the DSN environment variable is not set");
        options = CliContext.Load(parse, dev: false, explicitDsn).Options;
        return (ServiceProvider)CliContext.Services(options);
    }
}
