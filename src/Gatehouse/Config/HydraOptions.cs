using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Config;

/// <summary>
/// Hydra's <c>urls</c> key (Hydra's <c>spec/config.json</c>), merged into Gatehouse's configuration for the OAuth2
/// provider. Unset URLs fall back as in Hydra: the issuer to the public base URL, the public URL to the issuer.
/// </summary>
public sealed class HydraUrlsOptions
{
    public HydraSelfUrlsOptions Self { get; set; } = new();

    /// <summary>The login app: <c>/oauth2/auth</c> sends the browser here with <c>?login_challenge=</c>.</summary>
    public string? Login { get; set; }

    /// <summary>
    /// The registration app: <c>prompt=registration</c> sends the browser here with <c>?login_challenge=</c> instead of to
    /// <c>urls.login</c> (Hydra's <c>RegistrationURL</c>, which defaults to the login URL).
    /// </summary>
    public string? Registration { get; set; }

    /// <summary>The consent app: reached with <c>?consent_challenge=</c>.</summary>
    public string? Consent { get; set; }

    /// <summary>Where authorization errors go that cannot be sent to the client's redirect URI (<c>?error=&amp;error_description=</c>).</summary>
    public string? Error { get; set; }

    /// <summary>The logout app: <c>/oauth2/sessions/logout</c> sends the browser here with <c>?logout_challenge=</c>.</summary>
    public string? Logout { get; set; }

    /// <summary>Where the browser goes after a logout that names no <c>post_logout_redirect_uri</c> (Hydra's <c>urls.post_logout_redirect</c>).</summary>
    public string? PostLogoutRedirect { get; set; }

    /// <summary>Hydra's <c>urls.device</c>: the pages of the device authorization grant (RFC 8628).</summary>
    public HydraDeviceUrlsOptions Device { get; set; } = new();

    /// <summary>Hydra's <c>urls.identity_provider</c>: an external Ory Kratos whose sessions an OAuth2 logout ends.</summary>
    public HydraIdentityProviderOptions IdentityProvider { get; set; } = new();
}

/// <summary>
/// Hydra's <c>urls.identity_provider</c> (<c>driver/config/provider.go</c> <c>KratosAdminURL</c>, <c>KratosPublicURL</c>,
/// <c>KratosRequestHeader</c>).
/// </summary>
public sealed class HydraIdentityProviderOptions
{
    /// <summary>
    /// The admin URL of an external Ory Kratos. Set, an OAuth2 logout ends the login's <c>identity_provider_session_id</c>
    /// there (<c>DELETE {url}/admin/sessions/{id}</c>, <see cref="OAuth2.Logout.KratosAdminIdentityProviderSessions"/>);
    /// unset, Gatehouse's own Kratos session of that id ends in-process.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>
    /// Hydra's <c>publicUrl</c>: accepted without effect. Hydra v26.2 reads it only for the resource-owner password grant
    /// (<c>internal/kratos/kratos.go</c> <c>Authenticate</c>), which it does not enable by default and Gatehouse does not offer.
    /// </summary>
    [JsonPropertyName("publicUrl")]
    public string? PublicUrl { get; set; }

    /// <summary>Headers set on every call to <see cref="Url"/> (Hydra wraps its client's transport with them).</summary>
    public Dictionary<string, string> Headers { get; set; } = [];
}

/// <summary>Hydra's <c>urls.device</c>.</summary>
public sealed class HydraDeviceUrlsOptions
{
    /// <summary>The user-code page: <c>/oauth2/device/verify</c> sends the browser here with <c>?device_challenge=</c>. Unset: the built-in page.</summary>
    public string? Verification { get; set; }

    /// <summary>Where the browser ends after a device was authorized (<c>?client_id=</c>). Unset: the built-in "device done" page.</summary>
    public string? Success { get; set; }
}

public sealed class HydraSelfUrlsOptions
{
    /// <summary>The OpenID Connect issuer (<c>iss</c> of tokens, discovery's <c>issuer</c>).</summary>
    public string? Issuer { get; set; }

    /// <summary>The public URL of the OAuth2 endpoints, when it differs from the issuer.</summary>
    public string? Public { get; set; }

    /// <summary>
    /// Hydra's <c>urls.self.admin</c>. Accepted without effect: Hydra v26.2 reads it (<c>AdminURL</c>) only for the host
    /// it reports in its anonymous usage telemetry (<c>cmd/server/handler.go</c> <c>sqa</c>), which Gatehouse does not send;
    /// no answer, header or log names it.
    /// </summary>
    public string? Admin { get; set; }
}

/// <summary>Hydra's <c>ttl</c> key: default lifespans (clients override them per grant).</summary>
public sealed class HydraTtlOptions
{
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan LoginConsentRequest { get; set; } = TimeSpan.FromMinutes(30);

    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan AccessToken { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long refresh tokens live; <c>-1</c> (<see cref="RefreshTokenLifespanJsonConverter.Never"/>): they never expire.</summary>
    [JsonConverter(typeof(RefreshTokenLifespanJsonConverter))]
    public TimeSpan RefreshToken { get; set; } = TimeSpan.FromHours(720);

    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan IdToken { get; set; } = TimeSpan.FromHours(1);

    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan AuthCode { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a remembered login lasts at most (the login session cookie).</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan AuthenticationSession { get; set; } = TimeSpan.FromHours(720);

    /// <summary>How long a device code and its user code can be used (Hydra's <c>ttl.device_user_code</c>).</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan DeviceUserCode { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>Hydra's <c>oauth2</c> key (the parts Gatehouse reads).</summary>
public sealed class HydraOAuth2Options
{
    public HydraPkceOptions Pkce { get; set; } = new();

    /// <summary>Gatehouse addition: the built-in consent page (used when <c>urls.consent</c> is not set).</summary>
    public BuiltInConsentOptions Consent { get; set; } = new();

    /// <summary>Hydra's <c>oauth2.device_authorization</c>: polling interval and user-code shape.</summary>
    public DeviceAuthorizationOptions DeviceAuthorization { get; set; } = new();

    /// <summary>Custom claims of <c>session.access_token</c> copied to the top level of JWT access tokens (reserved claims excepted).</summary>
    public List<string> AllowedTopLevelClaims { get; set; } = [];

    /// <summary>Whether JWT access tokens carry the custom claims under <c>ext</c> too (Hydra's default: true).</summary>
    public bool MirrorTopLevelClaims { get; set; } = true;

    /// <summary>Leave <c>nbf</c> out of JWT access tokens.</summary>
    public bool ExcludeNotBeforeClaim { get; set; }

    /// <summary>
    /// Hydra's <c>oauth2.expose_internal_errors</c> (<c>driver/config/provider.go</c> <c>GetSendDebugMessagesToClients</c>):
    /// OAuth2 error descriptions carry fosite's debug text (default false).
    /// </summary>
    public bool ExposeInternalErrors { get; set; }

    /// <summary>Hydra's <c>oauth2.session</c>.</summary>
    public OAuth2SessionOptions Session { get; set; } = new();

    /// <summary>Hydra's <c>oauth2.hashers</c>: how new OAuth2 client secrets are hashed.</summary>
    public OAuth2HashersOptions Hashers { get; set; } = new();

    /// <summary>Hydra's <c>oauth2.grant</c> (the JWT-bearer grant's and the refresh-token grant's settings).</summary>
    public HydraGrantOptions Grant { get; set; } = new();

    /// <summary>Hydra's <c>oauth2.token_hook</c>: called at the token endpoint for every grant, may replace the tokens' custom claims.</summary>
    [JsonConverter(typeof(TokenHookOptionsJsonConverter))]
    public TokenHookOptions? TokenHook { get; set; }

    /// <summary>Hydra's legacy <c>oauth2.refresh_token_hook</c>: the same, for the <c>refresh_token</c> grant only, with the older body.</summary>
    [JsonConverter(typeof(TokenHookOptionsJsonConverter))]
    public TokenHookOptions? RefreshTokenHook { get; set; }

    /// <summary>Hydra's <c>oauth2.client_credentials</c>.</summary>
    public HydraClientCredentialsOptions ClientCredentials { get; set; } = new();
}

/// <summary>
/// Hydra's hook config (<c>driver/config/provider.go</c> <c>HookConfig</c>): a URL, or <c>{url, auth}</c> whose only auth
/// type is <c>api_key</c>.
/// </summary>
public sealed class TokenHookOptions
{
    public string Url { get; set; } = "";

    public TokenHookAuthOptions? Auth { get; set; }
}

public sealed class TokenHookAuthOptions
{
    /// <summary><c>api_key</c>, the only type Hydra's schema allows.</summary>
    public string Type { get; set; } = "";

    public TokenHookApiKeyOptions Config { get; set; } = new();
}

/// <summary>Hydra's <c>AuthConfig</c>: the API key sent as a header or a cookie.</summary>
public sealed class TokenHookApiKeyOptions
{
    /// <summary><c>header</c> or <c>cookie</c>; Hydra sends the key nowhere when it is not set (<c>oauth2/token_hook.go</c> <c>applyAuth</c>).</summary>
    public string? In { get; set; }

    public string Name { get; set; } = "";

    /// <summary>The secret; never logged.</summary>
    public string Value { get; set; } = "";

    public override string ToString() => $"{In}:{Name}:(redacted)";
}

/// <summary>Binds a hook key written as a URL string or as <c>{url, auth}</c> (the schema has checked the shape).</summary>
public sealed class TokenHookOptionsJsonConverter : JsonConverter<TokenHookOptions?>
{
    public override bool HandleNull => true;

    public override TokenHookOptions? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return reader.GetString() is { Length: > 0 } url ? new TokenHookOptions { Url = url } : null;
        }
        using var doc = JsonDocument.ParseValue(ref reader);
        var root = doc.RootElement;
        var hook = new TokenHookOptions { Url = Text(root, "url") ?? "" };
        if (root.TryGetProperty("auth", out var auth) && auth.ValueKind == JsonValueKind.Object)
        {
            hook.Auth = new TokenHookAuthOptions { Type = Text(auth, "type") ?? "" };
            if (auth.TryGetProperty("config", out var config) && config.ValueKind == JsonValueKind.Object)
                hook.Auth.Config = new TokenHookApiKeyOptions { In = Text(config, "in"), Name = Text(config, "name") ?? "", Value = Text(config, "value") ?? "" };
        }
        return hook;
    }

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public override void Write(Utf8JsonWriter writer, TokenHookOptions? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("url", value.Url);
        if (value.Auth is { } auth)
        {
            writer.WriteStartObject("auth");
            writer.WriteString("type", auth.Type);
            writer.WriteStartObject("config");
            if (auth.Config.In is { } placement) writer.WriteString("in", placement);
            writer.WriteString("name", auth.Config.Name);
            writer.WriteString("value", auth.Config.Value);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }
}

/// <summary>Hydra's <c>oauth2.client_credentials</c>.</summary>
public sealed class HydraClientCredentialsOptions
{
    /// <summary>A client-credentials request without <c>scope</c> is granted the client's whole <c>scope</c> (Hydra's MITREid compatibility).</summary>
    public bool DefaultGrantAllowedScope { get; set; }
}

public sealed class HydraGrantOptions
{
    public HydraJwtGrantOptions Jwt { get; set; } = new();

    public HydraRefreshTokenGrantOptions RefreshToken { get; set; } = new();
}

/// <summary>Hydra's <c>oauth2.grant.refresh_token</c>: graceful refresh-token rotation.</summary>
public sealed class HydraRefreshTokenGrantOptions
{
    /// <summary>
    /// How long a used refresh token may be used again, from its first use (<c>0s</c>: never, strict rotation). At most 5
    /// minutes, or 180 days with a <see cref="RotationGraceReuseCount"/>; Hydra clamps larger values to that maximum.
    /// </summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan RotationGracePeriod { get; set; }

    /// <summary>How many times in all a refresh token may be used within the grace period (0: no limit).</summary>
    public int RotationGraceReuseCount { get; set; }

    /// <summary>The longest grace period without a reuse count (Hydra's <c>GracefulRefreshTokenRotation</c>).</summary>
    public static readonly TimeSpan MaxPeriodWithoutCount = TimeSpan.FromMinutes(5);

    /// <summary>The longest grace period with a reuse count.</summary>
    public static readonly TimeSpan MaxPeriodWithCount = TimeSpan.FromDays(180);

    /// <summary>The grace period Hydra applies: the configured one, clamped to its maximum.</summary>
    public TimeSpan EffectiveGracePeriod
    {
        get
        {
            var max = RotationGraceReuseCount > 0 ? MaxPeriodWithCount : MaxPeriodWithoutCount;
            return RotationGracePeriod < TimeSpan.Zero ? TimeSpan.Zero : RotationGracePeriod > max ? max : RotationGracePeriod;
        }
    }
}

/// <summary>Hydra's <c>oauth2.grant.jwt</c>: what JWT-bearer grant assertions may leave out, and how long they may live.</summary>
public sealed class HydraJwtGrantOptions
{
    public bool JtiOptional { get; set; }
    public bool IatOptional { get; set; }
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan MaxTtl { get; set; } = TimeSpan.FromHours(720);
}

/// <summary>Hydra's <c>oidc</c> key (the parts Gatehouse reads).</summary>
public sealed class HydraOidcOptions
{
    public DynamicClientRegistrationOptions DynamicClientRegistration { get; set; } = new();

    /// <summary>Hydra's <c>oidc.subject_identifiers</c>: the subject types clients may ask for.</summary>
    public SubjectIdentifiersOptions SubjectIdentifiers { get; set; } = new();
}

/// <summary>Hydra's <c>oidc.subject_identifiers</c>.</summary>
public sealed class SubjectIdentifiersOptions
{
    /// <summary><c>public</c> and/or <c>pairwise</c> (Hydra's default: <c>public</c> only).</summary>
    public List<string> SupportedTypes { get; set; } = ["public"];

    public PairwiseSubjectOptions Pairwise { get; set; } = new();
}

/// <summary>Hydra's <c>oidc.subject_identifiers.pairwise</c>.</summary>
public sealed class PairwiseSubjectOptions
{
    /// <summary>Mixed into every pairwise subject (at least 8 characters when <c>pairwise</c> is on).</summary>
    public string Salt { get; set; } = "";
}

/// <summary>Hydra's <c>oidc.dynamic_client_registration</c>: the public <c>/oauth2/register</c> endpoints.</summary>
public sealed class DynamicClientRegistrationOptions
{
    /// <summary>Serve <c>/oauth2/register</c> (off by default, as in Hydra: anyone can then create clients).</summary>
    public bool Enabled { get; set; }

    /// <summary>The scope of clients created without one (Hydra applies it to admin-created clients too).</summary>
    public List<string> DefaultScope { get; set; } = ["offline_access", "offline", "openid"];
}

/// <summary>Hydra's <c>strategies</c> key.</summary>
public sealed class HydraStrategiesOptions
{
    /// <summary><c>wildcard</c> (default) or <c>exact</c>: how a requested scope is matched against allowed or granted scopes.</summary>
    public string Scope { get; set; } = "wildcard";

    /// <summary><c>opaque</c> (default) or <c>jwt</c>: the access-token format of clients without an <c>access_token_strategy</c>.</summary>
    public string AccessToken { get; set; } = "opaque";

    public HydraJwtStrategyOptions Jwt { get; set; } = new();
}

public sealed class HydraJwtStrategyOptions
{
    /// <summary>How JWT access tokens carry the scope: <c>list</c> (<c>scp</c>, default), <c>string</c> (<c>scope</c>) or <c>both</c>.</summary>
    public string ScopeClaim { get; set; } = "list";
}

/// <summary>Gatehouse addition (<c>oauth2.consent</c>): how the built-in consent page grants.</summary>
public sealed class BuiltInConsentOptions
{
    /// <summary>How long a consent the user asked to remember is remembered (Hydra's <c>remember_for</c>; <c>0s</c>: until revoked).</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan RememberFor { get; set; } = TimeSpan.FromHours(720);

    /// <summary>
    /// A Jsonnet mapper (<c>file://</c> or <c>base64://</c>) from the identity and the granted scopes to the claims of the
    /// ID token and access token; null: the built-in mapper (standard OpenID Connect claims from common trait names).
    /// </summary>
    public string? ClaimsMapperUrl { get; set; }
}

public sealed class HydraPkceOptions
{
    /// <summary>Every authorization-code request must carry a PKCE challenge.</summary>
    public bool Enforced { get; set; }

    /// <summary>
    /// Public clients (<c>token_endpoint_auth_method: none</c>) must use PKCE. Hydra's default is false; Gatehouse's is
    /// true (issue 14: "S256; required for public clients"), as OAuth 2.1 and RFC 9700 require.
    /// </summary>
    public bool EnforcedForPublicClients { get; set; } = true;
}

/// <summary>Hydra's <c>oauth2.device_authorization</c>.</summary>
public sealed class DeviceAuthorizationOptions
{
    /// <summary>The <c>interval</c> devices are told to wait between polls; a faster poll is answered <c>slow_down</c>.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan TokenPollingInterval { get; set; } = TimeSpan.FromSeconds(5);

    public DeviceUserCodeOptions UserCode { get; set; } = new();
}

/// <summary>Hydra's <c>oauth2.device_authorization.user_code</c>: a preset, or a length with a character set.</summary>
public sealed class DeviceUserCodeOptions
{
    /// <summary><c>high</c> (8 of 50 unambiguous letters and digits, the default), <c>medium</c> (8 upper-case letters) or <c>low</c> (9 digits).</summary>
    public string? EntropyPreset { get; set; }

    public int? Length { get; set; }

    public string? CharacterSet { get; set; }
}

/// <summary>Hydra's <c>webfinger</c> key: what <c>/.well-known/openid-configuration</c> and <c>/.well-known/jwks.json</c> show.</summary>
public sealed class HydraWebfingerOptions
{
    public HydraWebfingerJwksOptions Jwks { get; set; } = new();

    public HydraOidcDiscoveryOptions OidcDiscovery { get; set; } = new();
}

/// <summary>Hydra's <c>webfinger.jwks</c>.</summary>
public sealed class HydraWebfingerJwksOptions
{
    /// <summary>
    /// The key sets whose public keys <c>/.well-known/jwks.json</c> publishes (each generated, RS256, when it does not exist),
    /// besides the ID-token set and (once it exists) the JWT access-token set, which are always published.
    /// </summary>
    public List<string> BroadcastKeys { get; set; } = ["hydra.openid.id-token"];
}

/// <summary>Hydra's <c>webfinger.oidc_discovery</c>: overrides of the discovery document (unset: Gatehouse's own endpoints).</summary>
public sealed class HydraOidcDiscoveryOptions
{
    /// <summary><c>jwks_uri</c>.</summary>
    public string? JwksUrl { get; set; }

    /// <summary><c>token_endpoint</c>; also an audience client assertions may name.</summary>
    public string? TokenUrl { get; set; }

    /// <summary><c>authorization_endpoint</c>; also the base of the login and consent requests' <c>request_url</c>.</summary>
    public string? AuthUrl { get; set; }

    /// <summary><c>device_authorization_endpoint</c>.</summary>
    public string? DeviceAuthorizationUrl { get; set; }

    /// <summary><c>registration_endpoint</c>, shown whether or not Gatehouse serves registration.</summary>
    public string? ClientRegistrationUrl { get; set; }

    /// <summary>Claims added to <c>claims_supported</c> (after <c>sub</c>, which is always listed).</summary>
    public List<string> SupportedClaims { get; set; } = [];

    /// <summary>Scopes added to <c>scopes_supported</c> (after <c>offline_access</c>, <c>offline</c> and <c>openid</c>).</summary>
    public List<string> SupportedScope { get; set; } = [];

    /// <summary><c>userinfo_endpoint</c>.</summary>
    public string? UserinfoUrl { get; set; }
}

/// <summary>
/// Hydra's <c>oauth2.hashers</c> (<c>driver/config/provider.go</c> <c>GetHasherAlgorithm</c>, <c>HasherBcryptConfig</c>,
/// <c>HasherPBKDF2Config</c>): the algorithm new client secrets are hashed with. Stored secrets verify by their own
/// prefix whatever the setting (ory/x <c>hasherx.Compare</c>).
/// </summary>
public sealed class OAuth2HashersOptions
{
    /// <summary><c>pbkdf2</c> (default) or <c>bcrypt</c>.</summary>
    public string Algorithm { get; set; } = "pbkdf2";
    public OAuth2BcryptOptions Bcrypt { get; set; } = new();
    public OAuth2Pbkdf2Options Pbkdf2 { get; set; } = new();
}

public sealed class OAuth2BcryptOptions
{
    /// <summary>Hydra's default is 10 (<c>provider_fosite.go</c> <c>GetBCryptCost</c>).</summary>
    public int Cost { get; set; } = 10;
}

public sealed class OAuth2Pbkdf2Options
{
    /// <summary>PBKDF2-SHA256 iterations (Hydra's default 25,000).</summary>
    public int Iterations { get; set; } = 25_000;
}

public sealed class OAuth2SessionOptions
{
    /// <summary>
    /// Hydra's <c>oauth2.session.encrypt_at_rest</c> (default true): the session data token rows keep (their custom claims)
    /// is stored AES-GCM-encrypted under <c>secrets.system</c> (<see cref="OAuth2.Tokens.OAuth2SessionData"/>).
    /// </summary>
    public bool EncryptAtRest { get; set; } = true;
}

/// <summary>
/// Hydra's <c>serve.cookies</c> (<c>driver/config/provider.go</c> <c>CookieSameSiteMode</c>, <c>CookieDomain</c>,
/// <c>SessionCookiePath</c>, <c>CookieNameLoginCSRF</c> &amp; co.) for the cookies of the OAuth2 login, consent and device
/// steps and the remembered login.
/// </summary>
public sealed class HydraCookiesOptions
{
    /// <summary><c>Strict</c>, <c>Lax</c> or <c>None</c> (Hydra's schema default; <c>Lax</c> unless the issuer is https).</summary>
    public string SameSiteMode { get; set; } = "None";

    /// <summary>
    /// With <c>SameSite=None</c>: each CSRF cookie also gets a <c>&lt;name&gt;_legacy</c> twin without <c>SameSite</c>, read
    /// when the first is missing (Hydra <c>consent/csrf.go</c>, for browsers that reject <c>SameSite=None</c>).
    /// </summary>
    public bool SameSiteLegacyWorkaround { get; set; }

    /// <summary>
    /// Hydra's <c>CookieSecure</c>: the <c>Secure</c> flag in <c>--dev</c> mode; outside it the cookies are always Secure.
    /// Unset: Gatehouse's cookie rule (<c>cookies.secure</c>, else Secure unless <c>--dev</c>).
    /// </summary>
    public bool? Secure { get; set; }

    /// <summary>The cookies' <c>Domain</c>; unset: none (host-only).</summary>
    public string? Domain { get; set; }

    public HydraCookieNamesOptions Names { get; set; } = new();
    public HydraCookiePathsOptions Paths { get; set; } = new();
}

public sealed class HydraCookieNamesOptions
{
    /// <summary>Prefix of the per-client login CSRF cookie (<c>&lt;name&gt;_&lt;client suffix&gt;</c>).</summary>
    public string LoginCsrf { get; set; } = "ory_hydra_login_csrf";

    /// <summary>Prefix of the per-client consent CSRF cookie.</summary>
    public string ConsentCsrf { get; set; } = "ory_hydra_consent_csrf";

    /// <summary>The device flow's CSRF cookie (one name for all clients, as Hydra).</summary>
    public string DeviceCsrf { get; set; } = "ory_hydra_device_csrf";

    /// <summary>The remembered login.</summary>
    public string Session { get; set; } = "ory_hydra_session";
}

public sealed class HydraCookiePathsOptions
{
    /// <summary>The remembered-login cookie's path (default <c>/</c>).</summary>
    public string Session { get; set; } = "/";
}

/// <summary>
/// Hydra's <c>db</c>. <c>ignore_unknown_table_columns</c> makes Hydra's SQL layer skip result columns that have no model
/// field (<c>driver/registry_sql.go</c>, pop's <c>Unsafe</c>) instead of failing the read. Gatehouse's EF Core queries name
/// the columns they map, so extra columns in its tables are never read and never fail a read: it behaves as with
/// <c>true</c> whatever the value, which is accepted and has no effect.
/// </summary>
public sealed class HydraDbOptions
{
    public bool IgnoreUnknownTableColumns { get; set; }
}

/// <summary>
/// Hydra's <c>cgroups</c>. <c>v1.auto_max_procs_enabled</c> makes Hydra size <c>GOMAXPROCS</c> to the container's CPU quota
/// (<c>driver/registry_sql.go</c>, automaxprocs). The .NET runtime always does the equivalent (its processor count follows
/// the cgroup v1 and v2 CPU limit; <c>DOTNET_PROCESSOR_COUNT</c> overrides it), so the key is accepted and has no effect.
/// </summary>
public sealed class HydraCgroupsOptions
{
    public HydraCgroupsV1Options V1 { get; set; } = new();
}

public sealed class HydraCgroupsV1Options
{
    public bool AutoMaxProcsEnabled { get; set; }
}

/// <summary>
/// Hydra's <c>sqa</c>: <c>opt_out</c> turns off Hydra's anonymous usage reports. Gatehouse sends none, so the key is
/// accepted (a Hydra file with it loads without a warning) and has no effect.
/// </summary>
public sealed class HydraSqaOptions
{
    public bool OptOut { get; set; }
}
