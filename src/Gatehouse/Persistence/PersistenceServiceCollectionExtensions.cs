using Gatehouse.Persistence.Cleanup;
using Gatehouse.Persistence.Stores;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Persistence;

public static class PersistenceServiceCollectionExtensions
{
    public static IServiceCollection AddPersistence(this IServiceCollection services, Dsn dsn)
    {
        services.TryAddSingleton(dsn);
        if (dsn.Provider == DatabaseProvider.Sqlite)
        {
            if (dsn.InMemory) services.TryAddSingleton(new InMemoryKeepAlive(dsn.ConnectionString));
            // Created by the container (not registered as an instance) so that it is disposed, closing its connections,
            // when the application stops: a shared in-memory database lives as long as any connection to it.
            services.TryAddSingleton(_ => new SqlitePreparedReads(dsn.ConnectionString));
            services.AddDbContextPool<SqliteGatehouseDbContext>((sp, o) =>
            {
                ConfigureSqlite(o, dsn.ConnectionString, sp.GetRequiredService<SqlitePreparedReads>());
                AddAppInterceptors(sp, o);
            });
            services.TryAddScoped<GatehouseDbContext>(sp =>
            {
                sp.GetService<InMemoryKeepAlive>();
                return sp.GetRequiredService<SqliteGatehouseDbContext>();
            });
        }
        else
        {
            services.AddDbContextPool<PostgresGatehouseDbContext>((sp, o) => AddAppInterceptors(sp, ConfigurePostgres(o, dsn.ConnectionString)));
            services.TryAddScoped<GatehouseDbContext>(sp => sp.GetRequiredService<PostgresGatehouseDbContext>());
            // Started with the host so that the container disposes it (after the services that use connections).
            services.AddHostedService<PostgresPoolRelease>();
        }
        services.TryAddSingleton<DatabaseMigrator>();
        // Loaded OAuth2 clients; with PostgreSQL (other instances may write) kept current by the whoami cache's change
        // listener, and so off with that cache (session.whoami.cache.enabled: false is the setting for poolers without LISTEN).
        services.TryAddSingleton(sp => new OAuth2.Clients.OAuth2ClientCache(sp.GetService<TimeProvider>() ?? TimeProvider.System,
            listenForChanges: dsn.Provider == DatabaseProvider.Postgres,
            enabled: dsn.Provider != DatabaseProvider.Postgres || sp.GetService<Config.GatehouseOptions>()?.Session.Whoami.Cache.Enabled != false));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IChangeNotificationSubscriber, OAuth2ClientChanges>());
        // The stores behind the features' contracts.
        services.AddStores();
        services.AddDatabaseCleanup();
        return services;
    }

    /// <summary>Interceptors of the application's own services (present when the server registered them).</summary>
    private static void AddAppInterceptors(IServiceProvider services, DbContextOptionsBuilder o)
    {
        if (services.GetService<Sessions.WhoamiCacheInvalidation>() is { } whoami) o.AddInterceptors(whoami);
    }

    /// <param name="preparedReads">
    /// Runs the queries tagged <see cref="SqlitePreparedReads.Tag"/> through kept prepared statements; without it they
    /// run like any other query (same answers, prepared on every execution).
    /// </param>
    public static void ConfigureSqlite(DbContextOptionsBuilder o, string connectionString, SqlitePreparedReads? preparedReads = null)
    {
        o.UseSqlite(connectionString, s => s.MigrationsAssembly(typeof(GatehouseDbContext).Assembly.FullName))
         .AddInterceptors(SqlitePragmas.Instance)
         .ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));
        if (preparedReads is not null) o.AddInterceptors(preparedReads);
    }

    public static DbContextOptionsBuilder ConfigurePostgres(DbContextOptionsBuilder o, string connectionString) =>
        o.UseNpgsql(connectionString)
         .ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));
}

/// <summary>Holds one connection open so a shared in-memory SQLite database outlives its pooled connections.</summary>
public sealed class InMemoryKeepAlive : IDisposable
{
    private readonly SqliteConnection _connection;

    public InMemoryKeepAlive(string connectionString)
    {
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
    }

    public void Dispose() => _connection.Dispose();
}

/// <summary>
/// Per-connection SQLite settings: wait on locks instead of failing, and fast-but-durable WAL syncing. They are
/// connection state, so they are applied once per physical connection: Microsoft.Data.Sqlite pools connections and
/// raises "opened" on every logical open, and preparing the three pragmas on each of them cost about as much as a
/// simple indexed query (measured ~10 µs of CPU per open, i.e. per EF query).
/// </summary>
public sealed class SqlitePragmas : DbConnectionInterceptor
{
    public static readonly SqlitePragmas Instance = new();

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> Configured = [];
    private static readonly object Done = new();

    /// <summary>The pragmas, also for the connections <see cref="SqlitePreparedReads"/> keeps.</summary>
    internal const string Sql = "PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;";

    public override void ConnectionOpened(System.Data.Common.DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(System.Data.Common.DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(System.Data.Common.DbConnection connection)
    {
        // The native handle identifies the physical connection (it outlives logical opens and closes in the pool).
        object? handle = (connection as SqliteConnection)?.Handle;
        if (handle is not null && Configured.TryGetValue(handle, out _)) return;
        using var cmd = connection.CreateCommand();
        cmd.CommandText = Sql;
        cmd.ExecuteNonQuery();
        if (handle is not null) Configured.AddOrUpdate(handle, Done);
    }
}
