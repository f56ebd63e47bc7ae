using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.RateLimiting;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.SelfService.Flows;

/// <summary>
/// One-time secrets for recovery and verification: 6-digit codes and link tokens. Only an HMAC-SHA256 of the secret
/// (keyed by the first cookie secret, as Kratos keys its token hashes) is stored; secrets are single use, expire, and a
/// flow's code stops working after <c>max_submissions</c> guesses. Guesses are also limited per recipient address across
/// every code sent to it (<c>gatehouse.rate_limits.code_attempts_per_recipient</c>), so asking for a new code does not
/// buy new guesses, and so are the mails sent to one address (<c>mails_per_recipient</c>).
/// </summary>
public sealed class OneTimeCodes(GatehouseDbContext db, GatehouseOptions options, TimeProvider time, RateLimiter limiter)
{
    public enum Outcome
    {
        /// <summary>The code was right; it is now used.</summary>
        Valid,

        /// <summary>The code was compared and is wrong, or there is no live code.</summary>
        Invalid,

        /// <summary>The code's guesses are spent: nothing was compared.</summary>
        Exhausted,

        /// <summary>
        /// The code is right but outlived its lifespan (Kratos's code <c>Validate</c>: the code matched, then its expiry is
        /// checked); it is not used. A wrong code is <see cref="Invalid"/> whether or not the live code expired.
        /// </summary>
        Expired,
    }

    private byte[] Key => Encoding.UTF8.GetBytes(options.Secrets.Cookie.FirstOrDefault() ?? options.Secrets.Default.FirstOrDefault() ?? "gatehouse-development-secret");

    private byte[] Hash(string kind, string secret) => HMACSHA256.HashData(Key, Encoding.UTF8.GetBytes(kind + "\n" + secret));

    public static string NewCode() => RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    public static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Stores a new secret for the flow (earlier unused secrets of the same kind on the flow stop working).</summary>
    public async Task<SelfServiceCode> CreateAsync(Guid flowId, Guid? identityId, string kind, string address, string via, string secret, TimeSpan lifespan, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
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
        // One command for every code sent (not an update plus a tracked insert): the earlier codes spent, the new one stored.
        // Held for the commit of a flow submit's unit of work when one is open (one transaction with the code's mail and the
        // flow's update); otherwise run now: PostgreSQL runs the two statements as one implicit transaction, on SQLite each
        // commits on its own. Kept prepared on SQLite (RawSql).
        await RawSql.WriteAsync(db, $"""
            UPDATE selfservice_codes SET "UsedAt" = {now}
            WHERE "Nid" = {code.Nid} AND "FlowId" = {flowId} AND "Kind" = {kind} AND "UsedAt" IS NULL;
            INSERT INTO selfservice_codes ("Id", "Nid", "FlowId", "IdentityId", "Kind", "Address", "Via", "SecretHash", "Attempts", "ExpiresAt", "UsedAt", "CreatedAt")
            VALUES ({code.Id}, {code.Nid}, {flowId}, {identityId}, {kind}, {address}, {via}, {code.SecretHash}, 0, {code.ExpiresAt}, NULL, {now});
            """, ct);
        return code;
    }

    /// <summary>
    /// Counts a mail with a code or link (or the unknown-address notice) to <paramref name="address"/>, before anything is
    /// sent or stored; known and unknown addresses count alike, so the answer reveals nothing.
    /// </summary>
    /// <exception cref="Http.Errors.GatehouseError">429 with <c>Retry-After</c>: too many mails to this address.</exception>
    public Task CountMailAsync(string address, CancellationToken ct) =>
        limiter.EnforceAsync(RateLimitKind.MailsPerRecipient, address.Trim().ToLowerInvariant(), ct);

    /// <summary>
    /// Checks a submitted code against the flow's live code. Every guess first takes one of the code's
    /// <paramref name="maxAttempts"/> (one UPDATE that finds and counts, so concurrent guesses cannot all be compared) and then one of
    /// the recipient's guesses in the current window; only then is the code compared. A right code is marked used
    /// (single use) and returned; a right code past its expiry is returned unused with <see cref="Outcome.Expired"/>, as
    /// Kratos's <c>useOneTimeCode</c> validates the code it matched.
    /// </summary>
    /// <exception cref="Http.Errors.GatehouseError">429 with <c>Retry-After</c>: the recipient's guesses are spent.</exception>
    public async Task<(Outcome Outcome, SelfServiceCode? Code)> UseCodeAsync(Guid flowId, string kind, string submitted, int maxAttempts, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var live = await TakeAttemptAsync(flowId, kind, maxAttempts, ct);
        if (live is null) return (Outcome.Invalid, null);
        // Kratos counts the guess and refuses spent guesses before it looks at any code.
        if (live.Attempts > maxAttempts) return (Outcome.Exhausted, null);
        var recipient = kind + "\n" + live.Address;
        await limiter.EnforceAsync(RateLimitKind.CodeAttemptsPerRecipient, recipient, ct);
        if (!CryptographicOperations.FixedTimeEquals(live.SecretHash, Hash(kind, submitted.Trim()))) return (Outcome.Invalid, null);
        if (live.ExpiresAt < now) return (Outcome.Expired, live);
        // Claim it atomically so two concurrent submits cannot both use it; the recipient's guesses are reset with it.
        var counter = limiter.CounterKey(RateLimitKind.CodeAttemptsPerRecipient, recipient);
        if (!await ClaimAndResetAsync(live.Id, now, counter, ct)) return (Outcome.Invalid, null);
        if (counter is not null) limiter.ForgetRefusal(counter);
        return (Outcome.Valid, live);
    }

    /// <summary>
    /// Takes one of the guesses of the flow's newest unused code of a kind in one statement (found and counted at once, so
    /// concurrent guesses each get their own count): the code as counted — its <see cref="SelfServiceCode.Attempts"/> above
    /// <paramref name="maxAttempts"/> when its guesses were spent already (it then stays at <paramref name="maxAttempts"/> + 1)
    /// — or null when the flow has no unused code of the kind.
    /// </summary>
    private async Task<SelfServiceCode?> TakeAttemptAsync(Guid flowId, string kind, int maxAttempts, CancellationToken ct)
    {
        var nid = db.Nid;
        // Raw, kept prepared on SQLite (RawSql): every guess runs it.
        var rows = await RawSql.QueryAsync(db, $"""
            UPDATE selfservice_codes
            SET "Attempts" = CASE WHEN "Attempts" < {maxAttempts} THEN "Attempts" + 1 ELSE {maxAttempts} + 1 END
            WHERE "Nid" = {nid} AND "UsedAt" IS NULL AND "Id" = (
                SELECT "Id" FROM selfservice_codes
                WHERE "Nid" = {nid} AND "FlowId" = {flowId} AND "Kind" = {kind} AND "UsedAt" IS NULL
                ORDER BY "CreatedAt" DESC LIMIT 1)
            RETURNING "Id", "Nid", "FlowId", "IdentityId", "Kind", "Address", "Via", "SecretHash", "Attempts", "ExpiresAt", "UsedAt", "CreatedAt"
            """, r => new SelfServiceCode
        {
            Id = r.GetGuid(0),
            Nid = r.GetGuid(1),
            FlowId = r.GetGuid(2),
            IdentityId = RawSql.NullableGuid(r, 3),
            Kind = r.GetString(4),
            Address = r.GetString(5),
            Via = r.GetString(6),
            SecretHash = r.GetFieldValue<byte[]>(7),
            Attempts = r.GetInt32(8),
            ExpiresAt = RawSql.Utc(r, 9),
            UsedAt = RawSql.NullableUtc(r, 10),
            CreatedAt = RawSql.Utc(r, 11),
        }, ct, kept: true);
        return rows.Count == 1 ? rows[0] : null;
    }

    /// <summary>Marks the code used if nobody has (1: this request used it).</summary>
    private Task<int> ClaimAsync(Guid id, DateTime now, CancellationToken ct)
    {
        var nid = db.Nid;
        return RawSql.ExecuteAsync(db, $"""
            UPDATE selfservice_codes SET "UsedAt" = {now} WHERE "Nid" = {nid} AND "Id" = {id} AND "UsedAt" IS NULL
            """, ct, kept: true);
    }

    /// <summary>
    /// Marks the code used if nobody has and, only then, deletes the rate-limit counter <paramref name="counter"/> (when
    /// given) — in one atomic command instead of the claim and the reset one after the other: true when this request used
    /// the code.
    /// </summary>
    private async Task<bool> ClaimAndResetAsync(Guid id, DateTime now, string? counter, CancellationToken ct)
    {
        if (counter is null) return await ClaimAsync(id, now, ct) == 1;
        var nid = db.Nid;
        if (db is PostgresGatehouseDbContext)
        {
            // One statement: the counter is deleted only if the UPDATE claimed the code.
            var claimed = await RawSql.QueryAsync(db, $"""
                WITH claimed AS (
                    UPDATE selfservice_codes SET "UsedAt" = {now} WHERE "Nid" = {nid} AND "Id" = {id} AND "UsedAt" IS NULL RETURNING "Id"),
                reset AS (
                    DELETE FROM rate_limit_counters WHERE "Nid" = {nid} AND "Key" = {counter} AND EXISTS (SELECT 1 FROM claimed))
                SELECT count(*) FROM claimed
                """, r => r.GetInt64(0), ct);
            return claimed[0] == 1;
        }
        // SQLite: two statements in one write transaction (BEGIN IMMEDIATE: no other writer in between). The counter goes
        // only while the code is unused, and then the UPDATE claims it, so the rows changed are 2 (counter and claim),
        // 1 (claim, no counter) or 0 (someone else used the code).
        FormattableString sql = $"""
            DELETE FROM rate_limit_counters WHERE "Nid" = {nid} AND "Key" = {counter}
                AND EXISTS (SELECT 1 FROM selfservice_codes WHERE "Nid" = {nid} AND "Id" = {id} AND "UsedAt" IS NULL);
            UPDATE selfservice_codes SET "UsedAt" = {now} WHERE "Nid" = {nid} AND "Id" = {id} AND "UsedAt" IS NULL;
            """;
        // Kept prepared, in a transaction of its own on the kept connection, outside the caller's transactions.
        if (SqlitePreparedReads.For(db) is not null) return await RawSql.ExecuteKeptAtomicAsync(db, sql, ct) >= 1;
        var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            var rows = await RawSql.ExecuteAsync(db, sql, ct);
            if (own is not null) await own.CommitAsync(ct);
            return rows >= 1;
        }
        finally
        {
            if (own is not null) await own.DisposeAsync();
        }
    }

    /// <summary>
    /// Redeems a link token of the flow (looked up by its hash): <see cref="Outcome.Invalid"/> when unknown, used or another
    /// flow's — a token submitted on the wrong flow is not spent, so its own flow still takes it. An unused token past its
    /// expiry is spent too and answered <see cref="Outcome.Expired"/> (with it), as Kratos's <c>UseRecoveryToken</c> /
    /// <c>UseVerificationToken</c> mark the token used before its <c>Valid</c> looks at the expiry.
    /// </summary>
    public async Task<(Outcome Outcome, SelfServiceCode? Code)> UseTokenAsync(Guid flowId, string kind, string token, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var hash = Hash(kind, token);
        var live = await db.Codes.AsNoTracking().FirstOrDefaultAsync(c => c.SecretHash == hash && c.FlowId == flowId && c.Kind == kind && c.UsedAt == null, ct);
        if (live is null || await ClaimAsync(live.Id, now, ct) != 1) return (Outcome.Invalid, null);
        return (live.ExpiresAt < now ? Outcome.Expired : Outcome.Valid, live);
    }
}
