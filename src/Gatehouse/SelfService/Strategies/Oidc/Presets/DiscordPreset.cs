using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>discord</c>: plain OAuth2 at <c>https://discord.com/api/v9/oauth2/</c>; <c>prompt=consent</c> on a refresh flow,
/// else <c>prompt=none</c> (Discord skips its consent screen for an app the user already allowed). Every configured scope
/// must be granted; the account is <c>GET /users/@me</c>: <c>sub</c> its id, <c>name</c> <c>username#discriminator</c>,
/// <c>nickname</c> and <c>preferred_username</c> the username, <c>picture</c> its avatar on Discord's CDN (or the default
/// avatar), <c>email</c> with <c>verified</c> as <c>email_verified</c>, <c>locale</c>.
/// </summary>
public sealed class DiscordPreset : OidcPreset
{
    private const string Api = "https://discord.com/api/v9/";
    private const string Cdn = "https://cdn.discordapp.com/";

    public override string Name => "discord";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "Discord";

    public override bool RequestsIdToken => false;

    public override bool UsesDiscovery => false;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new(Api + "oauth2/", Api + "oauth2/authorize", Api + "oauth2/token", Api + "users/@me", "", []);

    public override void AddAuthorizationParameters(OidcProviderOptions provider, string nonce, bool forceLogin, List<KeyValuePair<string, string?>> query) =>
        query.Add(new("prompt", forceLogin ? "consent" : "none"));

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        RequireGrantedScopes(r.Provider, r.Tokens.Scope, ' ');
        var user = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "user API", ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("Discord's user API did not answer with a user.");
        var id = Str(user, "id") ?? throw new OidcUpstreamError("Discord's user API answered a user without an id.");
        var username = Str(user, "username") ?? "";
        var discriminator = Str(user, "discriminator") ?? "";
        var claims = new JsonObject
        {
            ["iss"] = r.Metadata.Issuer,
            ["sub"] = id,
            ["name"] = $"{username}#{discriminator}",
            ["nickname"] = username,
            ["preferred_username"] = username,
            ["picture"] = Avatar(id, discriminator, Str(user, "avatar")),
            ["email"] = Str(user, "email") ?? "",
            ["email_verified"] = user["verified"] is JsonValue v && v.TryGetValue<bool>(out var verified) && verified,
        };
        if (Str(user, "locale") is { } locale) claims["locale"] = locale;
        return claims;
    }

    /// <summary>The avatar's CDN URL (animated ones are GIFs); without one, the default avatar Discord shows for the account.</summary>
    private static string Avatar(string id, string discriminator, string? hash)
    {
        if (hash is null)
        {
            var index = discriminator is "0" or ""
                ? (int)((ulong.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var snowflake) ? snowflake : 0) >> 22) % 6
                : (int.TryParse(discriminator, NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : 0) % 5;
            return $"{Cdn}embed/avatars/{index}.png";
        }
        return $"{Cdn}avatars/{id}/{hash}{(hash.StartsWith("a_", StringComparison.Ordinal) ? ".gif" : ".png")}";
    }
}
