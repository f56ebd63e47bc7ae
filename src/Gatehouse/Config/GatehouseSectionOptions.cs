using System.Text.Json.Serialization;

namespace Gatehouse.Config;

/// <summary>
/// Gatehouse addition: the top-level <c>gatehouse</c> key holds settings Kratos has no key for — brute-force protection
/// and rate limits (<c>gatehouse.rate_limits</c>), the password-hashing work queue (<c>gatehouse.hashing.queue</c>) and
/// which proxies may name the client address (<c>gatehouse.trusted_proxies</c>).
/// </summary>
public sealed class GatehouseSectionOptions
{
    /// <summary>
    /// IP addresses or CIDR ranges of reverse proxies whose <c>X-Forwarded-For</c> is believed. The client address is the
    /// right-most address of that header not in this list; without trusted proxies the header is ignored.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    public RateLimitsOptions RateLimits { get; set; } = new();
    public HashingOptions Hashing { get; set; } = new();
}

/// <summary><c>gatehouse.rate_limits</c>: counters kept in the database, so every replica on one database shares them.</summary>
public sealed class RateLimitsOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Loopback clients (127.0.0.0/8, ::1) are not limited per client address: that is a local reverse proxy or tool, and
    /// counting every user behind it as one address would turn a per-address limit into a limit for the whole site.
    /// Per-identifier and per-recipient limits still apply. Name the proxy in <c>gatehouse.trusted_proxies</c> instead.
    /// </summary>
    public bool ExemptLoopback { get; set; } = true;

    /// <summary>Failed password logins per identifier (progressive delay by default).</summary>
    public RateLimitRule LoginPerIdentifier { get; set; } = new() { Limit = 10, Window = TimeSpan.FromHours(1), ProgressiveDelay = TimeSpan.FromSeconds(1) };

    /// <summary>Failed password logins per client address.</summary>
    public RateLimitRule LoginPerAddress { get; set; } = new() { Limit = 100, Window = TimeSpan.FromMinutes(10) };

    /// <summary>Guesses at recovery/verification codes per recipient address, across every code sent to it.</summary>
    public RateLimitRule CodeAttemptsPerRecipient { get; set; } = new() { Limit = 10, Window = TimeSpan.FromHours(1) };

    /// <summary>Recovery/verification mails (codes and links) per recipient address.</summary>
    public RateLimitRule MailsPerRecipient { get; set; } = new() { Limit = 10, Window = TimeSpan.FromHours(1) };

    /// <summary>Self-service flows created per client address.</summary>
    public RateLimitRule FlowsPerAddress { get; set; } = new() { Limit = 300, Window = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// Wrong second-factor codes (TOTP) per identity: a 6-digit code has 10^6 values, so guesses are bounded per account
    /// whatever the session or flow they come from (progressive delay by default).
    /// </summary>
    public RateLimitRule SecondFactorPerIdentity { get; set; } = new() { Limit = 10, Window = TimeSpan.FromHours(1), ProgressiveDelay = TimeSpan.FromSeconds(1) };

    /// <summary>
    /// OAuth2 clients registered anonymously (<c>POST /oauth2/register</c>) per client address: each one is a stored row,
    /// so the cheap anonymous request must not be able to write rows without bound.
    /// </summary>
    public RateLimitRule ClientRegistrationsPerAddress { get; set; } = new() { Limit = 20, Window = TimeSpan.FromHours(1) };

    /// <summary>Requests with a missing or wrong admin API key per client address.</summary>
    public RateLimitRule AdminKeyFailuresPerAddress { get; set; } = new() { Limit = 30, Window = TimeSpan.FromMinutes(10) };
}

/// <summary>
/// One limit: at most <see cref="Limit"/> counted events per <see cref="Window"/> (the window starts with the first event and
/// the counter resets when it ends). Over the limit the caller waits until the window ends (lockout) or, with a
/// <see cref="ProgressiveDelay"/>, for that delay after the last event, doubling with every further event (capped by the window's end).
/// </summary>
public sealed class RateLimitRule
{
    /// <summary>Events allowed per window; 0 switches this limit off.</summary>
    public int Limit { get; set; }

    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan ProgressiveDelay { get; set; } = TimeSpan.Zero;
}

/// <summary><c>gatehouse.hashing</c>.</summary>
public sealed class HashingOptions
{
    public HashingQueueOptions Queue { get; set; } = new();
}

/// <summary>
/// <c>gatehouse.hashing.queue</c>: password hashes (login, registration, settings, imports of clear-text passwords) run at
/// most <see cref="Concurrency"/> at a time; up to <see cref="MaxQueued"/> more wait; beyond that a request is answered
/// 503 with <c>Retry-After</c>, so a flood of logins cannot take every thread and core from whoami.
/// </summary>
public sealed class HashingQueueOptions
{
    /// <summary>Hashes computed at once; 0 means the number of processors.</summary>
    public int Concurrency { get; set; }

    /// <summary>Hashes that may wait for a slot; 0 means 64 per processor.</summary>
    public int MaxQueued { get; set; }

    /// <summary>The longest a hash waits for a slot before the request is shed.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The hashing threads' scheduling priority on Linux: <c>low</c> (niceness 10 and the kernel's shortest time slice, the default), <c>idle</c>
    /// (<c>SCHED_IDLE</c>: a request thread that wakes always preempts a hash at once, but a hash gets almost no CPU while
    /// requests keep every core busy) or <c>normal</c>.
    /// </summary>
    public string Priority { get; set; } = "low";
}
