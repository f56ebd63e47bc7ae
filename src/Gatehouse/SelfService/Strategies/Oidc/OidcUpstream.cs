using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>The provider's answer to the code exchange.</summary>
public sealed record OidcTokens(string? IdToken, string? AccessToken, string? RefreshToken, string? Scope = null);

/// <summary>
/// The client side of the authorization code flow against one configured provider (Kratos's generic provider):
/// the authorization URL, the code exchange, the user info, and the claims the mapper reads.
/// </summary>
public sealed class OidcUpstream(OidcMetadataCache metadata, IdTokenValidator idTokens, IHttpClientFactory httpClients, GatehouseOptions options)
{
    /// <summary>The redirect URI registered at the provider: <c>&lt;base_redirect_uri or public URL&gt;/self-service/methods/oidc/callback/&lt;id&gt;</c>.</summary>
    public string RedirectUri(OidcProviderOptions provider)
    {
        var baseUrl = options.Selfservice.Methods.Oidc.Config.BaseRedirectUri ?? Http.ReturnUrlPolicy.PublicBaseUrl(options);
        return baseUrl.TrimEnd('/') + OidcCallback.Route.Replace("{provider}", Uri.EscapeDataString(provider.Id), StringComparison.Ordinal);
    }

    public Task<OidcProviderMetadata> MetadataAsync(OidcProviderOptions provider, CancellationToken ct) =>
        IsGitHub(provider) ? Task.FromResult(GitHubMetadata(provider)) : metadata.MetadataAsync(provider.IssuerUrl!, ct);

    /// <summary>Kratos's <c>github</c> preset: plain OAuth2 (no discovery, no ID token); the account comes from GitHub's user API.</summary>
    public static bool IsGitHub(OidcProviderOptions provider) => provider.Provider == "github";

    /// <summary>
    /// GitHub's endpoints (<c>auth_url</c> / <c>token_url</c> override them; <c>issuer_url</c>, if set, is the API base,
    /// e.g. a GitHub Enterprise Server's <c>https://host/api/v3</c>). The claims' issuer is the token URL, as in Kratos.
    /// </summary>
    private static OidcProviderMetadata GitHubMetadata(OidcProviderOptions provider)
    {
        var token = provider.TokenUrl ?? "https://github.com/login/oauth/access_token";
        var api = (provider.IssuerUrl ?? "https://api.github.com").TrimEnd('/');
        return new OidcProviderMetadata(token, provider.AuthUrl ?? "https://github.com/login/oauth/authorize", token, api + "/user", "", []);
    }

    /// <summary>Whether this sign-in uses PKCE: <c>force</c> always, <c>never</c> never, <c>auto</c> when the provider advertises S256.</summary>
    public static bool UsesPkce(OidcProviderOptions provider, OidcProviderMetadata meta) => provider.Pkce switch
    {
        "force" => true,
        "never" => false,
        _ => meta.CodeChallengeMethods.Contains("S256"),
    };

    /// <summary>The upstream authorization URL the browser is sent to.</summary>
    public string AuthorizationUrl(OidcProviderOptions provider, OidcProviderMetadata meta, string state, string nonce, string? pkceVerifier,
        IReadOnlyDictionary<string, string>? upstreamParameters, bool forceLogin)
    {
        var github = IsGitHub(provider);
        var scope = github || provider.Scope.Contains("openid") ? provider.Scope : [.. provider.Scope, "openid"];
        var query = new List<KeyValuePair<string, string?>>
        {
            new("client_id", provider.ClientId),
            new("redirect_uri", RedirectUri(provider)),
            new("response_type", "code"),
            new("scope", string.Join(' ', scope)),
            new("state", state),
        };
        // GitHub is no OpenID provider: no nonce, no claims request, no prompt.
        if (!github) query.Add(new("nonce", nonce));
        if (pkceVerifier is not null)
        {
            query.Add(new("code_challenge", OidcState.Challenge(pkceVerifier)));
            query.Add(new("code_challenge_method", "S256"));
        }
        if (!github && provider.RequestedClaims is { Count: > 0 } claims) query.Add(new("claims", claims.ToJsonString()));
        if (!github && forceLogin) query.Add(new("prompt", "login"));
        foreach (var (k, v) in upstreamParameters ?? new Dictionary<string, string>()) query.Add(new(k, v));
        var endpoint = provider.AuthUrl ?? meta.AuthorizationEndpoint;
        return endpoint + (endpoint.Contains('?', StringComparison.Ordinal) ? "&" : "?") + Microsoft.AspNetCore.Http.QueryString.Create(query).Value![1..];
    }

    /// <summary>Exchanges the authorization code at the token endpoint (client_secret_basic, as golang.org/x/oauth2 tries first).</summary>
    public async Task<OidcTokens> ExchangeAsync(OidcProviderOptions provider, OidcProviderMetadata meta, string code, string? pkceVerifier, CancellationToken ct)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "authorization_code"),
            new("code", code),
            new("redirect_uri", RedirectUri(provider)),
        };
        if (pkceVerifier is not null) form.Add(new("code_verifier", pkceVerifier));
        if (IsGitHub(provider))
        {
            // golang.org/x/oauth2's GitHub endpoint sends the client's credentials in the form.
            form.Add(new("client_id", provider.ClientId));
            form.Add(new("client_secret", provider.ClientSecret ?? ""));
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, provider.TokenUrl ?? meta.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        if (!IsGitHub(provider))
        {
            // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined for Basic.
            var credentials = Uri.EscapeDataString(provider.ClientId) + ":" + Uri.EscapeDataString(provider.ClientSecret ?? "");
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(credentials)));
        }
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var body = await SendAsync(request, "token", ct);
        // GitHub answers a refused code with 200 and an error body.
        if ((string?)body["error"] is { } error)
            throw new OidcUpstreamError($"The OpenID Connect provider refused the token request: {error}{((string?)body["error_description"] is { } d ? ": " + d : "")}");
        if (body["access_token"] is not JsonValue)
            throw new OidcUpstreamError("The OpenID Connect provider's token response has no access_token.");
        return new OidcTokens((string?)body["id_token"], (string?)body["access_token"], (string?)body["refresh_token"], body["scope"] is JsonValue sc && sc.TryGetValue<string>(out var granted) ? granted : null);
    }

    /// <summary>
    /// The claims of a sign-in: the validated ID token's, or — with <c>claims_source: userinfo</c> — the user info
    /// endpoint's, whose subject must be the ID token's (OpenID Connect Core §5.3.2).
    /// </summary>
    public async Task<JsonObject> ClaimsAsync(OidcProviderOptions provider, OidcProviderMetadata meta, OidcTokens tokens, string? nonce, CancellationToken ct)
    {
        if (IsGitHub(provider)) return await GitHubClaimsAsync(provider, meta, tokens, ct);
        if (string.IsNullOrEmpty(tokens.IdToken)) throw new OidcUpstreamError("The OpenID Connect provider did not return an ID token.");
        var claims = await idTokens.ValidateAsync(tokens.IdToken, meta, Audiences(provider), nonce, ct);
        if (provider.ClaimsSource != "userinfo") return claims;
        if (meta.UserinfoEndpoint is null) throw new OidcUpstreamError("The OpenID Connect provider has no userinfo_endpoint, but claims_source is userinfo.");
        using var request = new HttpRequestMessage(HttpMethod.Get, meta.UserinfoEndpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var info = await SendAsync(request, "userinfo", ct);
        if ((string?)info["sub"] != (string?)claims["sub"]) throw new OidcUpstreamError("The user info's subject differs from the ID token's.");
        info["iss"] ??= claims["iss"]?.DeepClone();
        return info;
    }

    /// <summary>
    /// Kratos's GitHub claims: every configured scope must have been granted; the account is <c>GET /user</c> (<c>sub</c> its
    /// numeric id, <c>nickname</c> its login, <c>name</c>, <c>picture</c>, <c>profile</c>, <c>website</c>,
    /// <c>updated_at</c>), and with <c>user:email</c> granted the primary address of <c>GET /user/emails</c> with its
    /// verification state.
    /// </summary>
    private async Task<JsonObject> GitHubClaimsAsync(OidcProviderOptions provider, OidcProviderMetadata meta, OidcTokens tokens, CancellationToken ct)
    {
        var granted = (tokens.Scope ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (provider.Scope.FirstOrDefault(s => !granted.Contains(s)) is { } missing)
            throw new OidcUpstreamError($"GitHub did not grant the scope \"{missing}\" the provider is configured with.");
        var user = await GitHubAsync(meta.UserinfoEndpoint!, tokens, ct) as JsonObject
            ?? throw new OidcUpstreamError("GitHub's user API did not answer with a user.");
        if (user["id"] is not JsonValue id || !id.TryGetValue<long>(out var number))
            throw new OidcUpstreamError("GitHub's user API answered a user without an id.");
        var claims = new JsonObject { ["iss"] = meta.Issuer, ["sub"] = number.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var (claim, field) in new[] { ("name", "name"), ("nickname", "login"), ("website", "blog"), ("picture", "avatar_url"), ("profile", "html_url") })
        {
            if (user[field] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0) claims[claim] = s;
        }
        if (user["updated_at"] is JsonValue u && u.TryGetValue<string>(out var updated) && DateTimeOffset.TryParse(updated, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at))
            claims["updated_at"] = at.ToUnixTimeSeconds();
        if (granted.Contains("user:email") && await GitHubAsync(meta.UserinfoEndpoint + "/emails", tokens, ct) is JsonArray emails)
        {
            if (emails.OfType<JsonObject>().FirstOrDefault(e => e["primary"] is JsonValue p && p.TryGetValue<bool>(out var primary) && primary) is { } chosen)
            {
                claims["email"] = (string?)chosen["email"];
                claims["email_verified"] = chosen["verified"] is JsonValue v && v.TryGetValue<bool>(out var verified) && verified;
            }
        }
        return claims;
    }

    private Task<JsonNode> GitHubAsync(string url, OidcTokens tokens, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
        // GitHub's API refuses requests without a User-Agent.
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Gatehouse", "1.0"));
        return SendNodeAsync(request, "user API", ct);
    }

    /// <summary>The audiences an ID token of this provider may have.</summary>
    public static IReadOnlyCollection<string> Audiences(OidcProviderOptions provider) => [provider.ClientId, .. provider.AdditionalIdTokenAudiences];

    private async Task<JsonObject> SendAsync(HttpRequestMessage request, string what, CancellationToken ct) =>
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
