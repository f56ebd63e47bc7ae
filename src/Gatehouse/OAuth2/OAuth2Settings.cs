using Gatehouse.Config;
using Gatehouse.Http;

namespace Gatehouse.OAuth2;

/// <summary>
/// The provider's settings, from Hydra's keys merged into Gatehouse's configuration (<c>urls.*</c>, <c>ttl.*</c>,
/// <c>oauth2.pkce.*</c>), with Hydra's fallbacks: the issuer is the public base URL unless <c>urls.self.issuer</c> is
/// set, and the public URL of the endpoints is the issuer unless <c>urls.self.public</c> is set.
/// </summary>
public sealed class OAuth2Settings(string issuer, string? publicUrl = null)
{
    /// <summary>Hydra writes the issuer with exactly one trailing slash (introspection's <c>iss</c>).</summary>
    public string Issuer { get; } = issuer.TrimEnd('/') + "/";

    /// <summary>The public URL the endpoints are reached at, with one trailing slash.</summary>
    public string PublicUrl { get; } = (publicUrl ?? issuer).TrimEnd('/') + "/";

    /// <summary><c>urls.login</c>; null when not configured.</summary>
    public string? LoginUrl { get; init; }

    /// <summary>Hydra's <c>urls.registration</c>; null when not configured.</summary>
    public string? RegistrationUrl { get; init; }

    /// <summary><c>urls.consent</c>; null when not configured.</summary>
    public string? ConsentUrl { get; init; }

    /// <summary>
    /// Where the browser signs in when <c>urls.login</c> is not set: Gatehouse's own login flow, which takes the
    /// <c>login_challenge</c> as Kratos's login flow does with Hydra (<c>/self-service/login/browser?login_challenge=</c>).
    /// </summary>
    public string BuiltInLoginUrl { get; init; } = issuer.TrimEnd('/') + "/self-service/login/browser";

    /// <summary>The built-in consent page used when <c>urls.consent</c> is not set; null when the built-in pages are off (<c>ui.enabled: false</c>).</summary>
    public string? BuiltInConsentUrl { get; init; }

    /// <summary>Where the browser goes with a login challenge: <c>urls.login</c>, else the built-in login flow.</summary>
    public string EffectiveLoginUrl => LoginUrl ?? BuiltInLoginUrl;

    /// <summary>Where <c>prompt=registration</c> sends the browser: <c>urls.registration</c>, else the login URL (Hydra's <c>RegistrationURL</c>).</summary>
    public string EffectiveRegistrationUrl => RegistrationUrl ?? EffectiveLoginUrl;

    /// <summary>Where the browser goes with a consent challenge: <c>urls.consent</c>, else the built-in page (if the pages are on).</summary>
    public string? EffectiveConsentUrl => ConsentUrl ?? BuiltInConsentUrl;

    /// <summary><c>urls.error</c>; null when not configured.</summary>
    public string? ErrorUrl { get; init; }

    /// <summary>
    /// Where errors go that cannot be sent to a client: <c>urls.error</c>, else Hydra's default, the fallback page under the
    /// public URL (<c>oauth2/fallbacks/error</c>, Hydra's <c>ErrorURL</c>).
    /// </summary>
    public string EffectiveErrorUrl => ErrorUrl ?? Endpoint(Flows.ErrorFallback.Path);

    /// <summary><c>urls.logout</c>; null when not configured.</summary>
    public string? LogoutUrl { get; init; }

    /// <summary>The built-in logout page used when <c>urls.logout</c> is not set; null when the built-in pages are off.</summary>
    public string? BuiltInLogoutUrl { get; init; }

    /// <summary>Where the browser goes with a logout challenge: <c>urls.logout</c>, else the built-in page (if the pages are on).</summary>
    public string? EffectiveLogoutUrl => LogoutUrl ?? BuiltInLogoutUrl;

    /// <summary>
    /// Where the browser goes after a logout without a <c>post_logout_redirect_uri</c>: <c>urls.post_logout_redirect</c>,
    /// else Kratos's logout return URL (<c>selfservice.flows.logout.after.default_browser_return_url</c>, then
    /// <c>selfservice.default_browser_return_url</c>, then the welcome page) — Hydra's fallback page has no place here.
    /// </summary>
    public string PostLogoutRedirectUrl { get; init; } = issuer.TrimEnd('/') + "/";

    /// <summary>Hydra's <c>ttl.access_token</c>.</summary>
    public TimeSpan AccessTokenLifespan { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Hydra's <c>ttl.refresh_token</c>.</summary>
    public TimeSpan RefreshTokenLifespan { get; init; } = TimeSpan.FromHours(720);

    /// <summary>Hydra's <c>ttl.id_token</c>.</summary>
    public TimeSpan IdTokenLifespan { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Hydra's <c>ttl.auth_code</c>.</summary>
    public TimeSpan AuthCodeLifespan { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Hydra's <c>ttl.authentication_session</c>: how long a remembered login lasts at most.</summary>
    public TimeSpan AuthenticationSessionLifespan { get; init; } = TimeSpan.FromHours(720);

    /// <summary>Hydra's <c>ttl.login_consent_request</c>: how long a login or consent challenge can be used.</summary>
    public TimeSpan LoginConsentRequestLifespan { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Development mode (<c>serve --dev</c>, Hydra's <c>dev</c>): plain-http redirect URIs are allowed for any host.</summary>
    public bool Dev { get; init; }

    /// <summary><c>oauth2.pkce.enforced</c>.</summary>
    public bool PkceEnforced { get; init; }

    /// <summary><c>oauth2.pkce.enforced_for_public_clients</c> (Gatehouse default: true).</summary>
    public bool PkceEnforcedForPublicClients { get; init; } = true;

    /// <summary>Hydra's <c>strategies.access_token</c>: <c>opaque</c> or <c>jwt</c>, for clients without an <c>access_token_strategy</c>.</summary>
    public string AccessTokenStrategy { get; init; } = "opaque";

    /// <summary>
    /// Hydra's <c>strategies.scope</c>: <c>exact</c> compares scopes as strings (fosite <c>ExactScopeStrategy</c>); anything
    /// else is <c>wildcard</c> (<see cref="Protocol.ScopeStrategy.Allows"/>), as Hydra's <c>GetScopeStrategy</c> decides.
    /// </summary>
    public bool ExactScopes { get; init; }

    /// <summary>Whether <paramref name="requested"/> is covered by <paramref name="allowed"/> under <c>strategies.scope</c>.</summary>
    public bool AllowsScope(IEnumerable<string> allowed, string requested) =>
        ExactScopes ? allowed.Contains(requested, StringComparer.Ordinal) : Protocol.ScopeStrategy.Allows(allowed, requested);

    /// <summary>Hydra's <c>oauth2.client_credentials.default_grant_allowed_scope</c>.</summary>
    public bool ClientCredentialsDefaultGrantAllowedScope { get; init; }

    /// <summary><c>public</c> is listed in <c>oidc.subject_identifiers.supported_types</c> (its default).</summary>
    public bool PublicSubjectsListed { get; init; } = true;

    /// <summary><c>pairwise</c> is listed in <c>oidc.subject_identifiers.supported_types</c>.</summary>
    public bool PairwiseSubjectsListed { get; init; }

    /// <summary>Hydra's <c>oidc.subject_identifiers.pairwise.salt</c>.</summary>
    public string PairwiseSalt { get; init; } = "";

    /// <summary>
    /// Hydra's <c>SubjectTypesSupported</c> (<c>driver/config/provider.go</c>): <c>public</c> when listed or when
    /// <c>pairwise</c> is not; <c>pairwise</c> when listed, unless the access-token strategy — the client's
    /// <c>access_token_strategy</c> when given and valid, else <c>strategies.access_token</c> — is <c>jwt</c>.
    /// </summary>
    public IReadOnlyList<string> SubjectTypesSupported(string? clientAccessTokenStrategy = null)
    {
        var strategy = clientAccessTokenStrategy?.ToLowerInvariant() is "jwt" or "opaque" ? clientAccessTokenStrategy.ToLowerInvariant() : AccessTokenStrategy;
        var types = new List<string>(2);
        if (PublicSubjectsListed || !PairwiseSubjectsListed) types.Add("public");
        if (PairwiseSubjectsListed && strategy != "jwt") types.Add("pairwise");
        return types;
    }

    /// <summary>Hydra's <c>strategies.jwt.scope_claim</c>: <c>list</c>, <c>string</c> or <c>both</c>.</summary>
    public string JwtScopeClaim { get; init; } = "list";

    /// <summary>Hydra's <c>oauth2.allowed_top_level_claims</c>.</summary>
    public IReadOnlyList<string> AllowedTopLevelClaims { get; init; } = [];

    /// <summary>Hydra's <c>oauth2.mirror_top_level_claims</c>.</summary>
    public bool MirrorTopLevelClaims { get; init; } = true;

    /// <summary>
    /// Hydra's <c>serve.cookies.names.login_csrf</c> (<c>CookieNameLoginCSRF</c>): the prefix of the per-client login CSRF
    /// cookie, with <c>_dev</c> appended in <c>--dev</c> mode as Hydra's <c>cookieSuffix</c> does for all four names.
    /// </summary>
    public string LoginCsrfCookie { get; init; } = "ory_hydra_login_csrf";

    /// <summary>Hydra's <c>serve.cookies.names.consent_csrf</c> (+ <c>_dev</c> in dev mode).</summary>
    public string ConsentCsrfCookie { get; init; } = "ory_hydra_consent_csrf";

    /// <summary>Hydra's <c>serve.cookies.names.device_csrf</c> (+ <c>_dev</c> in dev mode).</summary>
    public string DeviceCsrfCookie { get; init; } = "ory_hydra_device_csrf";

    /// <summary>Hydra's <c>serve.cookies.names.session</c> (+ <c>_dev</c> in dev mode): the remembered login.</summary>
    public string SessionCookie { get; init; } = "ory_hydra_session";

    /// <summary>Hydra's <c>serve.cookies.paths.session</c>.</summary>
    public string SessionCookiePath { get; init; } = "/";

    /// <summary>Hydra's <c>serve.cookies.domain</c>; null: host-only cookies.</summary>
    public string? CookieDomain { get; init; }

    /// <summary>Hydra's <c>serve.cookies.same_site_mode</c> as configured (<c>Strict</c>, <c>Lax</c> or <c>None</c>).</summary>
    public string CookieSameSiteMode { get; init; } = "None";

    /// <summary>Hydra's <c>serve.cookies.same_site_legacy_workaround</c>.</summary>
    public bool CookieSameSiteLegacyWorkaround { get; init; }

    /// <summary>
    /// Hydra's <c>CookieSameSiteMode</c> (<c>driver/config/provider.go</c>): <c>Strict</c> and <c>Lax</c> as configured;
    /// <c>None</c> only for an https issuer, else <c>Lax</c> ("SameSite=None can only be set for HTTPS issuers"). Like
    /// Hydra, <c>None</c> does not look at <c>Secure</c>: in <c>--dev</c> mode with an https issuer, set
    /// <c>serve.cookies.secure: true</c>, as browsers drop <c>SameSite=None</c> cookies that are not Secure.
    /// </summary>
    public SameSiteMode CookieSameSite => CookieSameSiteMode.ToLowerInvariant() switch
    {
        "strict" => SameSiteMode.Strict,
        "lax" => SameSiteMode.Lax,
        "none" => Issuer.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? SameSiteMode.None : SameSiteMode.Lax,
        // Hydra's default branch (its schema's enum leaves it unreachable, as Gatehouse's does).
        _ => Dev ? SameSiteMode.Lax : SameSiteMode.Unspecified,
    };

    /// <summary>
    /// The attributes of an OAuth2 browser cookie (Hydra <c>consent/csrf.go</c> <c>setCSRFCookie</c>;
    /// <c>consent/strategy_default.go</c> for the session cookie; <c>driver/registry_sql.go</c> <c>CookieStore</c> for the
    /// domain): <c>HttpOnly</c>, <see cref="SecureCookies"/>, <see cref="CookieSameSite"/> and <see cref="CookieDomain"/>;
    /// the session cookie on <see cref="SessionCookiePath"/>, the CSRF cookies on <c>/</c>.
    /// </summary>
    public CookieOptions CookieOptionsFor(string name, TimeSpan? maxAge = null) => new()
    {
        HttpOnly = true,
        SameSite = CookieSameSite,
        Secure = SecureCookies,
        Domain = CookieDomain,
        Path = name == SessionCookie ? SessionCookiePath : "/",
        MaxAge = maxAge,
    };

    /// <summary>Hydra's <c>oauth2.session.encrypt_at_rest</c> (default true): token rows keep their claims encrypted.</summary>
    public bool EncryptSessionAtRest { get; init; } = true;

    /// <summary>Hydra's <c>oauth2.expose_internal_errors</c>: error descriptions carry fosite's debug text.</summary>
    public bool ExposeInternalErrors { get; init; }

    /// <summary>Hydra's <c>oauth2.exclude_not_before_claim</c>.</summary>
    public bool ExcludeNotBeforeClaim { get; init; }

    /// <summary>Hydra's <c>oauth2.token_hook</c>; null when not configured.</summary>
    public TokenHookOptions? TokenHook { get; init; }

    /// <summary>Hydra's legacy <c>oauth2.refresh_token_hook</c>; null when not configured.</summary>
    public TokenHookOptions? RefreshTokenHook { get; init; }

    /// <summary>Whether either token hook is configured.</summary>
    public bool HasTokenHooks => TokenHook is not null || RefreshTokenHook is not null;

    /// <summary>Hydra's <c>oauth2.grant.jwt.jti_optional</c>.</summary>
    public bool JwtGrantJtiOptional { get; init; }

    /// <summary>Hydra's <c>oauth2.grant.jwt.iat_optional</c>.</summary>
    public bool JwtGrantIatOptional { get; init; }

    /// <summary>Hydra's <c>oauth2.grant.jwt.max_ttl</c>.</summary>
    public TimeSpan JwtGrantMaxTtl { get; init; } = TimeSpan.FromHours(720);

    /// <summary>Hydra's <c>oauth2.grant.refresh_token.rotation_grace_period</c>, clamped to Hydra's maximum; zero: strict rotation.</summary>
    public TimeSpan RefreshTokenRotationGracePeriod { get; init; }

    /// <summary>Hydra's <c>oauth2.grant.refresh_token.rotation_grace_reuse_count</c>; zero: no limit within the period.</summary>
    public int RefreshTokenRotationGraceReuseCount { get; init; }

    /// <summary>Hydra's <c>webfinger.oidc_discovery</c>: the discovery document's overrides.</summary>
    public Config.HydraOidcDiscoveryOptions Discovery { get; init; } = new();

    /// <summary>Hydra's <c>webfinger.jwks.broadcast_keys</c>.</summary>
    public IReadOnlyList<string> BroadcastKeys { get; init; } = [Keys.JsonWebKeyManager.IdTokenSet];

    /// <summary>
    /// The authorization endpoint's URL (Hydra's <c>OAuth2AuthURL</c>): <c>webfinger.oidc_discovery.auth_url</c>, else
    /// <c>oauth2/auth</c> under the public URL. Discovery shows it, and login and consent requests' <c>request_url</c> start with it.
    /// </summary>
    public string AuthorizationUrl => Discovery.AuthUrl ?? Endpoint(Flows.AuthorizeEndpoint.Authorize);

    /// <summary>Hydra's <c>oidc.dynamic_client_registration.enabled</c>: whether <c>/oauth2/register</c> is served.</summary>
    public bool DynamicClientRegistration { get; init; }

    /// <summary>Hydra's <c>oidc.dynamic_client_registration.default_scope</c>: the scope of clients created without one.</summary>
    public IReadOnlyList<string> DefaultClientScope { get; init; } = Clients.OAuth2ClientDocument.DefaultScope;

    /// <summary>
    /// Whether the login/consent/device CSRF cookies and the remembered-login cookie are <c>Secure</c>: Hydra's
    /// <c>serve.cookies.secure</c> when set (only honoured in <c>--dev</c> mode), else Gatehouse's one cookie rule.
    /// </summary>
    public bool SecureCookies { get; init; } = true;

    /// <summary><c>urls.device.verification</c>; null when not configured.</summary>
    public string? DeviceVerificationUrl { get; init; }

    /// <summary>The built-in user-code page used when <c>urls.device.verification</c> is not set; null when the built-in pages are off.</summary>
    public string? BuiltInDeviceVerificationUrl { get; init; }

    /// <summary>Where the browser goes with a device challenge: <c>urls.device.verification</c>, else the built-in page (if the pages are on).</summary>
    public string? EffectiveDeviceVerificationUrl => DeviceVerificationUrl ?? BuiltInDeviceVerificationUrl;

    /// <summary>
    /// Where the browser ends after authorizing a device: <c>urls.device.success</c>, else the built-in "device done" page,
    /// else (pages off) Kratos's default return URL.
    /// </summary>
    public string DeviceSuccessUrl { get; init; } = issuer.TrimEnd('/') + "/";

    /// <summary>Hydra's <c>ttl.device_user_code</c>.</summary>
    public TimeSpan DeviceUserCodeLifespan { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Hydra's <c>oauth2.device_authorization.token_polling_interval</c>, in whole seconds (at least 1).</summary>
    public int DevicePollingInterval { get; init; } = 5;

    /// <summary>The user code's length (<c>oauth2.device_authorization.user_code</c>).</summary>
    public int UserCodeLength { get; init; } = 8;

    /// <summary>The user code's characters (<c>oauth2.device_authorization.user_code</c>).</summary>
    public string UserCodeSymbols { get; init; } = UserCodePresets.High;

    /// <summary>The built-in user-code page's path on the public listener.</summary>
    public const string BuiltInDevicePath = "/ui/device";

    /// <summary>The built-in "device done" page's path on the public listener.</summary>
    public const string BuiltInDeviceDonePath = "/ui/device/done";

    /// <summary>The built-in consent page's path on the public listener.</summary>
    public const string BuiltInConsentPath = "/ui/consent";

    /// <summary>The built-in logout page's path on the public listener.</summary>
    public const string BuiltInLogoutPath = "/ui/logout";

    /// <summary>
    /// The URLs a JWT's <c>aud</c> may name for the token endpoint (Hydra's <c>GetTokenURLs</c>): under the public URL and
    /// under the issuer, and <c>webfinger.oidc_discovery.token_url</c> when set.
    /// </summary>
    public IReadOnlyList<string> TokenUrls =>
        [.. new[] { Discovery.TokenUrl, Endpoint("/oauth2/token"), Issuer + "oauth2/token" }.OfType<string>().Distinct()];

    /// <summary>An endpoint's URL under the public URL, e.g. <c>oauth2/token</c>.</summary>
    public string Endpoint(string path) => PublicUrl + path.TrimStart('/');

    public static OAuth2Settings From(GatehouseOptions options) => new(options.Urls.Self.Issuer ?? ReturnUrlPolicy.PublicBaseUrl(options), options.Urls.Self.Public)
    {
        BuiltInLoginUrl = ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/') + "/self-service/login/browser",
        BuiltInConsentUrl = options.Ui.Enabled ? ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/') + BuiltInConsentPath : null,
        LoginUrl = options.Urls.Login,
        RegistrationUrl = options.Urls.Registration,
        ConsentUrl = options.Urls.Consent,
        ErrorUrl = options.Urls.Error,
        LogoutUrl = options.Urls.Logout,
        BuiltInLogoutUrl = options.Ui.Enabled ? ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/') + BuiltInLogoutPath : null,
        PostLogoutRedirectUrl = options.Urls.PostLogoutRedirect
            ?? options.Selfservice.Flows.Logout.After.DefaultBrowserReturnUrl
            ?? new ReturnUrlPolicy(options).DefaultReturnUrl,
        AccessTokenLifespan = options.Ttl.AccessToken,
        RefreshTokenLifespan = options.Ttl.RefreshToken,
        IdTokenLifespan = options.Ttl.IdToken,
        AuthCodeLifespan = options.Ttl.AuthCode,
        AuthenticationSessionLifespan = options.Ttl.AuthenticationSession,
        LoginConsentRequestLifespan = options.Ttl.LoginConsentRequest,
        DeviceVerificationUrl = options.Urls.Device.Verification,
        BuiltInDeviceVerificationUrl = options.Ui.Enabled ? ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/') + BuiltInDevicePath : null,
        DeviceSuccessUrl = options.Urls.Device.Success
            ?? (options.Ui.Enabled ? ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/') + BuiltInDeviceDonePath : new ReturnUrlPolicy(options).DefaultReturnUrl),
        DeviceUserCodeLifespan = options.Ttl.DeviceUserCode,
        DevicePollingInterval = (int)Math.Clamp(Math.Ceiling(options.Oauth2.DeviceAuthorization.TokenPollingInterval.TotalSeconds), 1, 3600),
        UserCodeLength = UserCodePresets.Length(options.Oauth2.DeviceAuthorization.UserCode),
        UserCodeSymbols = UserCodePresets.Symbols(options.Oauth2.DeviceAuthorization.UserCode),
        Dev = options.Dev,
        PkceEnforced = options.Oauth2.Pkce.Enforced,
        PkceEnforcedForPublicClients = options.Oauth2.Pkce.EnforcedForPublicClients,
        // Hydra's CookieSecure: always outside --dev, serve.cookies.secure in it; unset, Gatehouse's one cookie rule.
        SecureCookies = options.Serve.Cookies.Secure is { } secure ? secure || !options.Dev : CookieSecurity.Secure(options),
        AccessTokenStrategy = options.Strategies.AccessToken,
        JwtScopeClaim = options.Strategies.Jwt.ScopeClaim,
        ExactScopes = !string.Equals(options.Strategies.Scope, "wildcard", StringComparison.OrdinalIgnoreCase),
        ClientCredentialsDefaultGrantAllowedScope = options.Oauth2.ClientCredentials.DefaultGrantAllowedScope,
        PublicSubjectsListed = options.Oidc.SubjectIdentifiers.SupportedTypes.Contains("public"),
        PairwiseSubjectsListed = options.Oidc.SubjectIdentifiers.SupportedTypes.Contains("pairwise"),
        PairwiseSalt = options.Oidc.SubjectIdentifiers.Pairwise.Salt,
        AllowedTopLevelClaims = options.Oauth2.AllowedTopLevelClaims,
        MirrorTopLevelClaims = options.Oauth2.MirrorTopLevelClaims,
        ExcludeNotBeforeClaim = options.Oauth2.ExcludeNotBeforeClaim,
        ExposeInternalErrors = options.Oauth2.ExposeInternalErrors,
        EncryptSessionAtRest = options.Oauth2.Session.EncryptAtRest,
        LoginCsrfCookie = options.Serve.Cookies.Names.LoginCsrf + DevSuffix(options),
        ConsentCsrfCookie = options.Serve.Cookies.Names.ConsentCsrf + DevSuffix(options),
        DeviceCsrfCookie = options.Serve.Cookies.Names.DeviceCsrf + DevSuffix(options),
        SessionCookie = options.Serve.Cookies.Names.Session + DevSuffix(options),
        SessionCookiePath = options.Serve.Cookies.Paths.Session,
        CookieDomain = string.IsNullOrEmpty(options.Serve.Cookies.Domain) ? null : options.Serve.Cookies.Domain,
        CookieSameSiteMode = options.Serve.Cookies.SameSiteMode,
        CookieSameSiteLegacyWorkaround = options.Serve.Cookies.SameSiteLegacyWorkaround,
        TokenHook = options.Oauth2.TokenHook,
        RefreshTokenHook = options.Oauth2.RefreshTokenHook,
        JwtGrantJtiOptional = options.Oauth2.Grant.Jwt.JtiOptional,
        JwtGrantIatOptional = options.Oauth2.Grant.Jwt.IatOptional,
        JwtGrantMaxTtl = options.Oauth2.Grant.Jwt.MaxTtl,
        RefreshTokenRotationGracePeriod = options.Oauth2.Grant.RefreshToken.EffectiveGracePeriod,
        RefreshTokenRotationGraceReuseCount = Math.Max(0, options.Oauth2.Grant.RefreshToken.RotationGraceReuseCount),
        DynamicClientRegistration = options.Oidc.DynamicClientRegistration.Enabled,
        Discovery = options.Webfinger.OidcDiscovery,
        BroadcastKeys = [.. options.Webfinger.Jwks.BroadcastKeys],
        DefaultClientScope = [.. options.Oidc.DynamicClientRegistration.DefaultScope],
    };

    // Hydra's cookieSuffix (driver/config/provider.go): dev mode renames all four cookies.
    private static string DevSuffix(GatehouseOptions options) => options.Dev ? "_dev" : "";
}

/// <summary>Hydra's user-code presets (<c>oauth2.device_authorization.user_code.entropy_preset</c>, ory/x <c>randx</c> alphabets).</summary>
public static class UserCodePresets
{
    /// <summary><c>high</c>: letters and digits without the look-alikes <c>0Oo1IlB8S5Z2</c> (randx <c>AlphaNumNoAmbiguous</c>).</summary>
    public const string High = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679";

    /// <summary><c>medium</c>: upper-case letters.</summary>
    public const string Medium = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary><c>low</c>: digits.</summary>
    public const string Low = "0123456789";

    public static int Length(DeviceUserCodeOptions o) => o.Length is int l && l > 0 && !string.IsNullOrEmpty(o.CharacterSet) ? l : o.EntropyPreset == "low" ? 9 : 8;

    public static string Symbols(DeviceUserCodeOptions o) =>
        o.Length is > 0 && !string.IsNullOrEmpty(o.CharacterSet) ? new string([.. o.CharacterSet.Distinct()]) : o.EntropyPreset switch { "medium" => Medium, "low" => Low, _ => High };
}
