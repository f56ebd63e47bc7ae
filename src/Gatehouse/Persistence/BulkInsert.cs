using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Gatehouse.Persistence;

/// <summary>
/// Inserts many new rows of one entity type with multi-row <c>INSERT … VALUES (…), (…)</c> statements, without the
/// change tracker. Table, columns and value conversions come from the EF model (each property's relational type
/// mapping makes its parameter), so a row is stored exactly as <c>SaveChanges</c> would store it. Meant for
/// append-only bulk paths (the batch identity import), where tracking and one statement per row cost more than the
/// writes themselves. Runs in the context's current transaction; a constraint violation surfaces as the provider's
/// <see cref="System.Data.Common.DbException"/>.
/// </summary>
public static class BulkInsert
{
    // Below SQLite's 32,766 host parameters and PostgreSQL's 65,535 per statement.
    private const int MaxParameters = 30_000;

    public static async Task InsertAsync<T>(DbContext db, IReadOnlyCollection<T> rows, CancellationToken ct)
        where T : class
    {
        if (rows.Count == 0) return;
        var entityType = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not part of the model.");
        var table = StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema());
        var columns = entityType.GetProperties()
            .Select(p => (Property: p, Column: p.GetColumnName(table), Mapping: p.GetRelationalTypeMapping(), Getter: p.GetGetter()))
            .Where(c => c.Column is not null)
            .ToList();
        var sql = db.GetService<ISqlGenerationHelper>();
        var head = "INSERT INTO " + sql.DelimitIdentifier(table.Name, table.Schema)
            + " (" + string.Join(", ", columns.Select(c => sql.DelimitIdentifier(c.Column!))) + ") VALUES ";
        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction();

        foreach (var chunk in rows.Chunk(Math.Max(1, MaxParameters / columns.Count)))
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            var text = new StringBuilder(head, head.Length + chunk.Length * columns.Count * 8);
            var n = 0;
            for (var r = 0; r < chunk.Length; r++)
            {
                text.Append(r == 0 ? "(" : ", (");
                for (var c = 0; c < columns.Count; c++)
                {
                    var (property, _, mapping, getter) = columns[c];
                    var name = "p" + n++.ToString(CultureInfo.InvariantCulture);
                    if (c > 0) text.Append(", ");
                    text.Append(sql.GenerateParameterNamePlaceholder(name));
                    command.Parameters.Add(mapping.CreateParameter(command, sql.GenerateParameterName(name), getter.GetClrValue(chunk[r]), property.IsNullable));
                }
                text.Append(')');
            }
            command.CommandText = text.ToString();
            await command.ExecuteNonQueryAsync(ct);
        }
    }
}
