using System.Text;
using Gatehouse.SelfService.Flows;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Gatehouse.Persistence.Stores;

/// <summary>
/// <see cref="IFlowStore"/> over EF's model and connection. Reads are one statement read by column without EF
/// (<see cref="DirectSql"/>); inserts and updates are single SQL statements, not tracked entities: every submit of every
/// method reads and updates its flow, and EF's query pipeline and change tracking cost more than the statements
/// themselves. On SQLite, all three are kept prepared outside transactions.
/// </summary>
public sealed class EfFlowStore(GatehouseDbContext db, SqlitePreparedReads? preparedReads = null) : IFlowStore
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
        await RawSql.ExecuteThroughEfAsync(db, sql.ToString(), values, ct);
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
        // Held for the commit of a flow submit's unit of work when one is open (FlowService.UpdateAsync commits it right
        // after); checked then. As EF's SaveChanges for a row that is gone: a concurrency error.
        var id = flow.Id;
        await RawSql.WriteRawAsync(db, sql.ToString(), [.. values], ct,
            rows => rows == 1 ? null : new DbUpdateConcurrencyException($"The flow {id} was not updated: it no longer exists."));
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

    public async Task<bool> DeleteTestFlowAsync(Guid id, CancellationToken ct)
    {
        // Only a test flow: the public delete endpoint must never remove a user's login flow by its id.
        var (nid, kind) = (db.Nid, FlowKinds.Login);
        var deleted = await RawSql.ExecuteAsync(db, $"""
            DELETE FROM selfservice_flows WHERE "Nid" = {nid} AND "Id" = {id} AND "Kind" = {kind} AND "TestContext" IS NOT NULL
            """, ct) == 1;
        _stored.Remove(id);
        return deleted;
    }

    public async Task<SelfServiceFlow?> FindAsync(Guid id, string kind, CancellationToken ct)
    {
        var flow = await FindStoredAsync(id, kind, ct);
        if (flow is not null) _stored[flow.Id] = flow.StoredCopy();
        return flow;
    }

    // Read on every submit and fetch, with its UI document of several kilobytes: without EF (a compiled query's shaper and
    // connection handling were ~8% of a code verification's CPU), prepared once on SQLite.
    private Task<SelfServiceFlow?> FindStoredAsync(Guid id, string kind, CancellationToken ct) =>
        SelectById.ReadAsync(db, preparedReads, [db.Nid, id, kind], r => r.Read() ? ReadRow(r) : null, ct);

    private static readonly DirectSql SelectById = new("""
        SELECT "Id", "Nid", "Kind", "Type", "State", "RequestUrl", "ReturnTo", "Active", "CsrfToken", "IssuedAt", "ExpiresAt", "Ui",
               "Refresh", "RequestedAal", "IdentityId", "InternalContext", "CreatedAt", "UpdatedAt", "TestContext"
        FROM selfservice_flows WHERE "Nid" = @nid AND "Id" = @id AND "Kind" = @kind LIMIT 1
        """, "nid", "id", "kind");

    /// <summary>A flow row in the column order of <see cref="SelectById"/>, on either database.</summary>
    private static SelfServiceFlow ReadRow(System.Data.Common.DbDataReader r) => new()
    {
        Id = r.GetGuid(0),
        Nid = r.GetGuid(1),
        Kind = r.GetString(2),
        Type = r.GetString(3),
        State = r.GetString(4),
        RequestUrl = r.GetString(5),
        ReturnTo = DirectSql.NullableString(r, 6),
        Active = DirectSql.NullableString(r, 7),
        CsrfToken = r.GetString(8),
        IssuedAt = DirectSql.Utc(r, 9),
        ExpiresAt = DirectSql.Utc(r, 10),
        Ui = r.GetString(11),
        Refresh = r.GetBoolean(12),
        RequestedAal = DirectSql.NullableString(r, 13),
        IdentityId = r.IsDBNull(14) ? null : r.GetGuid(14),
        InternalContext = DirectSql.NullableString(r, 15),
        CreatedAt = DirectSql.Utc(r, 16),
        UpdatedAt = DirectSql.Utc(r, 17),
        TestContext = DirectSql.NullableString(r, 18),
    };

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
