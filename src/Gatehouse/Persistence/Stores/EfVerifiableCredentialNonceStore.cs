using System.Security.Cryptography;
using Gatehouse.OAuth2.Credentials;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IVerifiableCredentialNonceStore"/> on <c>oauth2_vc_nonces</c>; a spend is one conditional delete, so a nonce counts once.</summary>
public sealed class EfVerifiableCredentialNonceStore(GatehouseDbContext db) : IVerifiableCredentialNonceStore
{
    public async Task AddAsync(VerifiableCredentialNonce nonce, int keepPerToken, CancellationToken ct)
    {
        nonce.Nid = db.Nid;
        db.OAuth2VerifiableCredentialNonces.Add(nonce);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
        var token = nonce.AccessTokenSignature;
        // Pks are UUIDv7 that grow strictly in a process (MonotonicUuid), so the newest rows have the greatest keys.
        var keep = db.OAuth2VerifiableCredentialNonces.Where(n => n.AccessTokenSignature == token).OrderByDescending(n => n.Pk).Take(keepPerToken).Select(n => n.Pk);
        await db.OAuth2VerifiableCredentialNonces.Where(n => n.AccessTokenSignature == token && !keep.Contains(n.Pk)).ExecuteDeleteAsync(ct);
    }

    public async Task<NonceUse> SpendAsync(byte[] signature, byte[] accessTokenSignature, DateTime now, CancellationToken ct)
    {
        var row = await db.OAuth2VerifiableCredentialNonces.AsNoTracking()
            .Where(n => n.Signature == signature && n.AccessTokenSignature == accessTokenSignature)
            .Select(n => new { n.Pk, n.Signature, n.AccessTokenSignature, n.ExpiresAt })
            .FirstOrDefaultAsync(ct);
        if (row is null || !CryptographicOperations.FixedTimeEquals(row.Signature, signature)
            || !CryptographicOperations.FixedTimeEquals(row.AccessTokenSignature, accessTokenSignature)) return NonceUse.Unknown;
        if (row.ExpiresAt <= now) return NonceUse.Expired;
        var deleted = await db.OAuth2VerifiableCredentialNonces.Where(n => n.Pk == row.Pk && n.ExpiresAt > now).ExecuteDeleteAsync(ct);
        return deleted == 1 ? NonceUse.Spent : NonceUse.Unknown;
    }
}
