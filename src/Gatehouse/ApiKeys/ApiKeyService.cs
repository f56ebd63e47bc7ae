using System.Security.Cryptography;
using System.Text;
using Gatehouse.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.ApiKeys;

/// <summary>Creates, lists, revokes and verifies admin API keys. Keys are 256 random bits; only their SHA-256 is stored.</summary>
public sealed class ApiKeyService(GatehouseDbContext db, TimeProvider time)
{
    public const string KeyPrefix = "gh_";

    public sealed record Created(ApiKey Key, string Secret);

    public async Task<Created> CreateAsync(string name, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("the key needs a name (--name)");
        if (name.Length > 256) throw new ArgumentException("the key name must be at most 256 characters");
        var secret = KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            Nid = db.Nid,
            Name = name.Trim(),
            KeyHash = Hash(secret),
            Prefix = secret[..10],
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return new Created(key, secret);
    }

    public Task<List<ApiKey>> ListAsync(CancellationToken ct) =>
        db.ApiKeys.AsNoTracking().OrderBy(k => k.Id).ToListAsync(ct);

    /// <summary>Revokes a key; false when no active key has that id.</summary>
    public async Task<bool> RevokeAsync(Guid id, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return await db.ApiKeys.Where(k => k.Id == id && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), ct) > 0;
    }

    /// <summary>
    /// True when the presented key is an active key. The lookup is by the key's SHA-256 (an index seek), and the stored
    /// hash is compared again in constant time, so neither the query nor the comparison leaks how much of a guess matched.
    /// </summary>
    public async Task<bool> VerifyAsync(string presented, CancellationToken ct)
    {
        if (presented.Length is < 10 or > 200 || !presented.StartsWith(KeyPrefix, StringComparison.Ordinal)) return false;
        var hash = Hash(presented);
        var stored = await db.ApiKeys.AsNoTracking().Where(k => k.KeyHash == hash && k.RevokedAt == null).Select(k => k.KeyHash).FirstOrDefaultAsync(ct);
        return stored is not null && CryptographicOperations.FixedTimeEquals(stored, hash);
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
