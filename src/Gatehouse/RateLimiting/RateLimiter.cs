using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Text;

namespace Gatehouse.RateLimiting;

/// <summary>The limits of <c>gatehouse.rate_limits</c>, each with its config key and the message a refused request gets.</summary>
public enum RateLimitKind
{
    LoginPerIdentifier,
    LoginPerAddress,
    CodeAttemptsPerRecipient,
    MailsPerRecipient,
    FlowsPerAddress,
    AdminKeyFailuresPerAddress,
    SecondFactorPerIdentity,
    ClientRegistrationsPerAddress,
}

/// <summary>
/// Applies <c>gatehouse.rate_limits</c>: counts events per subject in the database-backed counters and turns a refusal
/// into 429 with <c>Retry-After</c>. Subjects (identifiers, addresses) are stored only as a keyed hash.
/// </summary>
public sealed class RateLimiter(IRateLimitCounters counters, GatehouseOptions options, ClientAddresses addresses, RefusalCache refusals)
{
    /// <summary>In <c>--dev</c> every limit is this many times higher.</summary>
    public const int DevFactor = 10;

    // Derived once per options tree, not per request (the limiter is scoped: every request that counts made one).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<GatehouseOptions, byte[]> Keys = [];

    private readonly byte[] _key = Keys.GetValue(options, static o =>
        SHA256.HashData(Encoding.UTF8.GetBytes("gatehouse-rate-limits\n" + (o.Secrets.Default.FirstOrDefault() ?? o.Secrets.Cookie.FirstOrDefault() ?? ""))));

    public bool Enabled => options.Gatehouse.RateLimits.Enabled;

    /// <summary>The client's bucket for per-address limits, or null when the client is not limited per address.</summary>
    public string? ClientBucket(HttpContext http) => Enabled ? addresses.BucketOf(http, options.Gatehouse.RateLimits.ExemptLoopback) : null;

    /// <summary>Counts one event for <paramref name="subject"/>; a refused event is not counted.</summary>
    public async Task<RateLimitDecision> CountAsync(RateLimitKind kind, string subject, CancellationToken ct)
    {
        var (rule, limit) = Rule(kind);
        if (!Enabled || limit == 0) return RateLimitDecision.Allow(0);
        var key = Key(kind, subject);
        if (refusals.Refused(key) is { } left) return RateLimitDecision.Refuse(left);
        var decision = await counters.TryCountAsync(key, limit, rule.Window, rule.ProgressiveDelay, ct);
        if (!decision.Allowed) refusals.Remember(key, decision.RetryAfter);
        return decision;
    }

    /// <summary>Whether <paramref name="subject"/> is refused now, without counting an event.</summary>
    public async Task<RateLimitDecision> PeekAsync(RateLimitKind kind, string subject, CancellationToken ct)
    {
        var (rule, limit) = Rule(kind);
        if (!Enabled || limit == 0) return RateLimitDecision.Allow(0);
        var key = Key(kind, subject);
        if (refusals.Refused(key) is { } left) return RateLimitDecision.Refuse(left);
        var decision = await counters.PeekAsync(key, limit, rule.Window, rule.ProgressiveDelay, ct);
        if (!decision.Allowed) refusals.Remember(key, decision.RetryAfter);
        return decision;
    }

    /// <summary>
    /// How long <paramref name="subject"/> is still refused according to this process's memory of the database's refusals,
    /// or null when only the database can tell (no database access here: used to turn a flood away cheaply).
    /// </summary>
    public TimeSpan? RefusedInMemory(RateLimitKind kind, string subject)
    {
        if (!Enabled || refusals.IsEmpty) return null;
        return refusals.Refused(Key(kind, subject));
    }

    /// <summary>Whether this process currently remembers any refusal (a cheap check before looking one up).</summary>
    public bool AnyRefusedInMemory => Enabled && !refusals.IsEmpty;

    /// <summary>Counts one event, or throws 429 when the subject is over the limit.</summary>
    public async Task EnforceAsync(RateLimitKind kind, string subject, CancellationToken ct)
    {
        var decision = await CountAsync(kind, subject, ct);
        if (!decision.Allowed) throw TooManyRequests(kind, decision.RetryAfter);
    }

    public Task UncountAsync(RateLimitKind kind, string subject, CancellationToken ct)
    {
        if (!Enabled) return Task.CompletedTask;
        var key = Key(kind, subject);
        refusals.Forget(key);
        return counters.UncountAsync(key, ct);
    }

    public Task ResetAsync(RateLimitKind kind, string subject, CancellationToken ct)
    {
        if (!Enabled) return Task.CompletedTask;
        var key = Key(kind, subject);
        refusals.Forget(key);
        return counters.ResetAsync(key, ct);
    }

    /// <summary>
    /// The stored counter of <paramref name="subject"/>, for a write that resets it together with another one in one
    /// atomic command (a code claimed and its recipient's guesses reset); null when limits are off. After such a reset,
    /// call <see cref="ForgetRefusal"/>.
    /// </summary>
    public string? CounterKey(RateLimitKind kind, string subject) => Enabled ? Key(kind, subject) : null;

    /// <summary>Forgets this process's memory of a refusal of the counter <paramref name="key"/>, reset by its caller.</summary>
    public void ForgetRefusal(string key) => refusals.Forget(key);

    /// <summary>
    /// 429 in Kratos's envelope, with <c>Retry-After</c> and, in <c>details</c>, the limit's name, the wait in seconds and a
    /// UI message (Gatehouse's ids 4290001-4290009, see <c>docs/rate-limits.md</c>).
    /// </summary>
    public static GatehouseError TooManyRequests(RateLimitKind kind, TimeSpan retryAfter)
    {
        var seconds = RateLimitWindow.Seconds(retryAfter);
        var message = Messages.RateLimited(kind, seconds);
        return new GatehouseError(429, message["text"]!.GetValue<string>(), "rate_limit_exceeded", details: new JsonObject
        {
            ["limit"] = ConfigName(kind),
            ["retry_after_seconds"] = seconds,
            ["message"] = message,
        })
        { RetryAfter = TimeSpan.FromSeconds(seconds) };
    }

    public static string ConfigName(RateLimitKind kind) => kind switch
    {
        RateLimitKind.LoginPerIdentifier => "login_per_identifier",
        RateLimitKind.LoginPerAddress => "login_per_address",
        RateLimitKind.CodeAttemptsPerRecipient => "code_attempts_per_recipient",
        RateLimitKind.MailsPerRecipient => "mails_per_recipient",
        RateLimitKind.FlowsPerAddress => "flows_per_address",
        RateLimitKind.AdminKeyFailuresPerAddress => "admin_key_failures_per_address",
        RateLimitKind.SecondFactorPerIdentity => "second_factor_per_identity",
        RateLimitKind.ClientRegistrationsPerAddress => "client_registrations_per_address",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private (RateLimitRule Rule, int Limit) Rule(RateLimitKind kind)
    {
        var limits = options.Gatehouse.RateLimits;
        var rule = kind switch
        {
            RateLimitKind.LoginPerIdentifier => limits.LoginPerIdentifier,
            RateLimitKind.LoginPerAddress => limits.LoginPerAddress,
            RateLimitKind.CodeAttemptsPerRecipient => limits.CodeAttemptsPerRecipient,
            RateLimitKind.MailsPerRecipient => limits.MailsPerRecipient,
            RateLimitKind.FlowsPerAddress => limits.FlowsPerAddress,
            RateLimitKind.AdminKeyFailuresPerAddress => limits.AdminKeyFailuresPerAddress,
            RateLimitKind.SecondFactorPerIdentity => limits.SecondFactorPerIdentity,
            RateLimitKind.ClientRegistrationsPerAddress => limits.ClientRegistrationsPerAddress,
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var limit = options.Dev ? (int)Math.Min((long)rule.Limit * DevFactor, int.MaxValue) : rule.Limit;
        return (rule, limit);
    }

    private string Key(RateLimitKind kind, string subject) =>
        ConfigName(kind) + ":" + System.Buffers.Text.Base64Url.EncodeToString(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(subject)));
}
