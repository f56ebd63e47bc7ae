using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Identities;
using Gatehouse.RateLimiting;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Hooks;
using Gatehouse.Sessions;

namespace Gatehouse.SelfService.Strategies.Totp;

/// <summary>
/// The <c>totp</c> method (Kratos's <c>selfservice/strategy/totp</c>): an authenticator app enrolled in settings (QR code
/// and secret, confirmed with a code; unlinked with <c>totp_unlink</c>) and used as a second factor in <c>aal=aal2</c>
/// logins. The key URL is the credential's config (<c>totp_url</c>), as Kratos keeps it; a code is accepted once: the
/// time step it used is stored with the credential by compare-and-swap, so neither a replay nor two concurrent submits
/// of one code get through. Wrong codes count against <c>gatehouse.rate_limits.second_factor_per_identity</c>.
/// </summary>
public sealed partial class TotpStrategy(
    IPrivilegedIdentityStore store,
    IdentityManager identities,
    SessionManager sessions,
    RateLimiter limiter,
    HookRunner hooks,
    FlowService flows,
    GatehouseOptions options) : ILoginStrategy, ISettingsStrategy, IStrategyDescriptor
{
    public const string MethodName = CredentialTypes.Totp;
    public const string Group = "totp";

    /// <summary>Where the stored config keeps the last accepted time step (Gatehouse's own; not shown by the admin API).</summary>
    public const string LastUsedStepKey = "last_used_step";

    public string Name => MethodName;

    public static string ConfigName => MethodName;

    public static bool IsEnabled(GatehouseOptions options) => options.Selfservice.Methods.Totp.Enabled;

    /// <summary><c>selfservice.methods.totp.config.issuer</c>, else the public base URL's host name (Kratos's default).</summary>
    private string Issuer => options.Selfservice.Methods.Totp.Config.Issuer is { Length: > 0 } issuer
        ? issuer
        : new Uri(ReturnUrlPolicy.PublicBaseUrl(options)).Host;

    /// <summary>The identity's TOTP credential when it holds a usable key, else null.</summary>
    private static (IdentityCredential Credential, TotpKey Key)? Enrolled(IEnumerable<IdentityCredential> credentials) =>
        credentials.FirstOrDefault(c => c.Type == CredentialTypes.Totp) is { } c && TotpKey.Parse(ConfigUrl(c.Config)) is { } key ? (c, key) : null;

    private static string? ConfigUrl(string config) =>
        JsonNode.Parse(config) is JsonObject o && o["totp_url"] is JsonValue v && v.TryGetValue<string>(out var url) ? url : null;

    private static long LastUsedStep(string config) =>
        JsonNode.Parse(config) is JsonObject o && o[LastUsedStepKey] is JsonValue v && v.TryGetValue<long>(out var step) ? step : long.MinValue;

    /// <summary>
    /// Checks <paramref name="code"/> against the enrolled key and spends its time step: the stored config is replaced only
    /// if it is unchanged since it was read, with the step recorded, so the same code (or an older one) is refused afterwards.
    /// </summary>
    private async Task<bool> SpendAsync(IdentityCredential credential, TotpKey key, string code, CancellationToken ct)
    {
        var now = flows.Now();
        if (key.Match(code, now) is not { } step || step <= LastUsedStep(credential.Config)) return false;
        var config = JsonNode.Parse(credential.Config) as JsonObject ?? [];
        config[LastUsedStepKey] = step;
        return await store.SwapCredentialConfigAsync(credential.Id, credential.Config, config.ToJsonString(), now, ct);
    }
}
