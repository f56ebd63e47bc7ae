using Gatehouse.Identities;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IPrivilegedIdentityStore"/> over EF: identities with their credentials' configs.</summary>
public sealed class EfPrivilegedIdentityStore(GatehouseDbContext db, SqlitePreparedReads? preparedReads = null) : IPrivilegedIdentityStore
{
    // Every sign-in reads its identity here (by identifier, or by id once a code or key named it). As a split query with
    // includes that was six statements; then one compiled EF query (a join of the four tables); now one statement read
    // without EF (DirectSql: EF's shaper and connection handling around it were ~5-6% of a code login's CPU), prepared
    // once on SQLite: the identity and each of its credentials, identifiers and addresses as one row each (UNION ALL, so
    // no row is repeated for every combination as in the join), in one snapshot, ordered by kind and id (the order the
    // join gave each collection). The credentials' identifiers are attached in memory.
    public Task<Identity?> FindByIdentifierAsync(string type, string identifier, CancellationToken ct) =>
        ConfidentialByIdentifier.ReadAsync(db, preparedReads, [db.Nid, type, identifier], ReadIdentity, ct);

    public async Task<Identity?> FindByAnyIdentifierAsync(string identifier, string normalized, CancellationToken ct)
    {
        var identityId = await db.CredentialIdentifiers.AsNoTracking()
            .Where(i => i.Identifier == normalized || i.Identifier == identifier)
            .Select(i => (Guid?)i.IdentityId).FirstOrDefaultAsync(ct);
        return identityId is null ? null : await FindConfidentialAsync(identityId.Value, ct);
    }

    // Rare (a passkey login whose handle names no passkey): a scan of the webauthn credentials' configs, as Kratos's query.
    // The CASE reads the JSON of webauthn configs only, whatever order the database evaluates the conditions in.
    public async Task<Identity?> FindByWebAuthnUserHandleAsync(byte[] userHandle, CancellationToken ct)
    {
        if (userHandle.Length == 0) return null;
        var (nid, type, handle) = (db.Nid, CredentialTypes.WebAuthn, Convert.ToBase64String(userHandle));
        var ids = db.Database.IsNpgsql()
            ? db.Database.SqlQuery<Guid>($"""
                SELECT "IdentityId" AS "Value" FROM identity_credentials
                WHERE "Nid" = {nid} AND "Type" = {type}
                  AND (CASE WHEN "Type" = {type} THEN "Config"::jsonb ->> 'user_handle' END) = {handle}
                ORDER BY "IdentityId" LIMIT 1
                """)
            : db.Database.SqlQuery<Guid>($"""
                SELECT "IdentityId" AS "Value" FROM identity_credentials
                WHERE "Nid" = {nid} AND "Type" = {type}
                  AND (CASE WHEN "Type" = {type} AND json_valid("Config") THEN json_extract("Config", '$.user_handle') END) = {handle}
                ORDER BY "IdentityId" LIMIT 1
                """);
        var found = await ids.ToListAsync(ct);
        return found.Count == 0 ? null : await FindConfidentialAsync(found[0], ct);
    }

    public Task<Identity?> FindConfidentialAsync(Guid id, CancellationToken ct) =>
        ConfidentialById.ReadAsync(db, preparedReads, [db.Nid, id], ReadIdentity, ct);

    // One row per identity, credential, identifier and address: the kind (0-4), then columns shared by position —
    // id, nid, identity id (children), a second id (organization / credential), texts, a number, a flag and three times.
    // Every NULL is typed so that PostgreSQL resolves each column of the union alike (SQLite ignores the types).
    private const string Confidential = """
        SELECT 0, i."Id", i."Nid", CAST(NULL AS uuid), i."OrganizationId", i."SchemaId", i."State", i."Traits", i."MetadataPublic", i."MetadataAdmin", i."ExternalId",
               i."Revision", CAST(NULL AS boolean), i."StateChangedAt", i."CreatedAt", i."UpdatedAt"
        FROM identities i WHERE i."Nid" = @nid AND i."Id" = {target}
        UNION ALL
        SELECT 1, c."Id", c."Nid", c."IdentityId", CAST(NULL AS uuid), c."Type", CAST(NULL AS text), c."Config", CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS text),
               c."Version", CAST(NULL AS boolean), CAST(NULL AS timestamptz), c."CreatedAt", c."UpdatedAt"
        FROM identity_credentials c WHERE c."IdentityId" = {target} AND c."Nid" = @nid
        UNION ALL
        SELECT 2, x."Id", x."Nid", x."IdentityId", x."CredentialId", x."Type", x."Identifier", CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS text),
               CAST(NULL AS integer), CAST(NULL AS boolean), CAST(NULL AS timestamptz), CAST(NULL AS timestamptz), CAST(NULL AS timestamptz)
        FROM identity_credential_identifiers x WHERE x."IdentityId" = {target} AND x."Nid" = @nid
        UNION ALL
        SELECT 3, v."Id", v."Nid", v."IdentityId", CAST(NULL AS uuid), v."Via", v."Value", v."Status", CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS text),
               CAST(NULL AS integer), v."Verified", v."VerifiedAt", v."CreatedAt", v."UpdatedAt"
        FROM identity_verifiable_addresses v WHERE v."IdentityId" = {target} AND v."Nid" = @nid
        UNION ALL
        SELECT 4, r."Id", r."Nid", r."IdentityId", CAST(NULL AS uuid), r."Via", r."Value", CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS text),
               CAST(NULL AS integer), CAST(NULL AS boolean), CAST(NULL AS timestamptz), r."CreatedAt", r."UpdatedAt"
        FROM identity_recovery_addresses r WHERE r."IdentityId" = {target} AND r."Nid" = @nid
        ORDER BY 1, 2
        """;

    private static readonly DirectSql ConfidentialById = new(Confidential.Replace("{target}", "@id", StringComparison.Ordinal), "nid", "id");

    // The unique (identifier, nid, type) index names at most one identity.
    private static readonly DirectSql ConfidentialByIdentifier = new(Confidential.Replace("{target}", """
        (SELECT "IdentityId" FROM identity_credential_identifiers WHERE "Identifier" = @identifier AND "Nid" = @nid AND "Type" = @type)
        """.Trim(), StringComparison.Ordinal), "nid", "type", "identifier");

    /// <summary>The identity of <see cref="Confidential"/>'s rows with its collections, or null when it has no row.</summary>
    private static Identity? ReadIdentity(System.Data.Common.DbDataReader r)
    {
        Identity? identity = null;
        List<CredentialIdentifier>? identifiers = null;
        while (r.Read())
        {
            switch (r.GetInt32(0))
            {
                case 0:
                    identity = new Identity
                    {
                        Id = r.GetGuid(1),
                        Nid = r.GetGuid(2),
                        OrganizationId = r.IsDBNull(4) ? null : r.GetGuid(4),
                        SchemaId = r.GetString(5),
                        State = r.GetString(6),
                        Traits = r.GetString(7),
                        MetadataPublic = DirectSql.NullableString(r, 8),
                        MetadataAdmin = DirectSql.NullableString(r, 9),
                        ExternalId = DirectSql.NullableString(r, 10),
                        Revision = r.GetInt32(11),
                        StateChangedAt = DirectSql.NullableUtc(r, 13),
                        CreatedAt = DirectSql.Utc(r, 14),
                        UpdatedAt = DirectSql.Utc(r, 15),
                    };
                    break;
                case 1 when identity is not null:
                    identity.Credentials.Add(new IdentityCredential
                    {
                        Id = r.GetGuid(1),
                        Nid = r.GetGuid(2),
                        IdentityId = r.GetGuid(3),
                        Type = r.GetString(5),
                        Config = r.GetString(7),
                        Version = r.GetInt32(11),
                        CreatedAt = DirectSql.Utc(r, 14),
                        UpdatedAt = DirectSql.Utc(r, 15),
                    });
                    break;
                case 2 when identity is not null:
                    (identifiers ??= []).Add(new CredentialIdentifier
                    {
                        Id = r.GetGuid(1),
                        Nid = r.GetGuid(2),
                        IdentityId = r.GetGuid(3),
                        CredentialId = r.GetGuid(4),
                        Type = r.GetString(5),
                        Identifier = r.GetString(6),
                    });
                    break;
                case 3 when identity is not null:
                    identity.VerifiableAddresses.Add(new VerifiableAddress
                    {
                        Id = r.GetGuid(1),
                        Nid = r.GetGuid(2),
                        IdentityId = r.GetGuid(3),
                        Via = r.GetString(5),
                        Value = r.GetString(6),
                        Status = r.GetString(7),
                        Verified = r.GetBoolean(12),
                        VerifiedAt = DirectSql.NullableUtc(r, 13),
                        CreatedAt = DirectSql.Utc(r, 14),
                        UpdatedAt = DirectSql.Utc(r, 15),
                    });
                    break;
                case 4 when identity is not null:
                    identity.RecoveryAddresses.Add(new RecoveryAddress
                    {
                        Id = r.GetGuid(1),
                        Nid = r.GetGuid(2),
                        IdentityId = r.GetGuid(3),
                        Via = r.GetString(5),
                        Value = r.GetString(6),
                        CreatedAt = DirectSql.Utc(r, 14),
                        UpdatedAt = DirectSql.Utc(r, 15),
                    });
                    break;
            }
        }
        if (identity is null) return null;
        foreach (var credential in identity.Credentials)
            credential.Identifiers = identifiers is null ? [] : identifiers.FindAll(x => x.CredentialId == credential.Id);
        CompleteCredentials.Mark(identity);
        return identity;
    }

    private static readonly PerProvider<Func<GatehouseDbContext, Guid, IAsyncEnumerable<IdentityCredential>>> CredentialsOf = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, Guid identityId) => db.Credentials.AsNoTracking()
            .Where(c => c.IdentityId == identityId)
            .TagWith(SqlitePreparedReads.Tag)));

    public Task<string?> FirstIdentifierAsync(Guid identityId, string type, CancellationToken ct) =>
        db.CredentialIdentifiers.AsNoTracking().Where(i => i.IdentityId == identityId && i.Type == type)
            .OrderBy(i => i.Identifier).Select(i => i.Identifier).FirstOrDefaultAsync(ct);

    // Read after every sign-in (the session's available AAL): compiled, and prepared once on SQLite.
    public Task<List<IdentityCredential>> CredentialsOfAsync(Guid identityId, CancellationToken ct) => CredentialsOf.For(db)(db, identityId).ToListAsync(ct).AsTask();

    // Every passkey/WebAuthn sign-in (sign count, last use) and TOTP use runs it: raw, kept prepared on SQLite (RawSql),
    // not ExecuteUpdate, whose LINQ pipeline cost more than the statement; the same statement.
    public async Task<bool> SwapCredentialConfigAsync(Guid credentialId, string expected, string config, DateTime now, CancellationToken ct)
    {
        var nid = db.Nid;
        return await RawSql.ExecuteAsync(db, $"""
            UPDATE identity_credentials SET "Config" = {config}, "UpdatedAt" = {now}
            WHERE "Nid" = {nid} AND "Id" = {credentialId} AND "Config" = {expected}
            """, ct, kept: true) == 1;
    }

    public Task UpdateCredentialConfigAsync(Guid credentialId, string config, DateTime now, CancellationToken ct) =>
        db.Credentials.Where(c => c.Id == credentialId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Config, config).SetProperty(c => c.UpdatedAt, now), ct);
}
