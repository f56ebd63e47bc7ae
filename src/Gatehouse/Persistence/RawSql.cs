using System.Data.Common;
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
/// (<see cref="SqlitePreparedReads"/>); anywhere else that only adds a comment line ahead of it.
/// </para>
/// </summary>
public static class RawSql
{
    /// <summary>Runs <paramref name="sql"/> and returns the number of rows it changed.</summary>
    public static async Task<int> ExecuteAsync(GatehouseDbContext db, FormattableString sql, CancellationToken ct, bool kept = false)
    {
        var (command, parameters) = Build(db, kept ? SqlitePreparedReads.Marker + sql.Format : sql.Format, sql.GetArguments());
        return await command.RelationalCommand.ExecuteNonQueryAsync(parameters, ct);
    }

    /// <summary>Runs <paramref name="format"/> (placeholders <c>{0}</c>, <c>{1}</c> … for <paramref name="values"/>) as <see cref="ExecuteAsync"/>.</summary>
    public static async Task<int> ExecuteRawAsync(GatehouseDbContext db, string format, object?[] values, CancellationToken ct, bool kept = false)
    {
        var (command, parameters) = Build(db, kept ? SqlitePreparedReads.Marker + format : format, values);
        return await command.RelationalCommand.ExecuteNonQueryAsync(parameters, ct);
    }

    /// <summary>
    /// Runs the statements of <paramref name="sql"/> in one transaction on a kept connection; only where
    /// <see cref="SqlitePreparedReads.Handles"/> says so (elsewhere the caller opens its own transaction and uses
    /// <see cref="ExecuteAsync"/>).
    /// </summary>
    public static async Task<int> ExecuteKeptAtomicAsync(GatehouseDbContext db, FormattableString sql, CancellationToken ct)
    {
        var (command, parameters) = Build(db, SqlitePreparedReads.AtomicMarker + sql.Format, sql.GetArguments());
        return await command.RelationalCommand.ExecuteNonQueryAsync(parameters, ct);
    }

    /// <summary>Runs <paramref name="sql"/> and reads each row it returns with <paramref name="read"/>.</summary>
    public static async Task<List<T>> QueryAsync<T>(GatehouseDbContext db, FormattableString sql, Func<DbDataReader, T> read, CancellationToken ct, bool kept = false)
    {
        var (command, parameters) = Build(db, kept ? SqlitePreparedReads.Marker + sql.Format : sql.Format, sql.GetArguments());
        var rows = new List<T>(1);
        await using var reader = await command.RelationalCommand.ExecuteReaderAsync(parameters, ct);
        while (await reader.ReadAsync(ct)) rows.Add(read(reader.DbDataReader));
        return rows;
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
