using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hashing;
using Gatehouse.Http.Errors;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Password;

/// <summary>
/// Kratos's password policy (registration and settings): minimum length, the hasher's maximum, not too similar to the
/// identifier, and not breached — always against the embedded list of common leaked passwords, and against
/// Have I Been Pwned's k-anonymity range API when <c>haveibeenpwned_enabled</c> (network errors ignored when
/// <c>ignore_network_errors</c>). Returns the UI message for the first rule broken, or null.
/// An unreachable HIBP is one warning line in the log (no stack trace); with <c>ignore_network_errors: false</c> the
/// submit fails with 502 <c>upstream_error</c>, as Kratos's validator does.
/// </summary>
public sealed partial class PasswordPolicy(GatehouseOptions options, PasswordHasher hasher, IHttpClientFactory httpClients, TimeProvider time, ILogger<PasswordPolicy> logger)
{
    /// <summary>The most breach counts kept (one per distinct password hash, about 100 bytes each).</summary>
    public const int CacheEntries = 10_000;

    /// <summary>How long a breach count is kept: HIBP's data changes slowly, but a password may become breached.</summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromHours(1);


    private readonly BreachCountCache _cache = new(CacheEntries, CacheLifetime, time);

    public async Task<JsonObject?> CheckAsync(string identifier, string password, CancellationToken ct)
    {
        var config = options.Selfservice.Methods.Password.Config;
        var length = password.EnumerateRunes().Count();
        if (length < config.MinPasswordLength) return Messages.PasswordMinLength(config.MinPasswordLength, length);
        if (hasher.MaxPasswordBytes is { } max && Encoding.UTF8.GetByteCount(password) > max)
            return Messages.PasswordMaxLength(max, Encoding.UTF8.GetByteCount(password));
        if (config.IdentifierSimilarityCheckEnabled && identifier.Length > 0 && TooSimilar(identifier, password)) return Messages.PasswordTooSimilar();
        if (BreachedPasswords.IsCommon(password)) return Messages.PasswordBreached(1);
        if (config.HaveibeenpwnedEnabled)
        {
            var breaches = await BreachCountAsync(password, config, ct);
            if (breaches is null)
            {
                if (config.IgnoreNetworkErrors) return null;
                throw new GatehouseError(502, "Unable to check if the password has been leaked in a data breach: the Have I Been Pwned API could not be reached.", "upstream_error");
            }
            if (breaches > config.MaxBreaches) return Messages.PasswordBreached(breaches.Value);
        }
        return null;
    }

    /// <summary>Kratos's rule: Levenshtein distance under 5, or a common substring over half the password (case-insensitive).</summary>
    public static bool TooSimilar(string identifier, string password)
    {
        if (identifier.Length > 256 || password.Length > 256) return false;
        var a = identifier.ToLowerInvariant();
        var b = password.ToLowerInvariant();
        return Levenshtein(a, b) < 5 || (double)LongestCommonSubstring(a, b) / b.Length > 0.5;
    }

    private static int Levenshtein(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    private static int LongestCommonSubstring(string a, string b)
    {
        var best = 0;
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : 0;
                best = Math.Max(best, cur[j]);
            }
            (prev, cur) = (cur, prev);
            Array.Clear(cur);
        }
        return best;
    }

    /// <summary>The password's breach count, or null when HIBP could not be asked (logged as one warning line).</summary>
    private async Task<long?> BreachCountAsync(string password, PasswordMethodConfig config, CancellationToken ct)
    {
#pragma warning disable CA5350 // The HIBP range API is defined over SHA-1; it is a lookup key, not a password hash.
        var hash = Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(password)));
#pragma warning restore CA5350
        var prefix = hash[..5];
        var suffix = hash[5..];
        if (_cache.TryGet(hash, out var cached)) return cached;
        try
        {
            var client = httpClients.CreateClient("hibp");
            using var response = await client.GetAsync($"https://{config.HaveibeenpwnedHost}/range/{prefix}", ct);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                LogUnreachable(logger, config.HaveibeenpwnedHost, $"status {(int)response.StatusCode}");
                return null;
            }
            var body = await response.Content.ReadAsStringAsync(ct);
            long count = 0;
            foreach (var line in body.Split('\n'))
            {
                var parts = line.Trim().Split(':');
                if (parts.Length == 2 && parts[0].Equals(suffix, StringComparison.OrdinalIgnoreCase) && long.TryParse(parts[1], out var n)) count = n;
            }
            _cache.Set(hash, count);
            return count;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            LogUnreachable(logger, config.HaveibeenpwnedHost, ex.InnerException?.Message ?? ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Have I Been Pwned ({Host}) could not be reached, so a password was not checked against breaches: {Error}")]
    private static partial void LogUnreachable(ILogger logger, string host, string error);
}
