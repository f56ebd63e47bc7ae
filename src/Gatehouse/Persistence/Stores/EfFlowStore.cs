using System.Text;
using Gatehouse.SelfService.Flows;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Gatehouse.Persistence.Stores;

/// <summary>
/// <see cref="IFlowStore"/> over EF. Reads are a compiled query; inserts and updates are single SQL statements, not
/// tracked entities: every submit of every method reads and updates its flow, and EF's change tracking cost more than
/// the statements themselves. On SQLite, all three are kept prepared outside transactions (<see cref="RawSql"/>).
/// </summary>
public sealed class EfFlowStore(GatehouseDbContext db) : IFlowStore
{
    // The flows this request read or wrote, as stored (shallow copies: every stored field is a value or an immutable
    // string): an update then writes only the columns that changed since, not the whole row — a flow's UI document is
    // several kilobytes, and most updates change a state or one context.
    private readonly Dictionary<Guid, SelfServiceFlow> _stored = [];

    public async Task InsertAsync(SelfServiceFlow flow, CancellationToken ct)
    {
        flow.Nid = db.Nid;
        var columns = Columns.For(db);
        var sql = new StringBuilder("INSERT INTO ").Append(columns.Table).Append(" (");
        var values = new object?[columns.All.Length];
        for (var i = 0; i < columns.All.Length; i++)
        {
            if (i > 0) sql.Append(", ");
            sql.Append(columns.All[i].Column);
            values[i] = columns.All[i].Get(flow);
        }
        sql.Append(") VALUES (");
        for (var i = 0; i < values.Length; i++) sql.Append(i > 0 ? ", {" : "{").Append(i).Append('}');
        sql.Append(')');
        await RawSql.ExecuteRawAsync(db, sql.ToString(), values, ct, kept: true);
        _stored[flow.Id] = flow.StoredCopy();
    }

    public async Task UpdateAsync(SelfServiceFlow flow, CancellationToken ct)
    {
        // The columns changed since this request read or wrote the flow; all of them for a flow it did not.
        _stored.TryGetValue(flow.Id, out var stored);
        var columns = Columns.For(db);
        var sql = new StringBuilder("UPDATE ").Append(columns.Table).Append(" SET ");
        var values = new List<object?>(8);
        foreach (var column in columns.Updatable)
        {
            var value = column.Get(flow);
            if (stored is not null && Equals(value, column.Get(stored))) continue;
            if (values.Count > 0) sql.Append(", ");
            sql.Append(column.Column).Append(" = {").Append(values.Count).Append('}');
            values.Add(value);
        }
        if (values.Count == 0) return;
        sql.Append(" WHERE ").Append(columns.Nid).Append(" = {").Append(values.Count).Append('}');
        values.Add(db.Nid);
        sql.Append(" AND ").Append(columns.Id).Append(" = {").Append(values.Count).Append('}');
        values.Add(flow.Id);
        var updated = await RawSql.ExecuteRawAsync(db, sql.ToString(), [.. values], ct, kept: true);
        // As EF's SaveChanges for a row that is gone.
        if (updated != 1) throw new DbUpdateConcurrencyException($"The flow {flow.Id} was not updated: it no longer exists.");
        _stored[flow.Id] = flow.StoredCopy();
    }

    public async Task<bool> SwapInternalContextAsync(Guid id, string? expected, string? replacement, DateTime now, CancellationToken ct)
    {
        // The compare-and-swap that spends a passkey/WebAuthn challenge or an OIDC state once: raw and kept prepared on
        // SQLite (RawSql), not ExecuteUpdate (whose LINQ pipeline cost more than the statement); the same statement.
        var nid = db.Nid;
        var swapped = (expected is null
            ? await RawSql.ExecuteAsync(db, $"""
                UPDATE selfservice_flows SET "InternalContext" = {replacement}, "UpdatedAt" = {now}
                WHERE "Nid" = {nid} AND "Id" = {id} AND "InternalContext" IS NULL
                """, ct, kept: true)
            : await RawSql.ExecuteAsync(db, $"""
                UPDATE selfservice_flows SET "InternalContext" = {replacement}, "UpdatedAt" = {now}
                WHERE "Nid" = {nid} AND "Id" = {id} AND "InternalContext" = {expected}
                """, ct, kept: true)) == 1;
        if (_stored.TryGetValue(id, out var stored))
        {
            if (swapped) (stored.InternalContext, stored.UpdatedAt) = (replacement, now);
            else _stored.Remove(id); // changed by another request: the next update writes the whole row, as before
        }
        return swapped;
    }

    public async Task<SelfServiceFlow?> FindAsync(Guid id, string kind, CancellationToken ct)
    {
        var flow = await FindStoredAsync(id, kind, ct);
        if (flow is not null) _stored[flow.Id] = flow.StoredCopy();
        return flow;
    }

    // Read on every submit and fetch: a compiled query (no LINQ tree built and looked up per request), prepared once on
    // SQLite (SqlitePreparedReads).
    private Task<SelfServiceFlow?> FindStoredAsync(Guid id, string kind, CancellationToken ct) => ById.For(db)(db, id, kind, ct);

    private static readonly PerProvider<Func<GatehouseDbContext, Guid, string, CancellationToken, Task<SelfServiceFlow?>>> ById = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, Guid id, string kind, CancellationToken ct) =>
            db.Flows.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(f => f.Id == id && f.Kind == kind)));

    /// <summary>The table's mapped columns from the provider's model (quoted names and EF's compiled getters), once per provider.</summary>
    private sealed class Columns
    {
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IModel, Columns> Cache = [];

        private Columns(IModel model)
        {
            var entity = model.FindEntityType(typeof(SelfServiceFlow))!;
            Table = Quote(entity.GetTableName()!);
            All = [.. entity.GetProperties().Select(p => (Quote(p.GetColumnName()), (Func<SelfServiceFlow, object?>)p.GetGetter().GetClrValue))];
            Updatable = [.. entity.GetProperties().Where(p => !p.IsPrimaryKey() && p.Name != nameof(SelfServiceFlow.Nid))
                .Select(p => (Quote(p.GetColumnName()), (Func<SelfServiceFlow, object?>)p.GetGetter().GetClrValue))];
            Id = Quote(entity.FindProperty(nameof(SelfServiceFlow.Id))!.GetColumnName());
            Nid = Quote(entity.FindProperty(nameof(SelfServiceFlow.Nid))!.GetColumnName());
        }

        public static Columns For(GatehouseDbContext db) => Cache.GetValue(db.Model, model => new Columns(model));

        public string Table { get; }
        public string Id { get; }
        public string Nid { get; }
        public (string Column, Func<SelfServiceFlow, object?> Get)[] All { get; }
        public (string Column, Func<SelfServiceFlow, object?> Get)[] Updatable { get; }

        // Both providers quote identifiers with double quotes; the names are the model's own (no quotes inside).
        private static string Quote(string name) => "\"" + name + "\"";
    }
}
