using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Gatehouse.Persistence;

/// <summary>
/// Inserts many new rows of one entity type without the change tracker. Table, columns and value conversions come
/// from the EF model (each property's relational type mapping makes its parameter), so a row is stored exactly as
/// <c>SaveChanges</c> would store it. Meant for append-only bulk paths (the batch identity import), where tracking
/// thousands of new entities and one freshly built statement per row cost more than the writes themselves.
/// Runs in the context's current transaction; a constraint violation surfaces as the provider's
/// <see cref="DbException"/>.
/// </summary>
public static class BulkInsert
{
    // PostgreSQL: multi-row INSERT … VALUES (…), (…), well below its 65,535 parameters per statement.
    private const int MaxParameters = 20_000;

    public static async Task InsertAsync<T>(DbContext db, IReadOnlyCollection<T> rows, CancellationToken ct)
        where T : class
    {
        if (rows.Count == 0) return;
        var entityType = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not part of the model.");
        var table = StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema());
        var columns = entityType.GetProperties()
            .Select(p => new Column(p, p.GetColumnName(table)!, p.GetRelationalTypeMapping(), p.GetGetter()))
            .Where(c => c.Name is not null)
            .ToList();
        var sql = db.GetService<ISqlGenerationHelper>();
        var head = "INSERT INTO " + sql.DelimitIdentifier(table.Name, table.Schema)
            + " (" + string.Join(", ", columns.Select(c => sql.DelimitIdentifier(c.Name))) + ") VALUES ";
        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction();

        // SQLite runs in-process, so a statement per row costs no round trip; one prepared single-row statement,
        // re-bound per row, is its fastest path (a wide multi-row statement binds each named parameter by a linear
        // search among all of them). Client/server databases get few, wide statements instead.
        var sqlite = db.Database.IsSqlite();
        var perStatement = sqlite ? 1 : Math.Max(1, MaxParameters / columns.Count);
        DbCommand? reused = null;
        try
        {
        foreach (var chunk in rows.Chunk(perStatement))
        {
            // SQLite re-binds one prepared command per row; PostgreSQL gets a fresh command per statement, so no parameter
            // state can carry over from one wide statement to the next.
            var command = sqlite ? reused ??= connection.CreateCommand() : connection.CreateCommand();
            command.Transaction = transaction;
            var text = new StringBuilder(head, head.Length + chunk.Length * columns.Count * 8);
            command.Parameters.Clear();
            var n = 0;
            for (var r = 0; r < chunk.Length; r++)
            {
                text.Append(r == 0 ? "(" : ", (");
                for (var c = 0; c < columns.Count; c++)
                {
                    var column = columns[c];
                    var name = "p" + n++.ToString(CultureInfo.InvariantCulture);
                    if (c > 0) text.Append(", ");
                    text.Append(sql.GenerateParameterNamePlaceholder(name));
                    command.Parameters.Add(column.Mapping.CreateParameter(command, sql.GenerateParameterName(name), column.Getter.GetClrValue(chunk[r]), column.Property.IsNullable));
                }
                text.Append(')');
            }
            var commandText = text.ToString();
            // Same text as the previous statement (always so for SQLite's single rows): keep the prepared statement.
            if (command.CommandText != commandText) command.CommandText = commandText;
            try
            {
                await command.ExecuteNonQueryAsync(ct);
            }
            finally
            {
                if (!sqlite) await command.DisposeAsync();
            }
        }
        }
        finally
        {
            if (reused is not null) await reused.DisposeAsync();
        }
    }

    private sealed record Column(IProperty Property, string Name, RelationalTypeMapping Mapping, IClrPropertyGetter Getter);
}
