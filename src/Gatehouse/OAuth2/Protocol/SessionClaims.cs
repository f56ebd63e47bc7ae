using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Flows;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// The custom claims a grant's tokens carry, as Hydra keeps them in its session (<c>oauth2/session.go</c>): <c>Extra</c>
/// (the access token's <c>ext</c>, and the JWT access token's top-level claims) and the ID token claims' <c>Extra</c>. A
/// login/consent grant starts from the consent's <c>session.access_token</c> and <c>session.id_token</c> (plus
/// <c>sid</c>, which Hydra adds to the ID token claims' <c>Extra</c> in <c>updateSessionWithRequest</c>); a token hook's
/// 200 answer replaces both (<c>oauth2/token_hook.go</c> <c>executeHookAndUpdateSession</c>). A refresh token keeps
/// the claims it was issued with, so the next refresh starts from what the hook returned, as fosite stores the
/// (hook-modified) session with the new refresh token.
/// </summary>
public sealed record SessionClaims(JsonObject? AccessToken, JsonObject? IdToken)
{
    /// <summary>The claims of a login/consent grant before any hook: the consent's session, and <c>sid</c> for the ID token.</summary>
    public static SessionClaims FromFlow(OAuth2Flow flow)
    {
        var consent = JsonNode.Parse(flow.Consent) as JsonObject ?? [];
        var login = JsonNode.Parse(flow.Login) as JsonObject ?? [];
        var access = consent["session"]?["access_token"] is JsonObject a ? (JsonObject)a.DeepClone() : [];
        var id = consent["session"]?["id_token"] is JsonObject i ? (JsonObject)i.DeepClone() : [];
        if (login["session_id"]?.GetValue<string>() is { Length: > 0 } sid) id["sid"] = sid;
        return new SessionClaims(access, id);
    }

    /// <summary>
    /// How a refresh token row keeps the claims (in its <c>Extra</c>): <c>{"access_token":{…},"id_token":{…}}</c>. Refresh
    /// tokens issued without a hook keep <c>{}</c> and refresh from the consent, as before.
    /// </summary>
    public string ToStored() => new JsonObject
    {
        ["access_token"] = AccessToken?.DeepClone(),
        ["id_token"] = IdToken?.DeepClone(),
    }.ToJsonString();

    /// <summary>The claims a refresh token row keeps, or null when it keeps none (<c>{}</c>: refresh from the consent).</summary>
    public static SessionClaims? FromStored(string extra)
    {
        if (extra is "" or "{}" || JsonNode.Parse(extra) is not JsonObject o || !(o.ContainsKey("access_token") || o.ContainsKey("id_token"))) return null;
        return new SessionClaims(o["access_token"] as JsonObject, o["id_token"] as JsonObject);
    }

    /// <summary>The access-token claims of a stored refresh token row (its introspection's <c>ext</c>), or null.</summary>
    public static JsonObject? StoredAccessClaims(string extra) => FromStored(extra)?.AccessToken;
}
