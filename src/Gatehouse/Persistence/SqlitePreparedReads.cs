using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Gatehouse.Persistence;

/// <summary>
/// Runs the SQLite reads tagged with <see cref="Tag"/> (<c>TagWith</c>) through statements that are prepared once and
/// kept, instead of being compiled by SQLite on every execution. Microsoft.Data.Sqlite prepares each new command and
/// finalises a connection's statements when it closes, and EF creates a command per query and closes its connection
/// after it, so every query pays SQLite's parse and plan: for a five-table join that was most of the query's cost
/// (measured ~150–180 µs to prepare against ~35 µs to run, at 30,000 identities).
/// <para>
/// This interceptor keeps a few connections of its own open, each with the tagged statements it has prepared. A tagged
/// query outside a transaction borrows one, runs the prepared statement with the very parameters EF made for its own
/// command, and hands EF that statement's reader; EF materialises it as usual, and the connection goes back when EF
/// disposes the reader. Reads outside a transaction see the latest committed data on any connection, so the answer is
/// the one EF's own connection would have given. Untagged queries and queries inside a transaction run as before. On
/// PostgreSQL the tag is only a comment (Npgsql's auto-prepare already keeps statements there).
/// </para>
/// <para>
/// Raw statements of the sign-in path (<see cref="RawSql"/> with <c>kept: true</c>: a code's guess counted, a rate-limit
/// counter, a code claimed) run here directly, without EF's command around them, outside a transaction only: a write
/// commits on the kept connection as it would have on EF's, which holds no transaction either. Tagged writes that EF runs
/// (<see cref="RawSql.ExecuteThroughEfAsync"/>) are answered here from kept statements too, as the tagged reads are.
/// The kept connections get the pragmas <see cref="SqlitePragmas"/> sets on EF's (foreign keys on, WAL syncing
/// <c>NORMAL</c>, lock wait). An atomic statement, and the writes a unit of work held back (<see cref="HeldWrites"/>),
/// run in one transaction on the kept connection, as the caller's own transaction would have (<see cref="For"/> says
/// whether a context's kept statements run here).
/// </para>
/// </summary>
public sealed class SqlitePreparedReads(string connectionString) : DbCommandInterceptor, IDisposable
{
    /// <summary>
    /// The query tag that opts a read-only, non-tracking query in. Only the identifier lookup uses it: tagging whoami's
    /// query was followed by two failures of a browser UI test on a busy machine that could not be reproduced or
    /// explained (see <c>SessionManager</c>), so it was left out.
    /// </summary>
    public const string Tag = "gatehouse:prepared-read";

    // EF writes each tag as an SQL comment line ahead of the statement.
    internal static readonly string Marker = "-- " + Tag + Environment.NewLine;

    // Connections kept for reuse; more are opened under concurrency and closed again when they come back to a full pool.
    private static readonly int MaxIdle = Math.Max(4, Environment.ProcessorCount * 2);

    // Distinct tagged statements per connection; a few dozen in practice (one per tagged query shape, and per set of
    // changed columns of a flow update).
    private const int MaxStatements = 64;

    private readonly ConcurrentBag<Lease> _idle = [];
    private readonly ConditionalWeakTable<DbDataReader, Lease> _readers = [];
    private volatile bool _disposed;
    private long _served;
    private long _prepared;

    /// <summary>Tagged reads answered from a kept statement, and statements prepared for them (for tests).</summary>
    internal (long Served, long Prepared) Counts => (Interlocked.Read(ref _served), Interlocked.Read(ref _prepared));

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result) =>
        !result.HasResult && TryExecute(command) is { } reader ? InterceptionResult<DbDataReader>.SuppressWithResult(reader) : result;

    // SQLite has no asynchronous I/O: Microsoft.Data.Sqlite's async methods run synchronously too.
    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(ReaderExecuting(command, eventData, result));
    }

    // The instance registered on a context's options (per options instance: one per provider's pool), or none.
    private static readonly ConditionalWeakTable<Microsoft.EntityFrameworkCore.Infrastructure.IDbContextOptions, StrongBox<SqlitePreparedReads?>> ByOptions = [];

    /// <summary>
    /// The instance that runs <paramref name="db"/>'s kept statements: registered on a SQLite context that has no transaction
    /// open (inside one, statements run on the context's connection so that they see, and join, its writes); else null.
    /// </summary>
    public static SqlitePreparedReads? For(GatehouseDbContext db)
    {
        if (db is not SqliteGatehouseDbContext || db.Database.CurrentTransaction is not null) return null;
        var options = Microsoft.EntityFrameworkCore.Infrastructure.AccessorExtensions.GetService<Microsoft.EntityFrameworkCore.Infrastructure.IDbContextOptions>(db);
        return ByOptions.GetValue(options, o => new StrongBox<SqlitePreparedReads?>(
            o.FindExtension<Microsoft.EntityFrameworkCore.Infrastructure.CoreOptionsExtension>()?.Interceptors?.OfType<SqlitePreparedReads>().FirstOrDefault())).Value;
    }

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result) =>
        !result.HasResult && TryExecuteNonQuery(command) is { } rows ? InterceptionResult<int>.SuppressWithResult(rows) : result;

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(NonQueryExecuting(command, eventData, result));
    }

    /// <summary>EF has closed the reader (it closes before it disposes): the connection can serve the next query.</summary>
    public override InterceptionResult DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
    {
        var reader = eventData.DataReader;
        if (_readers.TryGetValue(reader, out var lease))
        {
            _readers.Remove(reader);
            reader.Dispose();
            Return(lease);
        }
        return result;
    }

    /// <summary>
    /// A read of the caller's own, without EF: <paramref name="sql"/> on a kept prepared statement with
    /// <paramref name="parameters"/>, and <paramref name="read"/> applied to its first row (default without one). For the
    /// hottest single-row reads, where EF's command, connection open and close, and materialisation are most of the cost.
    /// Outside transactions only, like the tagged reads.
    /// </summary>
    public T? ReadFirst<T>(string sql, ReadOnlySpan<SqliteParameter> parameters, Func<SqliteDataReader, T> read) =>
        Run(sql, parameters, read, firstRowOnly: true, executed: null);

    /// <summary>
    /// A statement of the caller's own without EF (<see cref="DirectSql"/>): <paramref name="sql"/> on a kept prepared
    /// statement with <paramref name="parameters"/>, and <paramref name="read"/> given its reader before the first row;
    /// <paramref name="executed"/> is told the statement ran. Outside transactions only, like the tagged reads.
    /// </summary>
    internal T Read<T>(string sql, SqliteParameter[] parameters, Func<DbDataReader, T> read, Action<DbConnection, string> executed) =>
        Run<T>(sql, parameters, read, firstRowOnly: false, executed)!;

    /// <summary>
    /// <see cref="ReadFirst"/> and <see cref="Read"/>: a kept statement run with <paramref name="parameters"/>, its reader
    /// given to <paramref name="read"/> (only for a first row, and default without one, when
    /// <paramref name="firstRowOnly"/>). No closure, so the hottest reads allocate nothing for it.
    /// </summary>
    private T? Run<T>(string sql, ReadOnlySpan<SqliteParameter> parameters, Func<SqliteDataReader, T> read, bool firstRowOnly, Action<DbConnection, string>? executed)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var lease = Rent();
        try
        {
            var prepared = lease.Statement(sql, ref _prepared);
            prepared.Parameters.Clear();
            foreach (var parameter in parameters) prepared.Parameters.Add(parameter);
            Interlocked.Increment(ref _served);
            T? result;
            using (var reader = prepared.ExecuteReader()) result = !firstRowOnly ? read(reader) : reader.Read() ? read(reader) : default;
            executed?.Invoke(lease.Connection, sql);
            return result;
        }
        catch
        {
            lease.Dispose();
            lease = null;
            throw;
        }
        finally
        {
            if (lease is not null) Return(lease);
        }
    }

    /// <summary>
    /// A write of the caller's own without EF (<see cref="RawSql"/> with <c>kept: true</c>): <paramref name="sql"/> (one or
    /// more statements) on a kept prepared statement with <paramref name="parameters"/>; with <paramref name="atomic"/>, its
    /// statements in one transaction (<c>BEGIN IMMEDIATE</c>) on the kept connection. The rows changed;
    /// <paramref name="executed"/> is told the statement ran. Outside transactions only, like the tagged reads.
    /// </summary>
    internal int Execute(string sql, SqliteParameter[] parameters, bool atomic, Action<DbConnection, string> executed)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return OnLease((sql, parameters, atomic, executed), static (self, lease, s) =>
        {
            var prepared = lease.Statement(s.sql, ref self._prepared);
            prepared.Parameters.Clear();
            prepared.Parameters.AddRange(s.parameters);
            Interlocked.Increment(ref self._served);
            int rows;
            if (!s.atomic) rows = prepared.ExecuteNonQuery();
            else
            {
                using var transaction = lease.Connection.BeginTransaction();
                prepared.Transaction = transaction;
                try
                {
                    rows = prepared.ExecuteNonQuery();
                    transaction.Commit();
                }
                finally
                {
                    prepared.Transaction = null;
                }
            }
            s.executed(lease.Connection, s.sql);
            return rows;
        });
    }

    /// <summary>
    /// Writes held back for one commit (<see cref="HeldWrites"/>): every statement on its kept prepared statement, all in one
    /// transaction (<c>BEGIN IMMEDIATE</c>: the write lock is taken at once and held only while they run), each checked by
    /// its own rule (a failed check rolls all of them back and is thrown), then one commit. <paramref name="executed"/> is
    /// told of each statement that ran.
    /// </summary>
    internal void ExecuteBatch(IReadOnlyList<(string Sql, SqliteParameter[] Parameters, Func<int, Exception?>? Check)> statements, Action<DbConnection, string> executed)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // A statement that fails (or a failed check) leaves the transaction rolled back by its disposal; the connection is
        // then closed rather than reused (OnLease), as after any failure here.
        OnLease((statements, executed), static (self, lease, s) =>
        {
            using var transaction = lease.Connection.BeginTransaction();
            foreach (var (sql, parameters, check) in s.statements)
            {
                var prepared = lease.Statement(sql, ref self._prepared);
                prepared.Parameters.Clear();
                prepared.Parameters.AddRange(parameters);
                prepared.Transaction = transaction;
                int rows;
                try
                {
                    rows = prepared.ExecuteNonQuery();
                }
                finally
                {
                    prepared.Transaction = null;
                }
                Interlocked.Increment(ref self._served);
                s.executed(lease.Connection, sql);
                if (check?.Invoke(rows) is { } failed) throw failed;
            }
            transaction.Commit();
            return s.statements.Count;
        });
    }

    /// <summary>A tagged write that EF runs (<see cref="RawSql.ExecuteThroughEfAsync"/>): on its kept statement, outside transactions only.</summary>
    private int? TryExecuteNonQuery(DbCommand command)
    {
        if (_disposed || command.Transaction is not null || !command.CommandText.StartsWith(Marker, StringComparison.Ordinal)) return null;
        return OnLease(command, static (self, lease, command) =>
        {
            var prepared = lease.Statement(command.CommandText, ref self._prepared);
            prepared.CommandTimeout = command.CommandTimeout;
            prepared.Parameters.Clear();
            foreach (SqliteParameter parameter in command.Parameters) prepared.Parameters.Add(parameter);
            Interlocked.Increment(ref self._served);
            return prepared.ExecuteNonQuery();
        });
    }

    private SqliteDataReader? TryExecute(DbCommand command)
    {
        if (_disposed || command.Transaction is not null || !command.CommandText.StartsWith(Marker, StringComparison.Ordinal)) return null;
        var lease = Rent();
        try
        {
            var prepared = lease.Statement(command.CommandText, ref _prepared);
            prepared.CommandTimeout = command.CommandTimeout;
            prepared.Parameters.Clear();
            foreach (SqliteParameter parameter in command.Parameters) prepared.Parameters.Add(parameter);
            var reader = prepared.ExecuteReader();
            _readers.Add(reader, lease);
            Interlocked.Increment(ref _served);
            return reader;
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <paramref name="work"/> on a kept connection: given back for reuse when it succeeds, closed (with its statements)
    /// when it fails, since a failed statement may leave it in a state no later query should inherit. The writes' shared
    /// frame; <paramref name="state"/> instead of a closure.
    /// </summary>
    private T OnLease<TState, T>(TState state, Func<SqlitePreparedReads, Lease, TState, T> work)
    {
        var lease = Rent();
        T result;
        try
        {
            result = work(this, lease, state);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
        Return(lease);
        return result;
    }

    private Lease Rent()
    {
        if (_idle.TryTake(out var lease)) return lease;
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            // As SqlitePragmas sets on EF's connections (kept statements also write): wait for a lock rather than fail,
            // WAL syncing NORMAL, foreign keys enforced.
            using var pragma = connection.CreateCommand();
            pragma.CommandText = SqlitePragmas.Sql;
            pragma.ExecuteNonQuery();
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        return new Lease(connection);
    }

    private void Return(Lease lease)
    {
        lease.ReleaseParameters();
        if (_disposed || _idle.Count >= MaxIdle)
        {
            lease.Dispose();
            return;
        }
        _idle.Add(lease);
        if (_disposed && _idle.TryTake(out var late)) late.Dispose();
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var lease)) lease.Dispose();
    }

    /// <summary>One open connection and the statements prepared on it. Used by one query at a time.</summary>
    private sealed class Lease(SqliteConnection connection) : IDisposable
    {
        public SqliteConnection Connection => connection;

        private readonly Dictionary<string, SqliteCommand> _statements = new(StringComparer.Ordinal);

        public SqliteCommand Statement(string sql, ref long preparedCount)
        {
            if (_statements.TryGetValue(sql, out var statement)) return statement;
            if (_statements.Count >= MaxStatements) DisposeStatements();
            statement = connection.CreateCommand();
            statement.CommandText = sql;
            statement.Prepare();
            Interlocked.Increment(ref preparedCount);
            _statements.Add(sql, statement);
            return statement;
        }

        /// <summary>The parameters belong to EF's command; do not keep them (or their values) alive.</summary>
        public void ReleaseParameters()
        {
            foreach (var statement in _statements.Values) statement.Parameters.Clear();
        }

        private void DisposeStatements()
        {
            foreach (var statement in _statements.Values) statement.Dispose();
            _statements.Clear();
        }

        public void Dispose()
        {
            DisposeStatements();
            connection.Dispose();
        }
    }
}
