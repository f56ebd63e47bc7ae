using System.Collections;
using System.CommandLine;
using Gatehouse.Config;
using Gatehouse.Persistence;

namespace Gatehouse.Cli;

/// <summary>What every command shares: <c>--config</c> files, environment overrides and the one-line error rule.</summary>
internal static class CliContext
{
    public static readonly Option<string[]> Config = new("--config", "-c")
    {
        Description = "Path to a configuration file (YAML or JSON); repeat to merge several, later files win.",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
        Recursive = true,
    };

    /// <summary>
    /// How long a stopping <c>serve</c> or <c>courier watch</c> (SIGTERM, SIGINT) lets requests and deliveries in flight
    /// finish: Kratos's <c>graceful.DefaultShutdownTimeout</c> (<c>cmd/daemon/serve.go</c>). The listeners close at
    /// once, so no new request arrives; the process ends as soon as the last one in flight is answered.
    /// </summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// System.CommandLine's own limit after a termination signal (its default is 2 s, after which it ends the process
    /// with 143 and cuts every request in flight): a little longer than <see cref="ShutdownTimeout"/>, so the host's
    /// graceful stop always decides.
    /// </summary>
    public static readonly TimeSpan ProcessTerminationTimeout = ShutdownTimeout + TimeSpan.FromSeconds(10);

    public static Dictionary<string, string?> Environment()
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables()) env[(string)e.Key] = (string?)e.Value;
        return env;
    }

    /// <summary>Loads the configuration; <paramref name="dsn"/> (a command-line argument) wins over files and environment.</summary>
    public static ConfigLoadResult Load(ParseResult parse, bool dev, string? dsn = null)
    {
        var env = Environment();
        if (!string.IsNullOrEmpty(dsn)) env["DSN"] = dsn;
        var result = ConfigLoader.Load(parse.GetValue(Config) ?? [], env, dev);
        foreach (var warning in result.Warnings) Console.Error.WriteLine($"warning: {warning}");
        return result;
    }

    public static IServiceProvider Services(GatehouseOptions options)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddPersistence(Dsn.Parse(options.Dsn));
        services.AddScoped<ApiKeys.ApiKeyService>();
        return services.BuildServiceProvider();
    }

    /// <summary>Runs a command body: known failures become one line on stderr and exit code 1.</summary>
    public static async Task<int> Run(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception ex) when (ex is ConfigException or Schemas.SchemaConfigException or FormatException or ArgumentException or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"error: {OneLine(ex.Message)}");
            return 1;
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            Console.Error.WriteLine($"error: database: {OneLine(ex.InnerException?.Message ?? ex.Message)}");
            return 1;
        }
    }

    public static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    public static async Task EnsureMigratedAsync(IServiceProvider services, CancellationToken ct)
    {
        var pending = await services.GetRequiredService<DatabaseMigrator>().PendingAsync(ct);
        if (pending.Count > 0)
            throw new InvalidOperationException($"the database has {pending.Count} pending migration(s); run `gatehouse migrate sql` first (or start with --dev)");
    }
}
