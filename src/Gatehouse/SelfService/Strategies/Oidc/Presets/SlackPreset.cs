using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>slack</c>: Slack's "Sign in with Slack" OAuth2 (v1: <c>https://slack.com/oauth/authorize</c>,
/// <c>https://slack.com/api/oauth.access</c>, which take <c>scope</c>, unlike v2's <c>user_scope</c>). Every configured
/// scope must be granted (Slack lists them comma-separated); the account is <c>users.identity</c>: <c>sub</c> the user
/// id, <c>name</c> / <c>nickname</c> / <c>preferred_username</c> the name, <c>email</c> (verified: Slack confirms
/// addresses), <c>picture</c> the 512 px image, <c>team</c> the workspace id.
/// </summary>
public sealed class SlackPreset : OidcPreset
{
    private const string Api = "https://slack.com/api/";

    public override string Name => "slack";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "Slack";

    public override bool RequestsIdToken => false;

    public override bool UsesDiscovery => false;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new("https://slack.com/oauth/", "https://slack.com/oauth/authorize", Api + "oauth.access", Api + "users.identity", "", []);

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        RequireGrantedScopes(r.Provider, r.Tokens.Scope, ',');
        var answer = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "users.identity", ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("Slack's users.identity did not answer with an object.");
        // Slack's Web API answers 200 with ok: false and an error code.
        if (answer["ok"] is not JsonValue ok || !ok.TryGetValue<bool>(out var success) || !success)
            throw new OidcUpstreamError($"Slack's users.identity refused the request: {Str(answer, "error") ?? "unknown error"}");
        var user = answer["user"] as JsonObject ?? throw new OidcUpstreamError("Slack's users.identity answered without a user.");
        var id = Str(user, "id") ?? throw new OidcUpstreamError("Slack's users.identity answered a user without an id.");
        var name = Str(user, "name") ?? "";
        return new JsonObject
        {
            ["iss"] = r.Metadata.Issuer,
            ["sub"] = id,
            ["name"] = name,
            ["preferred_username"] = name,
            ["nickname"] = name,
            ["email"] = Str(user, "email") ?? "",
            ["email_verified"] = true,
            ["picture"] = Str(user, "image_512") ?? "",
            ["team"] = Str(answer["team"], "id") ?? "",
        };
    }
}
