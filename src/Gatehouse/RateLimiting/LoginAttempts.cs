namespace Gatehouse.RateLimiting;

/// <summary>
/// Brute-force protection for password logins, the one thing a login method calls: <see cref="BeginAsync"/> counts the
/// attempt against the identifier and the client address <em>before</em> the password is compared (so concurrent
/// guesses cannot all slip under the limit), <see cref="LoginAttempt.SucceededAsync"/> takes it back when the password
/// was right. Unknown identifiers count like known ones, so a 429 reveals nothing about which accounts exist.
/// </summary>
public sealed class LoginAttempts(RateLimiter limiter)
{
    /// <summary>Whether this process remembers any refusal at all (when not, <see cref="RefusedInMemory"/> is always null).</summary>
    public bool AnyRefusedInMemory => limiter.AnyRefusedInMemory;

    /// <summary>
    /// The 429 for a login naming <paramref name="identifier"/> from this client when this process already knows the
    /// identifier or the address is refused, else null — from memory only, so a flood is turned away before the flow is
    /// read. When it answers null, <see cref="BeginAsync"/> still decides with the shared counters.
    /// </summary>
    public Http.Errors.GatehouseError? RefusedInMemory(HttpContext http, string identifier)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(identifier);
        if (!limiter.AnyRefusedInMemory) return null;
        if (limiter.RefusedInMemory(RateLimitKind.LoginPerIdentifier, Schemas.IdentifierNormalizer.Graceful(identifier)) is { } wait)
            return RateLimiter.TooManyRequests(RateLimitKind.LoginPerIdentifier, wait);
        if (limiter.ClientBucket(http) is { } bucket && limiter.RefusedInMemory(RateLimitKind.LoginPerAddress, bucket) is { } addressWait)
            return RateLimiter.TooManyRequests(RateLimitKind.LoginPerAddress, addressWait);
        return null;
    }

    /// <exception cref="Http.Errors.GatehouseError">429 with <c>Retry-After</c>: the identifier or the address is over its limit.</exception>
    public async Task<LoginAttempt> BeginAsync(HttpContext http, string identifier, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(identifier);
        if (!limiter.Enabled) return new LoginAttempt(limiter, null, null);
        var subject = Schemas.IdentifierNormalizer.Graceful(identifier);
        // The identifier first: a flood against one account is then refused by a read, without writing anything.
        var byIdentifier = await limiter.CountAsync(RateLimitKind.LoginPerIdentifier, subject, ct);
        if (!byIdentifier.Allowed) throw RateLimiter.TooManyRequests(RateLimitKind.LoginPerIdentifier, byIdentifier.RetryAfter);
        var bucket = limiter.ClientBucket(http);
        if (bucket is not null)
        {
            var byAddress = await limiter.CountAsync(RateLimitKind.LoginPerAddress, bucket, ct);
            if (!byAddress.Allowed)
            {
                await limiter.UncountAsync(RateLimitKind.LoginPerIdentifier, subject, ct);
                throw RateLimiter.TooManyRequests(RateLimitKind.LoginPerAddress, byAddress.RetryAfter);
            }
        }
        return new LoginAttempt(limiter, subject, bucket);
    }
}

/// <summary>A counted login attempt; a right password takes it back.</summary>
public sealed class LoginAttempt(RateLimiter limiter, string? identifier, string? bucket)
{
    /// <summary>The password was right: the identifier's failures are forgotten and this attempt no longer counts against the address.</summary>
    public async Task SucceededAsync(CancellationToken ct)
    {
        if (identifier is not null) await limiter.ResetAsync(RateLimitKind.LoginPerIdentifier, identifier, ct);
        if (bucket is not null) await limiter.UncountAsync(RateLimitKind.LoginPerAddress, bucket, ct);
    }
}
