using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// Records the SQL commands EF runs against one test server's database (from EF's diagnostic events, so nothing in the
/// server changes): commands on other databases — other tests running at the same time — are left out. Every command
/// EF executes counts: queries (also those answered by <c>SqlitePreparedReads</c>), <c>SaveChanges</c> batches, bulk
/// updates and raw SQL — and the statements Gatehouse runs without EF (<c>DirectSql</c>), which it reports the same way.
/// </summary>
public sealed class SqlStatements : IDisposable, IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
{
    private readonly string _database;
    private readonly IDisposable _allListeners;
    private readonly ConcurrentBag<IDisposable> _subscriptions = [];
    private readonly ConcurrentQueue<string> _executed = new();

    /// <param name="server">The server whose database is watched: the SQLite file or the PostgreSQL database of its DSN.</param>
    public SqlStatements(TestServer server)
    {
        var dsn = Gatehouse.Persistence.Dsn.Parse(server.Options.Dsn!);
        _database = dsn.Provider == Gatehouse.Persistence.DatabaseProvider.Sqlite
            ? new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(dsn.ConnectionString).DataSource
            : new Npgsql.NpgsqlConnectionStringBuilder(dsn.ConnectionString).Database!;
        _allListeners = DiagnosticListener.AllListeners.Subscribe(this);
    }

    /// <summary>The commands executed since the last <see cref="Take"/> (their SQL text), and forgets them.</summary>
    public IReadOnlyList<string> Take()
    {
        var taken = new List<string>();
        while (_executed.TryDequeue(out var sql)) taken.Add(sql);
        return taken;
    }

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener listener)
    {
        if (listener.Name is DbLoggerCategory.Name or Gatehouse.Persistence.DirectSql.DiagnosticName) _subscriptions.Add(listener.Subscribe(this));
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> e)
    {
        if (e.Value is Gatehouse.Persistence.DirectSql.Executed direct)
        {
            if (string.Equals(direct.Database, _database, StringComparison.Ordinal)) _executed.Enqueue(direct.Sql);
            return;
        }
        if (e.Key != RelationalEventId.CommandExecuted.Name || e.Value is not CommandExecutedEventData data) return;
        var connection = data.Command.Connection;
        var database = connection is Microsoft.Data.Sqlite.SqliteConnection sqlite ? sqlite.DataSource : connection?.Database;
        if (string.Equals(database, _database, StringComparison.Ordinal)) _executed.Enqueue(data.Command.CommandText);
    }

    void IObserver<DiagnosticListener>.OnCompleted() { }

    void IObserver<DiagnosticListener>.OnError(Exception error) { }

    void IObserver<KeyValuePair<string, object?>>.OnCompleted() { }

    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error) { }

    public void Dispose()
    {
        _allListeners.Dispose();
        while (_subscriptions.TryTake(out var s)) s.Dispose();
    }
}
