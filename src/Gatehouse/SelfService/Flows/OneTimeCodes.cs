using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.SelfService.Flows;

/// <summary>
/// One-time secrets for recovery and verification: 6-digit codes and link tokens. Only an HMAC-SHA256 of the secret
/// (keyed by the first cookie secret, as Kratos keys its token hashes) is stored; secrets are single use, expire, and a
/// flow's code stops working after <c>max_submissions</c> wrong guesses.
/// </summary>
public sealed class OneTimeCodes(GatehouseDbContext db, GatehouseOptions options, TimeProvider time)
{
    public enum Outcome
    {
        Valid,
        Invalid,
        Exhausted,
    }

    private byte[] Key => Encoding.UTF8.GetBytes(options.Secrets.Cookie.FirstOrDefault() ?? options.Secrets.Default.FirstOrDefault() ?? "gatehouse-development-secret");

    private byte[] Hash(string kind, string secret) => HMACSHA256.HashData(Key, Encoding.UTF8.GetBytes(kind + "\n" + secret));

    public static string NewCode() => RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    public static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Stores a new secret for the flow (earlier unused secrets of the same kind on the flow stop working).</summary>
    public async Task<SelfServiceCode> CreateAsync(Guid flowId, Guid? identityId, string kind, string address, string via, string secret, TimeSpan lifespan, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await db.Codes.Where(c => c.FlowId == flowId && c.Kind == kind && c.UsedAt == null).ExecuteUpdateAsync(s => s.SetProperty(c => c.UsedAt, now), ct);
        var code = new SelfServiceCode
        {
            Id = Guid.CreateVersion7(),
            Nid = db.Nid,
            FlowId = flowId,
            IdentityId = identityId,
            Kind = kind,
            Address = address,
            Via = via,
            SecretHash = Hash(kind, secret),
            ExpiresAt = now + lifespan,
            CreatedAt = now,
        };
        db.Codes.Add(code);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        return code;
    }

    /// <summary>
    /// Checks a submitted code against the flow's live code. A wrong guess is counted; after <paramref name="maxAttempts"/>
    /// the code is spent. A right code is marked used (single use) and returned.
    /// </summary>
    public async Task<(Outcome Outcome, SelfServiceCode? Code)> UseCodeAsync(Guid flowId, string kind, string submitted, int maxAttempts, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var live = await db.Codes.AsNoTracking()
            .Where(c => c.FlowId == flowId && c.Kind == kind && c.UsedAt == null)
            .OrderByDescending(c => c.CreatedAt).FirstOrDefaultAsync(ct);
        if (live is null || live.ExpiresAt < now) return (Outcome.Invalid, null);
        if (live.Attempts >= maxAttempts) return (Outcome.Exhausted, null);
        if (!CryptographicOperations.FixedTimeEquals(live.SecretHash, Hash(kind, submitted.Trim())))
        {
            await db.Codes.Where(c => c.Id == live.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.Attempts, c => c.Attempts + 1), ct);
            return (live.Attempts + 1 >= maxAttempts ? Outcome.Exhausted : Outcome.Invalid, null);
        }
        // Claim it atomically so two concurrent submits cannot both use it.
        var claimed = await db.Codes.Where(c => c.Id == live.Id && c.UsedAt == null).ExecuteUpdateAsync(s => s.SetProperty(c => c.UsedAt, now), ct);
        return claimed == 1 ? (Outcome.Valid, live) : (Outcome.Invalid, null);
    }

    /// <summary>
    /// Redeems a link token of the flow (looked up by its hash); null when unknown, used, expired or another flow's — a
    /// token submitted on the wrong flow is not spent, so its own flow still takes it.
    /// </summary>
    public async Task<SelfServiceCode?> UseTokenAsync(Guid flowId, string kind, string token, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var hash = Hash(kind, token);
        var live = await db.Codes.AsNoTracking().FirstOrDefaultAsync(c => c.SecretHash == hash && c.FlowId == flowId && c.Kind == kind && c.UsedAt == null, ct);
        if (live is null || live.ExpiresAt < now) return null;
        var claimed = await db.Codes.Where(c => c.Id == live.Id && c.UsedAt == null).ExecuteUpdateAsync(s => s.SetProperty(c => c.UsedAt, now), ct);
        return claimed == 1 ? live : null;
    }
}
