using System.Data.Common;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Gatehouse.Persistence;

/// <summary>
/// One SQL statement of the hottest reads, run without EF at all: no query pipeline, no command builder, no shaper. On
/// SQLite outside a transaction on a statement kept prepared by <see cref="SqlitePreparedReads"/>; otherwise on the
/// context's own connection and transaction (PostgreSQL: Npgsql's auto-prepare keeps it), so a read inside a caller's
/// transaction sees its writes, as EF's would. A profile of the code login put EF around the flow and identity reads
/// (compiled queries: parameter extraction, a shaper that compiles closures on every call, connection open and close)
/// at ~13% of the login's CPU.
/// <para>
/// The text uses <c>@name</c> parameters (SQLite's own syntax); PostgreSQL gets them as positional <c>$1</c>, <c>$2</c> … once,
/// so Npgsql has nothing to rewrite per call. Each run is reported to <see cref="DiagnosticName"/> (only while
/// something listens), as EF reports its commands, so that the tests that count a flow's statements still see it.
/// </para>
/// </summary>
public sealed partial class DirectSql
{
    /// <summary>The <see cref="DiagnosticListener"/> that reports each executed statement (<see cref="ExecutedEvent"/>).</summary>
    public const string DiagnosticName = "Gatehouse.Persistence.DirectSql";

    /// <summary>The event of an executed statement; its payload is an <see cref="Executed"/>.</summary>
    public const string ExecutedEvent = "CommandExecuted";

    private static readonly DiagnosticListener Diagnostics = new(DiagnosticName);

    private readonly string _postgres;
    private readonly string[] _names;

    /// <param name="sql">The statement, with <c>@name</c> parameters (the same text must run on SQLite and PostgreSQL).</param>
    /// <param name="names">The parameters' names without <c>@</c>, in the order their values are given.</param>
    public DirectSql(string sql, params string[] names)
    {
        Sqlite = sql;
        _names = names;
        _postgres = Parameter().Replace(sql, m =>
        {
            var index = Array.IndexOf(names, m.Groups[1].Value);
            return index < 0 ? throw new ArgumentException($"@{m.Groups[1].Value} is not among the parameters", nameof(names)) : "$" + (index + 1);
        });
    }

    /// <summary>The statement as SQLite runs it.</summary>
    public string Sqlite { get; }

    /// <summary>An executed statement: the database it ran on (SQLite's data source, PostgreSQL's database) and its text.</summary>
    public sealed record Executed(string Database, string Sql);

    /// <summary>
    /// Runs the statement with <paramref name="values"/> (in the order of the names) and returns what
    /// <paramref name="read"/> makes of its reader (called once, before the first row).
    /// </summary>
    public async Task<T> ReadAsync<T>(GatehouseDbContext db, SqlitePreparedReads? kept, object?[] values, Func<DbDataReader, T> read, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var postgres = db is PostgresGatehouseDbContext;
        if (!postgres && kept is not null && db.Database.CurrentTransaction is null)
            return kept.Read(Sqlite, SqliteParameters(values), read, Report);

        var connection = db.Database.GetDbConnection();
        var opened = connection.State != System.Data.ConnectionState.Open;
        if (opened) await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = connection.CreateCommand();
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            if (postgres)
            {
                command.CommandText = _postgres;
                foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
            }
            else
            {
                command.CommandText = Sqlite;
                command.Parameters.AddRange(SqliteParameters(values));
            }
            T result;
            await using (var reader = await command.ExecuteReaderAsync(ct)) result = read(reader);
            Report(connection, command.CommandText);
            return result;
        }
        finally
        {
            // PostgreSQL: as EF, a pooled connection opened for one command goes back after it. SQLite: as RawSql, it stays
            // open for the rest of the request (EF closes it when the context goes back to its pool).
            if (opened && postgres) await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The values as EF's SQLite mappings store them: GUIDs as upper-case text, the rest as Microsoft.Data.Sqlite binds them.</summary>
    private SqliteParameter[] SqliteParameters(object?[] values)
    {
        if (values.Length != _names.Length) throw new ArgumentException($"{_names.Length} values expected", nameof(values));
        var parameters = new SqliteParameter[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            parameters[i] = values[i] switch
            {
                Guid g => new SqliteParameter("@" + _names[i], SqliteType.Text) { Value = Stores.EfOAuth2TokenStore.SqliteGuid(g) },
                null => new SqliteParameter("@" + _names[i], DBNull.Value),
                var v => new SqliteParameter("@" + _names[i], v),
            };
        }
        return parameters;
    }

    /// <summary>Reports an executed statement, only while something listens.</summary>
    internal static void Report(DbConnection connection, string sql)
    {
        if (!Diagnostics.IsEnabled(ExecutedEvent)) return;
        var database = connection is SqliteConnection sqlite ? sqlite.DataSource : connection.Database;
        Diagnostics.Write(ExecutedEvent, new Executed(database, sql));
    }

    /// <summary>A stored time as UTC, on either database (SQLite's text read without the general date parser).</summary>
    public static DateTime Utc(DbDataReader reader, int ordinal) =>
        reader is SqliteDataReader sqlite ? SqliteDateTimes.ReadUtc(sqlite, ordinal) : RawSql.Utc(reader, ordinal);

    public static DateTime? NullableUtc(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Utc(reader, ordinal);

    public static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    [GeneratedRegex("@([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Parameter();
}
