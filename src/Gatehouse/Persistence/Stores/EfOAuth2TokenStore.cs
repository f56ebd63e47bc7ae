using System.Runtime.CompilerServices;
using System.Text;
using Gatehouse.OAuth2.Tokens;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IOAuth2TokenStore"/> on <c>oauth2_tokens</c>.</summary>
public sealed class EfOAuth2TokenStore(GatehouseDbContext db, SqlitePreparedReads? preparedReads = null) : IOAuth2TokenStore
{
    // Every token request and every authorization code inserts one to three rows: one INSERT statement (all rows or
    // none, without a transaction around it), not the change tracker and SaveChanges' batching. The text only depends
    // on the number of rows, so Npgsql's auto-prepare keeps it on PostgreSQL.
    public async Task AddAsync(IReadOnlyList<OAuth2Token> tokens, CancellationToken ct)
    {
        if (tokens.Count == 0) return;
        var nid = db.Nid;
        var sql = new StringBuilder("""INSERT INTO oauth2_tokens ("Pk", "Nid", "Signature", "Kind", "RequestId", "ClientId", "Subject", "Scope", "Audience", "Extra", "IssuedAt", "ExpiresAt", "Active", "AccessTokenPk", "UsedTimes", "IdTokenExtra") VALUES """);
        var args = new object[tokens.Count * Columns];
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            t.Nid = nid;
            var at = i * Columns;
            if (i > 0) sql.Append(", ");
            sql.Append('(');
            for (var c = 0; c < Columns; c++) sql.Append(c == 0 ? "{" : ", {").Append(at + c).Append('}');
            sql.Append(')');
            args[at] = t.Pk;
            args[at + 1] = t.Nid;
            args[at + 2] = t.Signature;
            args[at + 3] = t.Kind;
            args[at + 4] = t.RequestId;
            args[at + 5] = t.ClientId;
            args[at + 6] = t.Subject;
            args[at + 7] = t.Scope;
            args[at + 8] = t.Audience;
            args[at + 9] = t.Extra;
            args[at + 10] = t.IssuedAt;
            args[at + 11] = t.ExpiresAt;
            args[at + 12] = t.Active;
            args[at + 13] = t.AccessTokenPk!; // a null is sent as an untyped NULL
            args[at + 14] = t.UsedTimes;
            args[at + 15] = t.IdTokenExtra!; // a null is sent as an untyped NULL
        }
        await db.Database.ExecuteSqlAsync(FormattableStringFactory.Create(sql.ToString(), args), ct);
    }

    private const int Columns = 16;

    // Read by every introspection, token exchange, refresh and revocation. On SQLite (outside a transaction) without EF:
    // a kept prepared statement read straight into the row, which is most of an introspection's cost otherwise (EF's
    // command, connection open and close, interceptors, shaper); elsewhere a compiled query (Npgsql auto-prepares it).
    public Task<OAuth2Token?> FindAsync(byte[] signature, CancellationToken ct)
    {
        if (preparedReads is not null && db is SqliteGatehouseDbContext && db.Database.CurrentTransaction is null)
        {
            ct.ThrowIfCancellationRequested();
            return Task.FromResult(preparedReads.ReadFirst(SelectBySignature,
                [new SqliteParameter("$signature", SqliteType.Blob) { Value = signature }, new SqliteParameter("$nid", SqliteType.Text) { Value = SqliteGuid(db.Nid) }],
                ReadRow));
        }
        return BySignature.For(db)(db, signature, ct);
    }

    internal const string SelectBySignature = """
        SELECT "Pk", "Nid", "Signature", "Kind", "RequestId", "ClientId", "Subject", "Scope", "Audience", "Extra", "IssuedAt", "ExpiresAt", "Active", "FirstUsedAt", "UsedTimes", "AccessTokenPk", "IdTokenExtra"
        FROM oauth2_tokens WHERE "Signature" = $signature AND "Nid" = $nid LIMIT 1
        """;

    /// <summary>EF Core's SQLite form of a <see cref="Guid"/> (upper-case text), as the rows were written.</summary>
    internal static string SqliteGuid(Guid id) => id == Tenancy.DefaultNid ? DefaultNidText : id.ToString("D").ToUpperInvariant();

    private static readonly string DefaultNidText = Tenancy.DefaultNid.ToString("D").ToUpperInvariant();

    /// <summary>A token row read by column (the order of <see cref="SelectBySignature"/>), on either database.</summary>
    internal static OAuth2Token ReadRow(System.Data.Common.DbDataReader r) => new()
    {
        Pk = r.GetGuid(0),
        Nid = r.GetGuid(1),
        Signature = r.GetFieldValue<byte[]>(2),
        Kind = r.GetString(3),
        RequestId = r.GetGuid(4),
        ClientId = r.GetString(5),
        Subject = r.GetString(6),
        Scope = r.GetString(7),
        Audience = r.GetString(8),
        Extra = r.GetString(9),
        IssuedAt = ReadUtc(r, 10),
        ExpiresAt = ReadUtc(r, 11),
        Active = r.GetBoolean(12),
        FirstUsedAt = r.IsDBNull(13) ? null : ReadUtc(r, 13),
        UsedTimes = r.GetInt32(14),
        AccessTokenPk = r.IsDBNull(15) ? null : r.GetGuid(15),
        IdTokenExtra = r.IsDBNull(16) ? null : r.GetString(16),
    };

    private static DateTime ReadUtc(System.Data.Common.DbDataReader r, int ordinal) =>
        r is SqliteDataReader sqlite ? SqliteDateTimes.ReadUtc(sqlite, ordinal) : RawSql.Utc(r, ordinal);

    private static readonly PerProvider<Func<GatehouseDbContext, byte[], CancellationToken, Task<OAuth2Token?>>> BySignature = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, byte[] signature, CancellationToken ct) =>
            db.OAuth2Tokens.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(t => t.Signature == signature)));

    public async Task<bool> DeactivateAsync(byte[] signature, CancellationToken ct) =>
        await db.OAuth2Tokens.Where(t => t.Signature == signature && t.Active).ExecuteUpdateAsync(s => s.SetProperty(t => t.Active, false), ct) == 1;

    // A used refresh token still in its grace period is inactive but usable: revoking clears its first use, so the grace
    // no longer applies to it (Hydra deletes revoked rows instead).
    public Task<int> RevokeRequestAsync(Guid requestId, string? kind, CancellationToken ct) =>
        db.OAuth2Tokens.Where(t => t.RequestId == requestId && (t.Active || t.FirstUsedAt != null) && (kind == null || t.Kind == kind))
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Active, false).SetProperty(t => t.FirstUsedAt, (DateTime?)null), ct);

    public async Task<bool> UseWithinGraceAsync(byte[] signature, DateTime now, TimeSpan period, int count, CancellationToken ct)
    {
        var graceFrom = now - period;
        DateTime? firstUse = now;
        return await db.OAuth2Tokens
            .Where(t => t.Signature == signature && (t.Active || (t.FirstUsedAt != null && t.FirstUsedAt > graceFrom)) && (count == 0 || t.UsedTimes < count))
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Active, false).SetProperty(t => t.FirstUsedAt, t => t.FirstUsedAt ?? firstUse).SetProperty(t => t.UsedTimes, t => t.UsedTimes + 1), ct) == 1;
    }

    public Task<int> RevokeAccessTokenAsync(Guid pk, CancellationToken ct) =>
        db.OAuth2Tokens.Where(t => t.Pk == pk && t.Active && t.Kind == OAuth2TokenKinds.AccessToken).ExecuteUpdateAsync(s => s.SetProperty(t => t.Active, false), ct);

    public Task<int> DeleteForClientAsync(string clientId, CancellationToken ct) =>
        db.OAuth2Tokens.Where(t => t.ClientId == clientId).ExecuteDeleteAsync(ct);
}
