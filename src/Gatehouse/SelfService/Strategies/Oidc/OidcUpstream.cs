using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.SelfService.Strategies.Oidc.Presets;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>The provider's answer to the code exchange.</summary>
public sealed record OidcTokens(string? IdToken, string? AccessToken, string? RefreshToken, string? Scope = null, JsonObject? Response = null);

/// <summary>
/// The client side of the authorization code flow against one configured provider (Kratos's generic provider):
/// the authorization URL, the code exchange, the user info, and the claims the mapper reads; what differs per
/// <c>provider</c> value is its <see cref="OidcPreset"/>.
/// </summary>
public sealed class OidcUpstream(OidcMetadataCache metadata, IdTokenValidator idTokens, IHttpClientFactory httpClients, GatehouseOptions options, TimeProvider time)
{
    /// <summary>The redirect URI registered at the provider: <c>&lt;base_redirect_uri or public URL&gt;/self-service/methods/oidc/callback/&lt;id&gt;</c>.</summary>
    /// <remarks>The <c>jackson</c> preset's is Kratos's SAML callback, under <c>selfservice.methods.saml.config.base_redirect_uri</c>.</remarks>
    public string RedirectUri(OidcProviderOptions provider)
    {
        var saml = OidcPresets.Of(provider).UsesSamlCallback;
        var baseUrl = (saml ? options.Selfservice.Methods.Saml.Config.BaseRedirectUri : options.Selfservice.Methods.Oidc.Config.BaseRedirectUri)
            ?? Http.ReturnUrlPolicy.PublicBaseUrl(options);
        return baseUrl.TrimEnd('/') + (saml ? OidcCallback.SamlRoute : OidcCallback.Route).Replace("{provider}", Uri.EscapeDataString(provider.Id), StringComparison.Ordinal);
    }

    /// <summary>The provider's endpoints: discovered (cached with their HTTP lifetimes) or the preset's own.</summary>
    public Task<OidcProviderMetadata> MetadataAsync(OidcProviderOptions provider, CancellationToken ct) =>
        OidcPresets.Of(provider).MetadataAsync(this, provider, ct);

    /// <summary>The upstream HTTP client (10 s timeout, no cookies), for presets that talk to the provider themselves.</summary>
    public HttpClient HttpClient() => httpClients.CreateClient(OidcMetadataCache.HttpClientName);

    /// <summary>The clock.</summary>
    public TimeProvider Time => time;

    /// <summary>The discovery cache, for presets that find the issuer only in the token (Microsoft's tenants).</summary>
    public OidcMetadataCache Discovery => metadata;

    /// <summary>Whether this sign-in uses PKCE: <c>force</c> always, <c>never</c> never, <c>auto</c> when the provider advertises S256.</summary>
    public static bool UsesPkce(OidcProviderOptions provider, OidcProviderMetadata meta) => OidcPresets.Of(provider).SupportsPkce && provider.Pkce switch
    {
        "force" => true,
        "never" => false,
        _ => meta.CodeChallengeMethods.Contains("S256"),
    };

    /// <summary>The upstream URL the browser is sent to: the preset's own (OAuth 1.0a asks the provider for it), else <see cref="AuthorizationUrl"/>.</summary>
    public async Task<string> AuthorizationUrlAsync(OidcProviderOptions provider, OidcProviderMetadata meta, string state, string nonce, string? pkceVerifier,
        IReadOnlyDictionary<string, string>? upstreamParameters, bool forceLogin, CancellationToken ct) =>
        await OidcPresets.Of(provider).AuthorizationUrlAsync(this, provider, meta, state, ct)
        ?? AuthorizationUrl(provider, meta, state, nonce, pkceVerifier, upstreamParameters, forceLogin);

    /// <summary>The upstream authorization URL the browser is sent to.</summary>
    public string AuthorizationUrl(OidcProviderOptions provider, OidcProviderMetadata meta, string state, string nonce, string? pkceVerifier,
        IReadOnlyDictionary<string, string>? upstreamParameters, bool forceLogin)
    {
        var preset = OidcPresets.Of(provider);
        var query = new List<KeyValuePair<string, string?>>
        {
            new("client_id", provider.ClientId),
            new("redirect_uri", RedirectUri(provider)),
            new("response_type", "code"),
            new("scope", string.Join(' ', preset.Scopes(provider))),
            new("state", state),
        };
        preset.AddAuthorizationParameters(provider, nonce, forceLogin, query);
        if (pkceVerifier is not null)
        {
            query.Add(new("code_challenge", OidcState.Challenge(pkceVerifier)));
            query.Add(new("code_challenge_method", "S256"));
        }
        // An upstream parameter replaces one the preset set (Kratos's oauth2.SetAuthURLParam: e.g. UAE PASS's acr_values).
        foreach (var (k, v) in upstreamParameters ?? new Dictionary<string, string>())
        {
            query.RemoveAll(p => p.Key == k);
            query.Add(new(k, v));
        }
        var endpoint = provider.AuthUrl ?? meta.AuthorizationEndpoint;
        return endpoint + (endpoint.Contains('?', StringComparison.Ordinal) ? "&" : "?") + Microsoft.AspNetCore.Http.QueryString.Create(query).Value![1..];
    }

    /// <summary>Exchanges the authorization response for tokens, as the provider's preset does it.</summary>
    public Task<OidcTokens> ExchangeAsync(OidcProviderOptions provider, OidcProviderMetadata meta, string code, string? pkceVerifier,
        IReadOnlyDictionary<string, string> callbackParameters, CancellationToken ct) =>
        OidcPresets.Of(provider).ExchangeAsync(this, new OidcExchangeRequest(provider, meta, code, pkceVerifier, callbackParameters), ct);

    /// <summary>Exchanges the authorization code at the token endpoint, the client authenticating as its preset says.</summary>
    public async Task<OidcTokens> OAuth2ExchangeAsync(OidcExchangeRequest r, CancellationToken ct)
    {
        var (provider, meta, code, pkceVerifier) = (r.Provider, r.Metadata, r.Code, r.PkceVerifier);
        var preset = OidcPresets.Of(provider);
        var secret = ClientSecret(provider, preset);
        JsonObject body;
        if (preset.TokenEndpointAuth == TokenEndpointAuth.AutoDetect)
        {
            // golang.org/x/oauth2's AuthStyleAutoDetect, as Kratos's providers use it: HTTP Basic first, and the form when
            // the provider refuses that (e.g. SAML Jackson reads a Basic client id without decoding it).
            try
            {
                body = await SendAsync(TokenRequest(TokenEndpointAuth.Basic), "token", ct);
            }
            catch (OidcUpstreamError)
            {
                body = await SendAsync(TokenRequest(TokenEndpointAuth.InForm), "token", ct);
            }
        }
        else body = await SendAsync(TokenRequest(preset.TokenEndpointAuth), "token", ct);
        // GitHub and Slack answer a refused code with 200 and an error body.
        if ((string?)body["error"] is { } error)
            throw new OidcUpstreamError($"The OpenID Connect provider refused the token request: {error}{((string?)body["error_description"] is { } d ? ": " + d : "")}");
        if (body["access_token"] is not JsonValue)
            throw new OidcUpstreamError("The OpenID Connect provider's token response has no access_token.");
        return new OidcTokens((string?)body["id_token"], (string?)body["access_token"], (string?)body["refresh_token"], body["scope"] is JsonValue sc && sc.TryGetValue<string>(out var granted) ? granted : null, body);

        HttpRequestMessage TokenRequest(TokenEndpointAuth auth)
        {
            var form = new List<KeyValuePair<string, string>>
            {
                new("grant_type", "authorization_code"),
                new("code", code),
                new("redirect_uri", RedirectUri(provider)),
            };
            if (pkceVerifier is not null) form.Add(new("code_verifier", pkceVerifier));
            preset.AddTokenParameters(form);
            if (auth == TokenEndpointAuth.InForm)
            {
                form.Add(new("client_id", provider.ClientId));
                form.Add(new("client_secret", secret));
            }
            var request = new HttpRequestMessage(HttpMethod.Post, provider.TokenUrl ?? meta.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
            if (auth == TokenEndpointAuth.Basic)
            {
                // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined for Basic.
                var credentials = Uri.EscapeDataString(provider.ClientId) + ":" + Uri.EscapeDataString(secret);
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(credentials)));
            }
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            return request;
        }
    }

    /// <summary>
    /// The client secret sent to the token endpoint: the configured one, or one the preset makes (Apple's JWT), reused
    /// until a minute before it expires so a burst of sign-ins does not sign a secret each.
    /// </summary>
    private string ClientSecret(OidcProviderOptions provider, OidcPreset preset)
    {
        var now = time.GetUtcNow();
        if (_generatedSecrets.TryGetValue(provider, out var cached) && cached.ExpiresAt - GeneratedSecretMargin > now) return cached.Value;
        if (preset.GenerateClientSecret(provider, now) is not { } generated) return provider.ClientSecret ?? "";
        _generatedSecrets.AddOrUpdate(provider, generated);
        return generated.Value;
    }

    private static readonly TimeSpan GeneratedSecretMargin = TimeSpan.FromMinutes(1);

    // Keyed by the options entry itself, so a reloaded configuration never reuses another key's secret.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<OidcProviderOptions, GeneratedClientSecret> _generatedSecrets = [];

    /// <summary>The claims of a sign-in, as the provider's preset fetches and names them.</summary>
    /// <param name="onUserinfo">Receives the user info answer the claims were read from, if they were (<see cref="OidcClaimsRequest.OnUserinfo"/>).</param>
    public async Task<JsonObject> ClaimsAsync(OidcProviderOptions provider, OidcProviderMetadata meta, OidcTokens tokens, string? nonce,
        IReadOnlyDictionary<string, string> callbackParameters, CancellationToken ct, Action<JsonObject>? onUserinfo = null)
    {
        var preset = OidcPresets.Of(provider);
        try
        {
            return await preset.ClaimsAsync(this, new OidcClaimsRequest(provider, meta, tokens, nonce, callbackParameters) { OnUserinfo = onUserinfo }, ct);
        }
        catch (OidcUpstreamError e) when (e.Status is null)
        {
            throw new OidcUpstreamError(e.Reason, e.InnerException) { Step = e.Step, Status = preset.ClaimsErrorStatus };
        }
    }

    /// <summary>
    /// The generic OpenID Connect claims: the validated ID token's, or — with <c>claims_source: userinfo</c> — the user info
    /// endpoint's, whose subject must be the ID token's (OpenID Connect Core §5.3.2).
    /// </summary>
    public async Task<JsonObject> OpenIdClaimsAsync(OidcClaimsRequest r, CancellationToken ct)
    {
        var claims = await IdTokenClaimsAsync(r, r.Metadata, ct);
        if (r.Provider.ClaimsSource != "userinfo") return claims;
        if (r.Metadata.UserinfoEndpoint is null) throw new OidcUpstreamError("The OpenID Connect provider has no userinfo_endpoint, but claims_source is userinfo.");
        var info = await GetJsonAsync(r.Metadata.UserinfoEndpoint, r.Tokens, "userinfo", ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("The OpenID Connect provider's userinfo response is not a JSON object.");
        r.OnUserinfo?.Invoke((JsonObject)info.DeepClone());
        if ((string?)info["sub"] != (string?)claims["sub"]) throw new OidcUpstreamError("The user info's subject differs from the ID token's.");
        info["iss"] ??= claims["iss"]?.DeepClone();
        return info;
    }

    /// <summary>The claims of the exchange's ID token, validated against <paramref name="issuer"/>'s keys, the client and the nonce sent.</summary>
    /// <param name="additionalIssuers">Issuers accepted besides <paramref name="issuer"/>'s (jackson's trusted issuers).</param>
    /// <param name="algorithms">The signature algorithms accepted; null: any the key set's keys allow.</param>
    public Task<JsonObject> IdTokenClaimsAsync(OidcClaimsRequest r, OidcProviderMetadata issuer, CancellationToken ct,
        IReadOnlyCollection<string>? additionalIssuers = null, IReadOnlyCollection<string>? algorithms = null)
    {
        if (string.IsNullOrEmpty(r.Tokens.IdToken)) throw new OidcUpstreamError("The OpenID Connect provider did not return an ID token.");
        return idTokens.ValidateAsync(r.Tokens.IdToken, issuer, Audiences(r.Provider), r.Nonce, ct, additionalIssuers, algorithms);
    }

    /// <summary>
    /// GET (or <paramref name="method"/>) an API of the provider with the access token as bearer: its JSON answer, or an
    /// <see cref="OidcUpstreamError"/> naming <paramref name="what"/>.
    /// </summary>
    public Task<JsonNode> GetJsonAsync(string url, OidcTokens tokens, string what, Action<HttpRequestMessage>? configure = null, HttpMethod? method = null, CancellationToken ct = default)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        configure?.Invoke(request);
        return SendNodeAsync(request, what, ct);
    }

    /// <summary>The audiences an ID token of this provider may have.</summary>
    public static IReadOnlyCollection<string> Audiences(OidcProviderOptions provider) => [provider.ClientId, .. provider.AdditionalIdTokenAudiences];

    /// <summary>Sends <paramref name="request"/> (disposed) and reads its JSON object answer, or fails naming <paramref name="what"/>.</summary>
    public async Task<JsonObject> SendAsync(HttpRequestMessage request, string what, CancellationToken ct) =>
        await SendNodeAsync(request, what, ct) as JsonObject ?? throw new OidcUpstreamError($"The OpenID Connect provider's {what} response is not a JSON object.");

    private async Task<JsonNode> SendNodeAsync(HttpRequestMessage request, string what, CancellationToken ct)
    {
        using var disposeRequest = request;
        using var client = httpClients.CreateClient(OidcMetadataCache.HttpClientName);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var bytes = await OidcMetadataCache.ReadLimitedAsync(response.Content, OidcMetadataCache.MaxDocumentBytes, ct);
            JsonNode? body = null;
            try
            {
                body = JsonNode.Parse(bytes);
            }
            catch (JsonException)
            {
            }
            if (!response.IsSuccessStatusCode)
            {
                var error = (string?)(body as JsonObject)?["error"];
                var description = (string?)(body as JsonObject)?["error_description"];
                throw new OidcUpstreamError(error is null
                    ? $"The OpenID Connect provider answered {(int)response.StatusCode} at its {what} endpoint."
                    : $"The OpenID Connect provider refused the {what} request: {error}{(description is null ? "" : ": " + description)}");
            }
            return body ?? throw new OidcUpstreamError($"The OpenID Connect provider's {what} response is not JSON.");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new OidcUpstreamError($"The OpenID Connect provider could not be reached at its {what} endpoint: {e.Message}", e);
        }
    }

    /// <summary>
    /// The claims as the Jsonnet mapper reads them (Kratos's <c>Claims</c>): the standard claims at the top, as the provider
    /// sent them, and every claim under <c>raw_claims</c>.
    /// </summary>
    public static JsonObject MapperClaims(JsonObject claims)
    {
        string[] standard = ["iss", "sub", "oid", "name", "given_name", "family_name", "last_name", "middle_name", "nickname", "preferred_username",
            "profile", "picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale", "phone_number",
            "phone_number_verified", "updated_at", "hd", "team", "nonce", "acr", "amr"];
        var o = new JsonObject();
        foreach (var name in standard)
        {
            if (claims[name] is not { } v) continue;
            // email_verified may come as "true"/"false" (Apple); Kratos's ConvertibleBoolean reads both.
            if (name is "email_verified" && v is JsonValue sv && sv.GetValueKind() == JsonValueKind.String) o[name] = string.Equals(sv.GetValue<string>(), "true", StringComparison.OrdinalIgnoreCase);
            else o[name] = v.DeepClone();
        }
        o["raw_claims"] = claims.DeepClone();
        return o;
    }
}
