using System.Security.Cryptography;
using Gatehouse.SelfService.Strategies.Oidc.Fedcm;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IFedcmNonceStore"/> on <c>selfservice_fedcm_nonces</c>; a spend is one conditional delete, so a nonce counts once.</summary>
public sealed class EfFedcmNonceStore(GatehouseDbContext db) : IFedcmNonceStore
{
    public async Task AddAsync(IReadOnlyList<FedcmNonce> nonces, int keepPerBrowser, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(nonces);
        if (nonces.Count == 0) return;
        foreach (var nonce in nonces)
        {
            nonce.Nid = db.Nid;
            db.FedcmNonces.Add(nonce);
        }
        try
        {
            await db.SaveChangesAsync(ct);
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
        var browser = nonces[0].BrowserSignature;
        // Pks are UUIDv7 that grow strictly in a process (MonotonicUuid), so the newest rows have the greatest keys.
        var keep = db.FedcmNonces.Where(n => n.BrowserSignature == browser).OrderByDescending(n => n.Pk).Take(keepPerBrowser).Select(n => n.Pk);
        await db.FedcmNonces.Where(n => n.BrowserSignature == browser && !keep.Contains(n.Pk)).ExecuteDeleteAsync(ct);
    }

    public async Task<FedcmNonceUse> SpendAsync(byte[] signature, byte[] browserSignature, string provider, DateTime now, CancellationToken ct)
    {
        var row = await db.FedcmNonces.AsNoTracking()
            .Where(n => n.Signature == signature && n.BrowserSignature == browserSignature && n.Provider == provider)
            .Select(n => new { n.Pk, n.Signature, n.BrowserSignature, n.ExpiresAt })
            .FirstOrDefaultAsync(ct);
        if (row is null || !CryptographicOperations.FixedTimeEquals(row.Signature, signature)
            || !CryptographicOperations.FixedTimeEquals(row.BrowserSignature, browserSignature)) return FedcmNonceUse.Unknown;
        if (row.ExpiresAt <= now) return FedcmNonceUse.Expired;
        var deleted = await db.FedcmNonces.Where(n => n.Pk == row.Pk && n.ExpiresAt > now).ExecuteDeleteAsync(ct);
        return deleted == 1 ? FedcmNonceUse.Spent : FedcmNonceUse.Unknown;
    }
}
