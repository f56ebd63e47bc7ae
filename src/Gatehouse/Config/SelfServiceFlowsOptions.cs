using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Gatehouse.Config;

/// <summary><c>selfservice.flows</c>.</summary>
public sealed class SelfServiceFlowsOptions
{
    public LoginFlowOptions Login { get; set; } = new();
    public RegistrationFlowOptions Registration { get; set; } = new();
    public SettingsFlowOptions Settings { get; set; } = new();
    public RecoveryFlowOptions Recovery { get; set; } = new();
    public VerificationFlowOptions Verification { get; set; } = new();
    public ErrorFlowOptions Error { get; set; } = new();
    public LogoutFlowOptions Logout { get; set; } = new();
}

/// <summary>What every interactive flow shares: where its UI lives and how long a flow stays valid.</summary>
public abstract class FlowOptions
{
    /// <summary>
    /// Where the UI for this flow is hosted. Unset means Gatehouse's own pages serve the flow;
    /// Kratos falls back to <c>https://www.ory.com/kratos/docs/fallback/&lt;flow&gt;</c> instead.
    /// </summary>
    public string? UiUrl { get; set; }

    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan Lifespan { get; set; } = TimeSpan.FromHours(1);

    public FlowBeforeOptions Before { get; set; } = new();
    public FlowAfterOptions After { get; set; } = new();
}

public sealed class LoginFlowOptions : FlowOptions
{
    /// <summary><c>unified</c> (default) or <c>identifier_first</c>.</summary>
    public string Style { get; set; } = "unified";
}

public sealed class RegistrationFlowOptions : FlowOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary><c>profile_first</c> (default) or <c>unified</c>.</summary>
    public string Style { get; set; } = "profile_first";

    /// <summary>
    /// Kratos's <c>login_hints</c>: a registration refused because the identifier or address belongs to an account says
    /// how that account signs in (4000028 instead of 4000007; social sign-up's account linking shows only those methods).
    /// </summary>
    public bool LoginHints { get; set; }

    /// <summary>
    /// Kratos's deprecated <c>enable_legacy_one_step</c>: <c>true</c> registers in one step whatever <see cref="Style"/> says
    /// (Kratos's <c>SelfServiceFlowRegistrationTwoSteps</c>, which warns about the key).
    /// </summary>
    public bool EnableLegacyOneStep { get; set; }

    /// <summary>Whether registration takes two steps: the traits, then the credentials (any style but <c>unified</c>, unless <see cref="EnableLegacyOneStep"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ProfileFirst => !EnableLegacyOneStep && Style != "unified";
}

public sealed class SettingsFlowOptions : FlowOptions
{
    /// <summary>How long after signing in a session may change credentials without re-authenticating.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan PrivilegedSessionMaxAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary><c>highest_available</c> (default) or <c>aal1</c>.</summary>
    public string RequiredAal { get; set; } = "highest_available";
}

public sealed class RecoveryFlowOptions : FlowOptions
{
    public bool Enabled { get; set; }

    /// <summary>The strategy that carries the flow: <c>code</c> (default) or <c>link</c>.</summary>
    public string Use { get; set; } = "code";

    /// <summary>Whether to send a message to an address that belongs to no identity.</summary>
    public bool NotifyUnknownRecipients { get; set; }
}

public sealed class VerificationFlowOptions : FlowOptions
{
    public bool Enabled { get; set; }

    /// <summary>The strategy that carries the flow: <c>code</c> (default) or <c>link</c>.</summary>
    public string Use { get; set; } = "code";

    /// <summary>Whether to send a message to an address that belongs to no identity.</summary>
    public bool NotifyUnknownRecipients { get; set; }
}

public sealed class ErrorFlowOptions
{
    /// <summary>Where the error UI is hosted; unset means Gatehouse's own error page.</summary>
    public string? UiUrl { get; set; }
}

public sealed class LogoutFlowOptions
{
    public LogoutAfterOptions After { get; set; } = new();

    /// <summary>
    /// <c>selfservice.flows.logout.clear_browser_data</c> (Kratos, default false): a browser logout over https answers
    /// <c>Clear-Site-Data: "cookies", "storage", "cache"</c>. Off by default, as it clears everything of the origin,
    /// other applications' data included.
    /// </summary>
    public bool ClearBrowserData { get; set; }
}

public sealed class LogoutAfterOptions
{
    public string? DefaultBrowserReturnUrl { get; set; }
}

/// <summary><c>selfservice.flows.&lt;flow&gt;.before</c>.</summary>
public sealed class FlowBeforeOptions
{
    public List<HookConfig> Hooks { get; set; } = [];
}

/// <summary>
/// <c>selfservice.flows.&lt;flow&gt;.after</c>: global hooks plus per-method hooks. Which methods a flow
/// accepts is enforced by the configuration schema (e.g. <c>profile</c> only for settings).
/// </summary>
public sealed class FlowAfterOptions
{
    public string? DefaultBrowserReturnUrl { get; set; }
    public List<HookConfig> Hooks { get; set; } = [];
    public FlowAfterMethodOptions? Password { get; set; }
    public FlowAfterMethodOptions? Oidc { get; set; }
    public FlowAfterMethodOptions? Code { get; set; }
    public FlowAfterMethodOptions? Webauthn { get; set; }
    public FlowAfterMethodOptions? Passkey { get; set; }
    public FlowAfterMethodOptions? Totp { get; set; }
    public FlowAfterMethodOptions? LookupSecret { get; set; }
    public FlowAfterMethodOptions? Profile { get; set; }

    /// <summary>The section for a method by its config name (<c>password</c>, <c>lookup_secret</c>, ...), if configured.</summary>
    public FlowAfterMethodOptions? ForMethod(string method) => method switch
    {
        "password" => Password,
        "oidc" => Oidc,
        "code" => Code,
        "webauthn" => Webauthn,
        "passkey" => Passkey,
        "totp" => Totp,
        "lookup_secret" => LookupSecret,
        "profile" => Profile,
        _ => null,
    };

    /// <summary>
    /// The hooks to run after <paramref name="method"/> completed the flow: the method's own list when it is
    /// non-empty, otherwise the global list. Kratos does not merge the two.
    /// </summary>
    public IReadOnlyList<HookConfig> HooksFor(string method) =>
        ForMethod(method) is { Hooks.Count: > 0 } section ? section.Hooks : Hooks;

    /// <summary>The method's return URL when set, otherwise the flow's.</summary>
    public string? DefaultBrowserReturnUrlFor(string method) =>
        ForMethod(method)?.DefaultBrowserReturnUrl ?? DefaultBrowserReturnUrl;
}

public sealed class FlowAfterMethodOptions
{
    public string? DefaultBrowserReturnUrl { get; set; }
    public List<HookConfig> Hooks { get; set; } = [];
}

/// <summary>One entry of a <c>hooks</c> list: the hook's config name and its raw, hook-specific configuration.</summary>
public sealed class HookConfig
{
    /// <summary><c>session</c>, <c>web_hook</c>, <c>show_verification_ui</c>, <c>require_verified_address</c>, ...</summary>
    public string Hook { get; set; } = "";

    /// <summary>The hook's <c>config</c> object as written; each hook reads its own shape.</summary>
    public JsonObject? Config { get; set; }
}
