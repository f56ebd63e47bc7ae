using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace Gatehouse.Persistence;

/// <summary>
/// Raw SQL on the hot sign-in path, run as EF's own <c>ExecuteSql</c> runs it — one <see cref="IRawSqlCommandBuilder"/>
/// command on the context's connection and transaction, through its interceptors and diagnostics (so the statement
/// counters of the tests see it) — but without EF's LINQ pipeline: <c>ExecuteUpdate</c>, <c>ExecuteDelete</c>,
/// <c>FromSql</c> and <c>SqlQuery</c> build and funcletize an expression tree and look it up in the query cache on every
/// call, which cost more than the statements themselves (a profile of the code login put that pipeline at ~12% of the
/// verification's CPU). Interpolated values become parameters, as with <c>ExecuteSqlAsync</c>.
/// <para>
/// With <c>kept: true</c> the statement runs, on SQLite and outside a transaction, on a statement prepared once and kept
/// by <see cref="SqlitePreparedReads"/>, without EF's command at all (its command builder, relational command, interceptor
/// dispatch and diagnostics cost ~5% of a code login's CPU around statements that take microseconds); each run is then
/// reported as <see cref="DirectSql"/> reports its reads, so statement-counting tests still see it. The parameters are
/// bound as EF binds them (GUIDs as upper-case text, the rest as Microsoft.Data.Sqlite binds the CLR value). Anywhere else
/// <c>kept</c> changes nothing.
/// </para>
/// <para>
/// <see cref="WriteAsync"/> marks a write that may wait for the end of a unit of work (<see cref="HeldWrites"/>): while
/// one is open on the context it is held and runs, with the others held, in one transaction at its commit.
/// </para>
/// </summary>
public static class RawSql
{
    /// <summary>Runs <paramref name="sql"/> and returns the number of rows it changed.</summary>
    public static Task<int> ExecuteAsync(GatehouseDbContext db, FormattableString sql, CancellationToken ct, bool kept = false) =>
        ExecuteRawAsync(db, sql.Format, sql.GetArguments(), ct, kept);

    /// <summary>Runs <paramref name="format"/> (placeholders <c>{0}</c>, <c>{1}</c> … for <paramref name="values"/>) as <see cref="ExecuteAsync"/>.</summary>
    public static async Task<int> ExecuteRawAsync(GatehouseDbContext db, string format, object?[] values, CancellationToken ct, bool kept = false)
    {
        if (kept && SqlitePreparedReads.For(db) is { } direct)
        {
            ct.ThrowIfCancellationRequested();
            return direct.Execute(SqliteText(format, values.Length), SqliteParameters(values), atomic: false, DirectSql.Report);
        }
        var (command, parameters) = Build(db, format, values);
        return await command.RelationalCommand.ExecuteNonQueryAsync(parameters, ct);
    }

    /// <summary>
    /// Runs the statements of <paramref name="sql"/> in one transaction on a kept connection; only where
    /// <see cref="SqlitePreparedReads.For"/> gives one (elsewhere the caller opens its own transaction and uses
    /// <see cref="ExecuteAsync"/>).
    /// </summary>
    public static Task<int> ExecuteKeptAtomicAsync(GatehouseDbContext db, FormattableString sql, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var direct = SqlitePreparedReads.For(db) ?? throw new InvalidOperationException("No kept SQLite connection for this context; open a transaction and use ExecuteAsync.");
        var values = sql.GetArguments();
        return Task.FromResult(direct.Execute(SqliteText(sql.Format, values.Length), SqliteParameters(values), atomic: true, DirectSql.Report));
    }

    /// <summary>
    /// A write that may wait for the unit of work open on <paramref name="db"/> (<see cref="HeldWrites"/>): held until its
    /// commit, and checked then by <paramref name="check"/> (the rows it changed → the exception to throw, or null); with no
    /// unit of work open it runs now (<see cref="ExecuteThroughEfAsync"/>) and is checked at once.
    /// A statement of several writes is atomic when held (the commit's transaction); run now it is as atomic as the caller
    /// makes it.
    /// </summary>
    public static Task WriteAsync(GatehouseDbContext db, FormattableString sql, CancellationToken ct, Func<int, Exception?>? check = null) =>
        WriteRawAsync(db, sql.Format, sql.GetArguments(), ct, check);

    /// <summary><see cref="WriteAsync"/> for a <paramref name="format"/> with <paramref name="values"/> (see <see cref="ExecuteRawAsync"/>).</summary>
    public static async Task WriteRawAsync(GatehouseDbContext db, string format, object?[] values, CancellationToken ct, Func<int, Exception?>? check = null)
    {
        if (TryHold(db, format, values, check)) return;
        var rows = await ExecuteThroughEfAsync(db, format, values, ct);
        if (check?.Invoke(rows) is { } failed) throw failed;
    }

    /// <summary>
    /// Runs <paramref name="format"/> with <paramref name="values"/> through EF's command (on SQLite outside a transaction
    /// answered from a kept prepared statement by <see cref="SqlitePreparedReads"/>): the path of the writes that are not
    /// on the code login's hot path (a flow created; outside a unit of work, a code, a mail, a session). It opens the
    /// context's connection for the request, so a database that cannot be opened answers 503 as before, and EF's
    /// diagnostics and interceptors see it.
    /// </summary>
    public static async Task<int> ExecuteThroughEfAsync(GatehouseDbContext db, string format, object?[] values, CancellationToken ct)
    {
        var (command, parameters) = Build(db, SqlitePreparedReads.Marker + format, values);
        return await command.RelationalCommand.ExecuteNonQueryAsync(parameters, ct);
    }

    /// <summary>
    /// Runs <paramref name="action"/> after the writes <see cref="WriteAsync"/> made on <paramref name="db"/> so far: at the
    /// commit of the unit of work holding them, or now when none holds them (they have run).
    /// </summary>
    public static void AfterWrites(GatehouseDbContext db, Action action)
    {
        if (db.HeldWrites is { } held && db.Database.CurrentTransaction is null) held.AfterCommit(action);
        else action();
    }

    /// <summary>Holds <paramref name="sql"/> for the commit of the unit of work open on <paramref name="db"/>; false when none is open.</summary>
    public static bool TryHold(GatehouseDbContext db, FormattableString sql) => TryHold(db, sql.Format, sql.GetArguments(), null);

    private static bool TryHold(GatehouseDbContext db, string format, object?[] values, Func<int, Exception?>? check)
    {
        // Inside a caller's own transaction a write belongs to it, not to the unit of work.
        if (db.HeldWrites is not { } held || db.Database.CurrentTransaction is not null) return false;
        held.Add(format, values, check);
        return true;
    }

    /// <summary>Runs <paramref name="sql"/> and reads each row it returns with <paramref name="read"/>.</summary>
    public static async Task<List<T>> QueryAsync<T>(GatehouseDbContext db, FormattableString sql, Func<DbDataReader, T> read, CancellationToken ct, bool kept = false)
    {
        var values = sql.GetArguments();
        if (kept && SqlitePreparedReads.For(db) is { } direct)
        {
            ct.ThrowIfCancellationRequested();
            return direct.Read(SqliteText(sql.Format, values.Length), SqliteParameters(values), reader =>
            {
                var list = new List<T>(1);
                while (reader.Read()) list.Add(read(reader));
                return list;
            }, DirectSql.Report);
        }
        var (command, parameters) = Build(db, sql.Format, values);
        var rows = new List<T>(1);
        await using var reader = await command.RelationalCommand.ExecuteReaderAsync(parameters, ct);
        while (await reader.ReadAsync(ct)) rows.Add(read(reader.DbDataReader));
        return rows;
    }

    // A format's SQLite text with EF's parameter names (@p0, @p1 …), made once per format and parameter count.
    private static readonly ConcurrentDictionary<(string Format, int Count), string> SqliteTexts = new();

    internal static string SqliteText(string format, int count) =>
        SqliteTexts.GetOrAdd((format, count), static key =>
            string.Format(CultureInfo.InvariantCulture, key.Format, [.. Enumerable.Range(0, key.Count).Select(i => (object)("@p" + i.ToString(CultureInfo.InvariantCulture)))]));

    private static readonly string[] ParameterNames = [.. Enumerable.Range(0, 64).Select(i => "@p" + i.ToString(CultureInfo.InvariantCulture))];

    /// <summary>The values as EF's SQLite mappings bind them: GUIDs as upper-case text, the rest as Microsoft.Data.Sqlite binds the CLR value.</summary>
    internal static SqliteParameter[] SqliteParameters(object?[] values)
    {
        var parameters = new SqliteParameter[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var name = i < ParameterNames.Length ? ParameterNames[i] : "@p" + i.ToString(CultureInfo.InvariantCulture);
            parameters[i] = values[i] switch
            {
                Guid g => new SqliteParameter(name, SqliteType.Text) { Value = Stores.EfOAuth2TokenStore.SqliteGuid(g) },
                null => new SqliteParameter(name, DBNull.Value),
                var v => new SqliteParameter(name, v),
            };
        }
        return parameters;
    }

    /// <summary>
    /// On SQLite, the first of these statements in a request opens the context's connection for the rest of the request,
    /// so that EF does not open and close it around each command (~6% of a code verification's CPU, for a connection that
    /// a kept statement does not even use). A SQLite connection outside a transaction holds no lock and no snapshot; EF
    /// closes it when the context goes back to its pool (or is disposed). PostgreSQL's pooled connections are left to EF.
    /// </summary>
    private static void KeepOpen(GatehouseDbContext db)
    {
        if (db is SqliteGatehouseDbContext && db.Database.GetDbConnection().State != System.Data.ConnectionState.Open)
            db.Database.OpenConnection();
    }

    /// <summary>A stored UTC time as the model reads it (SQLite keeps no time zone; PostgreSQL's timestamptz is UTC).</summary>
    public static DateTime Utc(DbDataReader reader, int ordinal) => DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc);

    public static DateTime? NullableUtc(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Utc(reader, ordinal);

    public static Guid? NullableGuid(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetGuid(ordinal);

    private static (RawSqlCommand Command, RelationalCommandParameterObject Parameters) Build(GatehouseDbContext db, string format, object?[] arguments)
    {
        KeepOpen(db);
        var command = db.GetService<IRawSqlCommandBuilder>().Build(format, arguments!, db.Model);
        var parameters = new RelationalCommandParameterObject(
            db.GetService<IRelationalConnection>(), command.ParameterValues, null, db,
            db.GetService<IRelationalCommandDiagnosticsLogger>(), CommandSource.ExecuteSqlRaw);
        return (command, parameters);
    }
}
