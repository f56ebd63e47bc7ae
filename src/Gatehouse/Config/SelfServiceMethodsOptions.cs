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
    public OidcMethodOptions Oidc { get; set; } = new();
    public SamlMethodOptions Saml { get; set; } = new();
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

    /// <summary><c>migrate_hook</c>: Kratos's password migration hook (see <c>PasswordMigrationHook</c>).</summary>
    public PasswordMigrateHookOptions MigrateHook { get; set; } = new();
}

/// <summary><c>selfservice.methods.password.config.migrate_hook</c>.</summary>
public sealed class PasswordMigrateHookOptions
{
    public bool Enabled { get; set; }

    /// <summary>The request config as written (<c>url</c>, <c>method</c>, <c>headers</c>, <c>auth</c>, <c>body</c>), read as a web hook's.</summary>
    public System.Text.Json.Nodes.JsonObject? Config { get; set; }
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

    /// <summary>
    /// Kratos's <c>missing_credential_fallback_enabled</c>: a code as the second factor may go to the identity's verifiable
    /// addresses when it has no code credential address (identities created before the schema marked a code identifier).
    /// </summary>
    public bool MissingCredentialFallbackEnabled { get; set; }
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
    public PasskeyAttestation Attestation { get; set; } = new();
    public PasskeyTimeouts Timeouts { get; set; } = new();
}

/// <summary><c>selfservice.methods.passkey.config.attestation</c>.</summary>
public sealed class PasskeyAttestation
{
    /// <summary>The attestation conveyance preference of a registration: <c>none</c> (Kratos's default), <c>indirect</c>, <c>direct</c> or <c>enterprise</c>.</summary>
    public string Preference { get; set; } = "none";
}

/// <summary><c>selfservice.methods.passkey.config.timeouts</c>: the ceremonies' <c>timeout</c>; unset, go-webauthn's defaults (5m, 2m with user verification discouraged).</summary>
public sealed class PasskeyTimeouts
{
    [JsonConverter(typeof(NullableDurationJsonConverter))]
    public TimeSpan? Registration { get; set; }

    [JsonConverter(typeof(NullableDurationJsonConverter))]
    public TimeSpan? Login { get; set; }
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

/// <summary><c>selfservice.methods.oidc</c>: social sign-in and enterprise OpenID Connect (Kratos's <c>oidc</c> method).</summary>
public sealed class OidcMethodOptions
{
    /// <summary>Off by default, as in Kratos.</summary>
    public bool Enabled { get; set; }
    public OidcMethodConfig Config { get; set; } = new();
}

public sealed class OidcMethodConfig
{
    /// <summary>Base of the redirect URI registered at the providers; unset means <c>serve.public.base_url</c>.</summary>
    public string? BaseRedirectUri { get; set; }

    public List<OidcProviderOptions> Providers { get; set; } = [];
}

/// <summary>
/// <c>selfservice.methods.saml</c>: only the base of the redirect URI Kratos's <c>jackson</c> oidc preset registers
/// (<c>&lt;base&gt;/self-service/methods/saml/callback/&lt;id&gt;</c>); Gatehouse has no SAML method of its own.
/// </summary>
public sealed class SamlMethodOptions
{
    public SamlMethodConfig Config { get; set; } = new();
}

public sealed class SamlMethodConfig
{
    /// <summary>Base of the <c>jackson</c> providers' redirect URI; unset means <c>serve.public.base_url</c>.</summary>
    public string? BaseRedirectUri { get; set; }
}

/// <summary>One upstream provider (Kratos's <c>selfServiceOIDCProvider</c>).</summary>
public sealed class OidcProviderOptions
{
    /// <summary>URL-safe id, part of the callback path and of the credential identifier <c>&lt;id&gt;:&lt;subject&gt;</c>.</summary>
    public string Id { get; set; } = "";

    /// <summary>The kind of provider (<c>generic</c>: any OpenID Connect provider found by discovery at <see cref="IssuerUrl"/>).</summary>
    public string Provider { get; set; } = "";

    /// <summary>What the buttons say ("Sign in with &lt;label&gt;"); unset means <see cref="Id"/>.</summary>
    public string? Label { get; set; }

    public string ClientId { get; set; } = "";
    public string? ClientSecret { get; set; }
    public string? IssuerUrl { get; set; }

    /// <summary>Overrides the discovered authorization endpoint.</summary>
    public string? AuthUrl { get; set; }

    /// <summary>The <c>microsoft</c> preset's Entra ID tenant: <c>common</c>, <c>organizations</c>, <c>consumers</c>, a tenant id or domain (required there).</summary>
    public string? MicrosoftTenant { get; set; }

    /// <summary>The <c>microsoft</c> preset's subject: <c>userinfo</c> (the ID token's <c>sub</c>, default), <c>me</c> (Graph's <c>/me</c> id) or <c>oid</c>.</summary>
    public string? SubjectSource { get; set; }

    /// <summary>The <c>apple</c> preset's Apple Developer team id (the <c>iss</c> of the client secret JWT Gatehouse signs).</summary>
    public string? AppleTeamId { get; set; }

    /// <summary>The <c>apple</c> preset's key id (the <c>kid</c> of the client secret JWT).</summary>
    public string? ApplePrivateKeyId { get; set; }

    /// <summary>The <c>apple</c> preset's "Sign in with Apple" private key (PEM, PKCS #8, P-256) signing the client secret JWT.</summary>
    public string? ApplePrivateKey { get; set; }

    /// <summary>Overrides the discovered token endpoint.</summary>
    public string? TokenUrl { get; set; }

    /// <summary>Jsonnet (<c>file://</c>, <c>base64://</c>, <c>http(s)://</c>) reading <c>std.extVar('claims')</c> and returning <c>{identity: {traits, ...}}</c>.</summary>
    public string MapperUrl { get; set; } = "";

    public List<string> Scope { get; set; } = [];

    /// <summary>The OpenID Connect <c>claims</c> request parameter, sent as given.</summary>
    public System.Text.Json.Nodes.JsonObject? RequestedClaims { get; set; }

    /// <summary><c>auto</c> (PKCE when the provider advertises S256), <c>never</c> or <c>force</c>.</summary>
    public string Pkce { get; set; } = "auto";

    /// <summary><c>id_token</c> (default) or <c>userinfo</c>: where the claims the mapper reads come from.</summary>
    public string ClaimsSource { get; set; } = "id_token";

    /// <summary>Further client ids an ID token may be issued to (native sign-in with an ID token).</summary>
    public List<string> AdditionalIdTokenAudiences { get; set; } = [];

    /// <summary>
    /// The FedCM identity provider's config file URL (<c>fedcm_config_url</c>): set, the provider takes part in FedCM
    /// (<c>/self-service/fed-cm/parameters</c> and <c>/token</c>). Only presets whose ID tokens Gatehouse can verify take it.
    /// </summary>
    public string? FedcmConfigUrl { get; set; }

    /// <summary>The <c>netid</c> preset's FedCM token exchange: the <c>Origin</c> sent to the broker (one of the client's <c>origin_uris</c>).</summary>
    public string? NetIdTokenOriginHeader { get; set; }

    /// <summary>
    /// <c>confirm_with_existing_credential</c> (default: a colliding sign-up signs in to the existing account first) or
    /// <c>automatic</c> (links without asking when both the provider and the existing account have the address verified).
    /// </summary>
    public string AccountLinkingMode { get; set; } = "confirm_with_existing_credential";

    /// <summary>
    /// Upstream <c>acr</c> values that make a sign-in with this provider aal2 (the provider performed multi-factor
    /// authentication); empty: <c>acr</c> does not raise the level.
    /// </summary>
    public List<string> Aal2AcrValues { get; set; } = [];

    /// <summary>Upstream <c>amr</c> values (RFC 8176: <c>mfa</c>, <c>otp</c>, <c>hwk</c>, …) any one of which makes a sign-in aal2.</summary>
    public List<string> Aal2AmrValues { get; set; } = [];

    /// <summary>
    /// <c>never</c> (default) or <c>automatic</c>: every sign-in with this provider runs the mapper again (with the identity
    /// as <c>std.extVar('identity')</c>) and saves what changed in the traits, metadata and verified addresses.
    /// </summary>
    public string UpdateIdentityOnLogin { get; set; } = "never";

    public string DisplayLabel => string.IsNullOrEmpty(Label) ? Id : Label;
}
