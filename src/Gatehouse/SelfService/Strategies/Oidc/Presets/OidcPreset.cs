using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>How the client authenticates at a provider's token endpoint.</summary>
public enum TokenEndpointAuth
{
    /// <summary>HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1), as golang.org/x/oauth2 tries first.</summary>
    Basic,

    /// <summary><c>client_id</c> and <c>client_secret</c> in the form body.</summary>
    InForm,

    /// <summary>HTTP Basic, then the form body if the provider refuses that (golang.org/x/oauth2's auto-detection).</summary>
    AutoDetect,
}

/// <summary>A client secret Gatehouse made itself (Apple's signed JWT) and until when the provider accepts it.</summary>
public sealed record GeneratedClientSecret(string Value, DateTimeOffset ExpiresAt);

/// <summary>What a preset reads when it exchanges the authorization response for tokens.</summary>
/// <param name="CallbackParameters">The authorization response's parameters (e.g. OAuth 1.0a's <c>oauth_verifier</c>).</param>
public sealed record OidcExchangeRequest(
    OidcProviderOptions Provider, OidcProviderMetadata Metadata, string Code, string? PkceVerifier, IReadOnlyDictionary<string, string> CallbackParameters);

/// <summary>What a preset reads when it turns a code exchange into claims.</summary>
/// <param name="CallbackParameters">The authorization response's parameters (e.g. Apple's <c>user</c>).</param>
public sealed record OidcClaimsRequest(
    OidcProviderOptions Provider, OidcProviderMetadata Metadata, OidcTokens Tokens, string? Nonce, IReadOnlyDictionary<string, string> CallbackParameters)
{
    /// <summary>Receives the user info endpoint's answer as received, where the claims are read from it (a test flow shows it).</summary>
    public Action<JsonObject>? OnUserinfo { get; init; }
}

/// <summary>
/// One of Kratos's <c>provider</c> values, as far as it differs from the generic OpenID Connect provider: its endpoints
/// and defaults, whether it speaks OpenID Connect (an ID token bound to a nonce, <c>prompt</c>, <c>claims</c>) or plain
/// OAuth2, how the client authenticates at the token endpoint, and how the claims are fetched and named as Kratos's
/// <c>Claims</c>. A preset is one small class and one line in <see cref="OidcPresets"/>; it holds no state.
/// </summary>
public abstract class OidcPreset
{
    /// <summary>The config name (<c>provider: …</c>).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// OpenID Connect: <c>openid</c> is added to the scope, a nonce sent and the ID token validated against it. Plain OAuth2
    /// presets read the account from an API with the access token instead.
    /// </summary>
    public virtual bool RequestsIdToken => true;

    /// <summary>Whether <c>prompt=login</c> (a refresh flow) and <c>requested_claims</c> go to the authorization endpoint.</summary>
    protected virtual bool SendsOpenIdParameters => RequestsIdToken;

    /// <summary>The <c>issuer_url</c> when the config leaves it unset (null: the config must set it, or the preset needs none).</summary>
    public virtual string? DefaultIssuerUrl => null;

    /// <summary>Whether the preset finds its endpoints by discovery at <c>issuer_url</c> (else it knows them).</summary>
    public virtual bool UsesDiscovery => true;

    /// <summary>How the client authenticates at the token endpoint.</summary>
    public virtual TokenEndpointAuth TokenEndpointAuth => TokenEndpointAuth.Basic;

    /// <summary>Whether PKCE may be used at all (an OAuth 1.0a preset has no code to bind it to, so Kratos never sends it).</summary>
    public virtual bool SupportsPkce => true;

    /// <summary>
    /// Whether the redirect URI is Kratos's SAML callback (<c>&lt;selfservice.methods.saml.config.base_redirect_uri or the
    /// public URL&gt;/self-service/methods/saml/callback/&lt;id&gt;</c>) instead of the oidc one (the <c>jackson</c> preset).
    /// </summary>
    public virtual bool UsesSamlCallback => false;

    /// <summary>The provider's endpoints: discovered at <c>issuer_url</c> (cached with their HTTP lifetimes) or the preset's own.</summary>
    public virtual Task<OidcProviderMetadata> MetadataAsync(OidcUpstream upstream, OidcProviderOptions provider, CancellationToken ct) =>
        UsesDiscovery ? upstream.Discovery.MetadataAsync(provider.IssuerUrl!, ct) : Task.FromResult(KnownEndpoints(provider));

    /// <summary>
    /// The URL the browser goes to, for a preset that must ask the provider first (OAuth 1.0a's request token); null: the
    /// OAuth2 authorization URL built from the metadata.
    /// </summary>
    public virtual Task<string?> AuthorizationUrlAsync(OidcUpstream upstream, OidcProviderOptions provider, OidcProviderMetadata meta, string state, CancellationToken ct) =>
        Task.FromResult<string?>(null);

    /// <summary>Exchanges the authorization response for tokens (OAuth2's code exchange unless the preset says otherwise).</summary>
    public virtual Task<OidcTokens> ExchangeAsync(OidcUpstream upstream, OidcExchangeRequest request, CancellationToken ct) =>
        upstream.OAuth2ExchangeAsync(request, ct);

    /// <summary>Whether an ID token obtained natively (an app's SDK) may be submitted (Kratos's <c>IDTokenVerifier</c>).</summary>
    public virtual bool VerifiesNativeIdTokens => false;

    /// <summary>
    /// Whether <c>fedcm_config_url</c> may be set: the browser's FedCM assertion is then verified as this provider's ID token.
    /// </summary>
    public virtual bool SupportsFedcm => false;

    /// <summary>
    /// Whether the FedCM assertion is not itself the ID token but exchanged for one at the provider first
    /// (<see cref="FedcmIdTokenAsync"/>); such an assertion is not read before the exchange.
    /// </summary>
    public virtual bool ExchangesFedcmToken => false;

    /// <summary>
    /// The ID token a FedCM assertion stands for and the metadata whose issuer and keys verify it: by default the assertion
    /// itself, verified as the provider's ID tokens are.
    /// </summary>
    public virtual async Task<(string IdToken, OidcProviderMetadata Issuer)> FedcmIdTokenAsync(OidcUpstream upstream, OidcProviderOptions provider, string assertion, CancellationToken ct) =>
        (assertion, await MetadataAsync(upstream, provider, ct));

    /// <summary>Kratos's <c>NonceValidationSkipper</c>: whether a natively obtained ID token without a nonce is accepted.</summary>
    public virtual bool CanSkipNonce(JsonObject claims) => false;

    /// <summary>Fills defaults and refuses what this preset cannot work with; <paramref name="at"/> is the entry's config path.</summary>
    public virtual void Check(OidcProviderOptions provider, string at)
    {
        if (string.IsNullOrEmpty(provider.IssuerUrl)) provider.IssuerUrl = DefaultIssuerUrl;
        if (UsesDiscovery && string.IsNullOrEmpty(provider.IssuerUrl))
            throw new ConfigException($"{at}.issuer_url: is required for a {Name} provider (its OpenID Connect discovery document and keys are read from there)");
    }

    /// <summary>The endpoints, for a preset that knows them (<see cref="UsesDiscovery"/> false).</summary>
    public virtual OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        throw new InvalidOperationException($"The {Name} preset finds its endpoints by discovery.");

    /// <summary>The scopes requested.</summary>
    public virtual IReadOnlyList<string> Scopes(OidcProviderOptions provider) =>
        RequestsIdToken && !provider.Scope.Contains("openid") ? [.. provider.Scope, "openid"] : provider.Scope;

    /// <summary>The authorization request's parameters beyond client id, redirect URI, response type, scope, state and PKCE.</summary>
    public virtual void AddAuthorizationParameters(OidcProviderOptions provider, string nonce, bool forceLogin, List<KeyValuePair<string, string?>> query)
    {
        if (RequestsIdToken) query.Add(new("nonce", nonce));
        if (!SendsOpenIdParameters) return;
        if (provider.RequestedClaims is { Count: > 0 } claims) query.Add(new("claims", claims.ToJsonString()));
        if (forceLogin) query.Add(new("prompt", "login"));
    }

    /// <summary>The token request's form beyond grant type, code, redirect URI, PKCE verifier and client authentication.</summary>
    public virtual void AddTokenParameters(List<KeyValuePair<string, string>> form)
    {
    }

    /// <summary>A client secret Gatehouse makes itself (Apple); null: the configured <c>client_secret</c>.</summary>
    public virtual GeneratedClientSecret? GenerateClientSecret(OidcProviderOptions provider, DateTimeOffset now) => null;

    /// <summary>
    /// The status of a failure to read the account (Kratos's provider <c>Claims</c>): 400 — shown on the flow — for the
    /// OpenID Connect presets (its generic provider's <c>herodot.ErrBadRequest</c>); the presets reading a provider's own
    /// API answer 502, as Kratos's <c>ErrUpstreamError</c> / <c>ErrInternalServerError</c>, forwarded to the error UI.
    /// </summary>
    public virtual int ClaimsErrorStatus => StatusCodes.Status400BadRequest;

    /// <summary>The claims of a sign-in, named as Kratos's <c>Claims</c> (at least <c>iss</c> and <c>sub</c>).</summary>
    public virtual Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest request, CancellationToken ct) =>
        upstream.OpenIdClaimsAsync(request, ct);

    /// <summary>Fails unless every configured scope is in the granted list (Kratos's <c>ErrScopeMissing</c>).</summary>
    protected void RequireGrantedScopes(OidcProviderOptions provider, string? granted, char separator)
    {
        var list = (granted ?? "").Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (provider.Scope.FirstOrDefault(s => !list.Contains(s)) is { } missing)
            throw new OidcUpstreamError($"{Label} did not grant the scope \"{missing}\" the provider is configured with.") { Status = StatusCodes.Status400BadRequest };
    }

    /// <summary>The provider's name in messages.</summary>
    protected virtual string Label => Name;

    /// <summary>Copies the string fields of an API answer to claims (claim, field), skipping empty ones.</summary>
    protected static void CopyStrings(JsonObject from, JsonObject to, params (string Claim, string Field)[] names)
    {
        foreach (var (claim, field) in names)
        {
            if (from[field] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0) to[claim] = s;
        }
    }

    /// <summary>A string field of an API answer, or null.</summary>
    protected static string? Str(JsonNode? o, string field) => (o as JsonObject)?[field] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
}
