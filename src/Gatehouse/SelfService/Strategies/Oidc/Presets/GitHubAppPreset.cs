using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>github-app</c>: a GitHub App's user authorization — plain OAuth2 at GitHub's endpoints, client id and secret in the
/// token request's form, no extra authorization parameters. GitHub Apps have permissions instead of scopes, so nothing
/// is checked against the granted scope. The account is <c>GET https://api.github.com/user</c> (<c>sub</c> its numeric
/// id, <c>nickname</c> its login, <c>name</c>, <c>picture</c>, <c>profile</c>, <c>website</c>, <c>updated_at</c>) and
/// always <c>GET /user/emails</c>: the primary address (else the last listed) with its verification state. The claims'
/// issuer is the token URL, as in Kratos.
/// </summary>
public sealed class GitHubAppPreset : OidcPreset
{
    private const string Token = "https://github.com/login/oauth/access_token";
    private const string User = "https://api.github.com/user";

    public override string Name => "github-app";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "GitHub";

    public override bool RequestsIdToken => false;

    public override bool UsesDiscovery => false;

    public override TokenEndpointAuth TokenEndpointAuth => TokenEndpointAuth.InForm;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new(Token, "https://github.com/login/oauth/authorize", Token, User, "", []);

    public override void AddAuthorizationParameters(OidcProviderOptions provider, string nonce, bool forceLogin, List<KeyValuePair<string, string?>> query)
    {
    }

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var user = await Api(upstream, r.Metadata.UserinfoEndpoint!, r.Tokens, ct) as JsonObject
            ?? throw new OidcUpstreamError("GitHub's user API did not answer with a user.");
        if (user["id"] is not JsonValue id || !id.TryGetValue<long>(out var number))
            throw new OidcUpstreamError("GitHub's user API answered a user without an id.");
        var claims = new JsonObject { ["iss"] = r.Metadata.Issuer, ["sub"] = number.ToString(CultureInfo.InvariantCulture) };
        CopyStrings(user, claims, ("name", "name"), ("nickname", "login"), ("website", "blog"), ("picture", "avatar_url"), ("profile", "html_url"));
        if (Str(user, "updated_at") is { } updated && DateTimeOffset.TryParse(updated, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            claims["updated_at"] = at.ToUnixTimeSeconds();
        var emails = (await Api(upstream, r.Metadata.UserinfoEndpoint + "/emails", r.Tokens, ct) as JsonArray ?? []).OfType<JsonObject>().ToList();
        if ((emails.FirstOrDefault(e => e["primary"] is JsonValue p && p.TryGetValue<bool>(out var primary) && primary) ?? emails.LastOrDefault()) is { } chosen)
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
