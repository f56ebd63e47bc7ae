using System.Text.Json.Serialization;

namespace Gatehouse.Config;

/// <summary><c>selfservice.methods</c>.</summary>
public sealed class SelfServiceMethodsOptions
{
    public PasswordMethodOptions Password { get; set; } = new();
    public ProfileMethodOptions Profile { get; set; } = new();
    public CodeMethodOptions Code { get; set; } = new();
    public LinkMethodOptions Link { get; set; } = new();
    public TotpMethodOptions Totp { get; set; } = new();
    public LookupSecretMethodOptions LookupSecret { get; set; } = new();
    public PasskeyMethodOptions Passkey { get; set; } = new();
    public WebAuthnMethodOptions Webauthn { get; set; } = new();
}

public sealed class PasswordMethodOptions
{
    public bool Enabled { get; set; } = true;
    public PasswordMethodConfig Config { get; set; } = new();
}

public sealed class PasswordMethodConfig
{
    public int MinPasswordLength { get; set; } = 8;
    public bool HaveibeenpwnedEnabled { get; set; } = true;
    public string HaveibeenpwnedHost { get; set; } = "api.pwnedpasswords.com";

    /// <summary>How often a password may appear in breaches before it is rejected.</summary>
    public int MaxBreaches { get; set; }

    /// <summary>Accept the password when the breach lookup fails.</summary>
    public bool IgnoreNetworkErrors { get; set; } = true;
    public bool IdentifierSimilarityCheckEnabled { get; set; } = true;
}

public sealed class ProfileMethodOptions
{
    public bool Enabled { get; set; } = true;
}

public sealed class CodeMethodOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Sign in and register with a one-time code instead of a password.</summary>
    public bool PasswordlessEnabled { get; set; }

    /// <summary>Offer a one-time code as a second factor.</summary>
    public bool MfaEnabled { get; set; }
    public CodeMethodConfig Config { get; set; } = new();
}

public sealed class CodeMethodConfig
{
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan Lifespan { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many wrong codes a flow accepts before it is invalidated.</summary>
    public int MaxSubmissions { get; set; } = 5;
}

public sealed class LinkMethodOptions
{
    public bool Enabled { get; set; }
    public LinkMethodConfig Config { get; set; } = new();
}

public sealed class LinkMethodConfig
{
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan Lifespan { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Base of recovery and verification links; unset means <c>serve.public.base_url</c>.</summary>
    public string? BaseUrl { get; set; }
}

/// <summary><c>selfservice.methods.totp</c>: time-based one-time codes from an authenticator app, as a second factor.</summary>
public sealed class TotpMethodOptions
{
    /// <summary>Off by default, as in Kratos.</summary>
    public bool Enabled { get; set; }
    public TotpMethodConfig Config { get; set; } = new();
}

public sealed class TotpMethodConfig
{
    /// <summary>The issuer an authenticator app shows; unset means the host name of <c>serve.public.base_url</c> (Kratos's default).</summary>
    public string? Issuer { get; set; }
}

/// <summary><c>selfservice.methods.lookup_secret</c>: one-use recovery codes as a second factor.</summary>
public sealed class LookupSecretMethodOptions
{
    /// <summary>Off by default, as in Kratos.</summary>
    public bool Enabled { get; set; }
}

/// <summary><c>selfservice.methods.passkey</c>: discoverable WebAuthn credentials as a first factor (aal1).</summary>
public sealed class PasskeyMethodOptions
{
    /// <summary>Off by default, as in Kratos; when on, <c>config.rp</c> (id, display_name) is required.</summary>
    public bool Enabled { get; set; }
    public PasskeyMethodConfig Config { get; set; } = new();
}

public sealed class PasskeyMethodConfig
{
    public WebAuthnRelyingPartyOptions Rp { get; set; } = new();
    public PasskeyAuthenticatorSelection AuthenticatorSelection { get; set; } = new();
}

/// <summary><c>selfservice.methods.passkey.config.authenticator_selection</c> (Kratos's defaults).</summary>
public sealed class PasskeyAuthenticatorSelection
{
    /// <summary><c>platform</c> or <c>cross-platform</c>; unset lets the user pick either (WebAuthn "no preference").</summary>
    public string? Attachment { get; set; }
    public string ResidentKey { get; set; } = "required";
    public string UserVerification { get; set; } = "preferred";
}

/// <summary><c>selfservice.methods.webauthn</c>: security keys as a second factor, or with <c>passwordless</c> as a first.</summary>
public sealed class WebAuthnMethodOptions
{
    public bool Enabled { get; set; }
    public WebAuthnMethodConfig Config { get; set; } = new();
}

public sealed class WebAuthnMethodConfig
{
    /// <summary>Security keys sign in as a first factor (aal1) and register accounts, instead of being a second factor (aal2).</summary>
    public bool Passwordless { get; set; }
    public WebAuthnRelyingPartyOptions Rp { get; set; } = new();
}

/// <summary>The WebAuthn relying party (<c>config.rp</c> of the passkey and webauthn methods).</summary>
public sealed class WebAuthnRelyingPartyOptions
{
    /// <summary>The RP id: the site's domain or a registrable suffix of it; credentials are bound to it.</summary>
    public string Id { get; set; } = "";
    public string DisplayName { get; set; } = "";

    /// <summary>Deprecated in Kratos in favour of <see cref="Origins"/>; still honoured.</summary>
    public string? Origin { get; set; }

    /// <summary>The page origins allowed to run the ceremonies; empty means <c>&lt;public scheme&gt;://&lt;id&gt;</c> (Kratos's default).</summary>
    public List<string> Origins { get; set; } = [];

    /// <summary>Ignored, as in Kratos (deprecated there for security reasons).</summary>
    public string? Icon { get; set; }
}
