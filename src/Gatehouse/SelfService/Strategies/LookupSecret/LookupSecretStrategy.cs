using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Identities;
using Gatehouse.RateLimiting;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Hooks;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.LookupSecret;

/// <summary>
/// The <c>lookup_secret</c> method (Kratos's <c>selfservice/strategy/lookup</c>): twelve one-use recovery codes,
/// generated, confirmed, revealed (which are used, and when) and disabled in settings, and used as a second factor in
/// <c>aal=aal2</c> logins. Unlike Kratos, Gatehouse keeps only hashes (<see cref="RecoveryCodeHasher"/>): the plain
/// codes exist in the one answer that generates them (and, for an HTML browser sent on to its settings page, in an
/// encrypted cookie of that browser until they are confirmed — <see cref="RevealCookie"/>); the flow stores their
/// hashes. A code is spent by compare-and-swap on the stored config, so it works once even when submitted twice at once;
/// wrong codes count against <c>gatehouse.rate_limits.second_factor_per_identity</c>.
/// </summary>
public sealed partial class LookupSecretStrategy(
    IPrivilegedIdentityStore store,
    IdentityManager identities,
    SessionManager sessions,
    RateLimiter limiter,
    HookRunner hooks,
    FlowService flows,
    RecoveryCodeHasher hasher,
    RevealCookie reveal) : ILoginStrategy, ISettingsStrategy, IStrategyDescriptor
{
    public const string MethodName = CredentialTypes.LookupSecret;
    public const string Group = "lookup_secret";

    /// <summary>How Kratos makes codes: 12 of 8 characters from <c>[a-z0-9]</c>.</summary>
    public const int CodeCount = 12;
    public const int CodeLength = 8;
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>
    /// What stands for an unused code Gatehouse cannot show any more (it keeps only hashes): in the stored flow after a
    /// regenerate, and in a reveal.
    /// </summary>
    public const string Hidden = "********";

    public string Name => MethodName;

    public static string ConfigName => MethodName;

    public static bool IsEnabled(GatehouseOptions options) => options.Selfservice.Methods.LookupSecret.Enabled;

    /// <summary>The identity's recovery-code credential when it holds any code, else null.</summary>
    private static IdentityCredential? Enrolled(IEnumerable<IdentityCredential> credentials) =>
        credentials.FirstOrDefault(c => c.Type == CredentialTypes.LookupSecret && LookupSecretCredentials.Entries(c.Config).Any());

    public static string NewCode() => System.Security.Cryptography.RandomNumberGenerator.GetString(Alphabet, CodeLength);

    /// <summary>
    /// The <c>lookup_secret_codes</c> text node (Kratos's <c>CredentialsLookupConfig.ToNode</c>): the list as one text
    /// (<c>code, used, …</c>) and as <c>context.secrets</c>, used codes as 1050014 with their time.
    /// </summary>
    public static JsonObject CodesNode(IEnumerable<(string? Code, string? UsedAt)> codes)
    {
        var secrets = new JsonArray();
        var texts = new List<string>();
        foreach (var (code, usedAt) in codes)
        {
            if (usedAt is not null && DateTimeOffset.TryParse(usedAt, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at))
            {
                secrets.Add(Messages.LookupSecretUsed(at));
                texts.Add("used");
            }
            else
            {
                secrets.Add(code is null ? Messages.Info(1050009, Hidden) : Messages.LookupSecret(code));
                texts.Add(code ?? Hidden);
            }
        }
        return new JsonObject
        {
            ["type"] = "text",
            ["group"] = Group,
            ["attributes"] = new JsonObject
            {
                ["text"] = Messages.LookupSecretList(string.Join(", ", texts), secrets),
                ["id"] = "lookup_secret_codes",
                ["node_type"] = "text",
            },
            ["messages"] = new JsonArray(),
            ["meta"] = new JsonObject { ["label"] = Messages.LookupSecretsLabel() },
        };
    }

    /// <summary>Puts the plain <paramref name="codes"/> into a flow's JSON in place of their placeholders (an answer only).</summary>
    public static void Reveal(JsonObject flowJson, IReadOnlyList<string> codes)
    {
        if (flowJson["ui"]?["nodes"] is not JsonArray nodes) return;
        foreach (var node in nodes.OfType<JsonObject>())
        {
            if (node["attributes"]?["id"]?.GetValue<string>() != "lookup_secret_codes") continue;
            node["attributes"]!["text"] = CodesNode(codes.Select(c => ((string?)c, (string?)null)))["attributes"]!["text"]!.DeepClone();
        }
    }
}
