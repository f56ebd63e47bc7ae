using System.Data.Common;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Identities;

/// <summary>
/// <c>PATCH /admin/identities</c>: creates up to 1000 identities per request, each written whole or not at all,
/// with a per-item result. Items are validated first, then conflicts (within the batch and with stored identities)
/// are found with one query, and the rest is inserted in a single transaction; should the database still report a
/// conflict (a concurrent writer), the items are retried one by one so only the conflicting ones fail.
/// </summary>
public sealed class IdentityBatch(GatehouseDbContext db, IdentityManager manager)
{
    public const int MaxItems = 1000;
    public const int MaxCleartextPasswords = 200;

    public sealed record Item(string Action, Guid? IdentityId, string? PatchId, JsonObject? Error);

    public async Task<List<Item>> CreateAsync(JsonNode? body, CancellationToken ct)
    {
        if (body is not JsonObject o || o["identities"] is not JsonArray entries)
            throw GatehouseError.BadRequest("The request body must be an object with an \"identities\" array.");
        if (entries.Count > MaxItems)
            throw GatehouseError.BadRequest($"The batch contains {entries.Count} identities, but at most {MaxItems} are allowed per request.");
        var cleartext = entries.Count(e => e?["create"]?["credentials"]?["password"]?["config"]?["password"] is not null);
        if (cleartext > MaxCleartextPasswords)
            throw GatehouseError.BadRequest($"The batch contains {cleartext} identities with a cleartext password, but at most {MaxCleartextPasswords} are allowed per request (hashing is slow by design).");

        var results = new Item?[entries.Count];
        var built = new List<(int Index, Identity Identity, string? PatchId)>();
        for (var i = 0; i < entries.Count; i++)
        {
            string? patchId = null;
            try
            {
                if (entries[i] is not JsonObject entry) throw GatehouseError.BadRequest("Each entry must be an object with a \"create\" body.");
                patchId = entry["patch_id"]?.GetValue<string>();
                if (patchId is not null && !Guid.TryParse(patchId, out _)) throw GatehouseError.BadRequest("patch_id must be a UUID.");
                if (entry["create"] is not JsonObject create) throw GatehouseError.BadRequest("The entry has no \"create\" body.");
                built.Add((i, manager.Build(IdentityBody.ParseCreate(create)), patchId));
            }
            catch (GatehouseError e)
            {
                results[i] = new Item("error", null, patchId, e.ToErrorObject());
            }
            catch (InvalidOperationException e)
            {
                results[i] = new Item("error", null, patchId, GatehouseError.BadRequest(e.Message).ToErrorObject());
            }
        }

        var accepted = await RemoveConflictsAsync(built, results, ct);
        if (accepted.Count > 0)
        {
            try
            {
                await InsertAsync([.. accepted.Select(a => a.Identity)], ct);
                foreach (var a in accepted) results[a.Index] = new Item("create", a.Identity.Id, a.PatchId, null);
            }
            catch (DbException ex) when (DbErrors.IsUniqueViolation(ex))
            {
                db.ChangeTracker.Clear();
                foreach (var a in accepted)
                {
                    try
                    {
                        db.Identities.Add(a.Identity);
                        await db.SaveChangesAsync(ct);
                        results[a.Index] = new Item("create", a.Identity.Id, a.PatchId, null);
                    }
                    catch (DbUpdateException one) when (DbErrors.IsUniqueViolation(one))
                    {
                        results[a.Index] = new Item("error", null, a.PatchId, GatehouseError.IdentityConflict().ToErrorObject());
                    }
                    finally
                    {
                        db.ChangeTracker.Clear();
                    }
                }
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        }
        return [.. results.Select(r => r!)];
    }

    /// <summary>
    /// Writes the new identities and their credentials, identifiers and addresses in one transaction, parents first.
    /// Multi-row inserts instead of <c>SaveChanges</c>: tracking a thousand identity graphs (five rows each) and
    /// sending one statement per row took most of a batch's time (see docs/benchmarks.md).
    /// </summary>
    private async Task InsertAsync(List<Identity> identities, CancellationToken ct)
    {
        var credentials = identities.SelectMany(i => i.Credentials).ToList();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await BulkInsert.InsertAsync(db, identities, ct);
        await BulkInsert.InsertAsync(db, credentials, ct);
        await BulkInsert.InsertAsync(db, credentials.SelectMany(c => c.Identifiers).ToList(), ct);
        await BulkInsert.InsertAsync(db, identities.SelectMany(i => i.VerifiableAddresses).ToList(), ct);
        await BulkInsert.InsertAsync(db, identities.SelectMany(i => i.RecoveryAddresses).ToList(), ct);
        await transaction.CommitAsync(ct);
    }

    private async Task<List<(int Index, Identity Identity, string? PatchId)>> RemoveConflictsAsync(
        List<(int Index, Identity Identity, string? PatchId)> built, Item?[] results, CancellationToken ct)
    {
        static IEnumerable<string> Keys(Identity i) =>
            i.Credentials.SelectMany(c => c.Identifiers.Select(x => "c\n" + x.Type + "\n" + x.Identifier))
                .Concat(i.VerifiableAddresses.Select(a => "v\n" + a.Via + "\n" + a.Value))
                .Concat(i.RecoveryAddresses.Select(a => "r\n" + a.Via + "\n" + a.Value))
                .Concat(i.ExternalId is null ? [] : ["e\n" + i.ExternalId]);

        var identifiers = built.SelectMany(b => b.Identity.Credentials.SelectMany(c => c.Identifiers.Select(x => x.Identifier))).Distinct().ToList();
        var addresses = built.SelectMany(b => b.Identity.VerifiableAddresses.Select(a => a.Value).Concat(b.Identity.RecoveryAddresses.Select(a => a.Value))).Distinct().ToList();
        var externals = built.Where(b => b.Identity.ExternalId is not null).Select(b => b.Identity.ExternalId!).Distinct().ToList();

        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in identifiers.Chunk(500))
        {
            foreach (var x in await db.CredentialIdentifiers.AsNoTracking().Where(x => chunk.Contains(x.Identifier)).Select(x => new { x.Type, x.Identifier }).ToListAsync(ct))
                taken.Add("c\n" + x.Type + "\n" + x.Identifier);
        }
        foreach (var chunk in addresses.Chunk(500))
        {
            foreach (var a in await db.VerifiableAddresses.AsNoTracking().Where(a => chunk.Contains(a.Value)).Select(a => new { a.Via, a.Value }).ToListAsync(ct))
                taken.Add("v\n" + a.Via + "\n" + a.Value);
            foreach (var a in await db.RecoveryAddresses.AsNoTracking().Where(a => chunk.Contains(a.Value)).Select(a => new { a.Via, a.Value }).ToListAsync(ct))
                taken.Add("r\n" + a.Via + "\n" + a.Value);
        }
        foreach (var chunk in externals.Chunk(500))
        {
            foreach (var e in await db.Identities.AsNoTracking().Where(i => i.ExternalId != null && chunk.Contains(i.ExternalId)).Select(i => i.ExternalId!).ToListAsync(ct))
                taken.Add("e\n" + e);
        }

        var accepted = new List<(int, Identity, string?)>();
        foreach (var b in built)
        {
            var keys = Keys(b.Identity).ToList();
            if (keys.Any(taken.Contains))
            {
                results[b.Index] = new Item("error", null, b.PatchId, GatehouseError.IdentityConflict().ToErrorObject());
                continue;
            }
            foreach (var k in keys) taken.Add(k);
            accepted.Add(b);
        }
        return accepted;
    }
}
