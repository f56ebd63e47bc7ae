using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>github</c>: plain OAuth2 (no discovery, no ID token, no nonce); client id and secret in the token request's form, as
/// golang.org/x/oauth2's GitHub endpoint sends them. <c>auth_url</c> / <c>token_url</c> override GitHub's endpoints;
/// <c>issuer_url</c>, if set, is the API base (GitHub Enterprise Server's <c>https://host/api/v3</c>). The claims' issuer
/// is the token URL, as in Kratos.
/// </summary>
public sealed class GitHubPreset : OidcPreset
{
    public override string Name => "github";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "GitHub";

    public override bool RequestsIdToken => false;

    public override bool UsesDiscovery => false;

    public override TokenEndpointAuth TokenEndpointAuth => TokenEndpointAuth.InForm;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider)
    {
        var token = provider.TokenUrl ?? "https://github.com/login/oauth/access_token";
        var api = (provider.IssuerUrl ?? "https://api.github.com").TrimEnd('/');
        return new OidcProviderMetadata(token, provider.AuthUrl ?? "https://github.com/login/oauth/authorize", token, api + "/user", "", []);
    }

    /// <summary>
    /// Every configured scope must have been granted; the account is <c>GET /user</c> (<c>sub</c> its numeric id,
    /// <c>nickname</c> its login, <c>name</c>, <c>picture</c>, <c>profile</c>, <c>website</c>, <c>updated_at</c>), and with
    /// <c>user:email</c> granted the primary address of <c>GET /user/emails</c> with its verification state.
    /// </summary>
    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        RequireGrantedScopes(r.Provider, r.Tokens.Scope, ',');
        var user = await Api(upstream, r.Metadata.UserinfoEndpoint!, r.Tokens, ct) as JsonObject
            ?? throw new OidcUpstreamError("GitHub's user API did not answer with a user.");
        if (user["id"] is not JsonValue id || !id.TryGetValue<long>(out var number))
            throw new OidcUpstreamError("GitHub's user API answered a user without an id.");
        var claims = new JsonObject { ["iss"] = r.Metadata.Issuer, ["sub"] = number.ToString(CultureInfo.InvariantCulture) };
        CopyStrings(user, claims, ("name", "name"), ("nickname", "login"), ("website", "blog"), ("picture", "avatar_url"), ("profile", "html_url"));
        if (Str(user, "updated_at") is { } updated && DateTimeOffset.TryParse(updated, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            claims["updated_at"] = at.ToUnixTimeSeconds();
        var granted = (r.Tokens.Scope ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (granted.Contains("user:email") && await Api(upstream, r.Metadata.UserinfoEndpoint + "/emails", r.Tokens, ct) is JsonArray emails
            && emails.OfType<JsonObject>().FirstOrDefault(e => e["primary"] is JsonValue p && p.TryGetValue<bool>(out var primary) && primary) is { } chosen)
        {
            claims["email"] = Str(chosen, "email");
            claims["email_verified"] = chosen["verified"] is JsonValue v && v.TryGetValue<bool>(out var verified) && verified;
        }
        return claims;
    }

    private static Task<JsonNode> Api(OidcUpstream upstream, string url, OidcTokens tokens, CancellationToken ct) =>
        upstream.GetJsonAsync(url, tokens, "user API", request =>
        {
            request.Headers.Accept.Clear();
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
            // GitHub's API refuses requests without a User-Agent.
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Gatehouse", "1.0"));
        }, ct: ct);
}
