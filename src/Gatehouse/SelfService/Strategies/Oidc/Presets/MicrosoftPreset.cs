using System.Text.Json.Nodes;
using Gatehouse.Config;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>microsoft</c> (Entra ID): <c>microsoft_tenant</c> (required: <c>common</c>, <c>organizations</c>,
/// <c>consumers</c>, a tenant id or domain) names the endpoints
/// <c>https://login.microsoftonline.com/&lt;tenant&gt;/oauth2/v2.0/{authorize,token}</c>. A multi-tenant sign-in's
/// issuer is the user's tenant, so the ID token's <c>tid</c> (a UUID) picks the issuer
/// <c>https://login.microsoftonline.com/&lt;tid&gt;/v2.0</c>, whose discovery document and keys validate the token.
/// <c>subject_source</c>: <c>userinfo</c> (default, the token's <c>sub</c>), <c>oid</c> (the object id, the same across
/// a tenant's applications) or <c>me</c> (the <c>id</c> of Microsoft Graph's <c>/v1.0/me</c>).
/// </summary>
public sealed class MicrosoftPreset : OidcPreset
{
    private const string Login = "https://login.microsoftonline.com/";
    private const string GraphMe = "https://graph.microsoft.com/v1.0/me";

    public override string Name => "microsoft";

    protected override string Label => "Microsoft";

    public override bool UsesDiscovery => false;

    public override void Check(OidcProviderOptions provider, string at)
    {
        if (string.IsNullOrWhiteSpace(provider.MicrosoftTenant))
            throw new ConfigException($"{at}.microsoft_tenant: is required for a microsoft provider (common, organizations, consumers, or your tenant's id or domain)");
        // A path segment of Microsoft's endpoints: a name, a GUID or a domain.
        if (!provider.MicrosoftTenant.Trim().All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-'))
            throw new ConfigException($"{at}.microsoft_tenant: \"{provider.MicrosoftTenant}\" is not a tenant name, id or domain");
        if (provider.SubjectSource is not (null or "" or "userinfo" or "me" or "oid"))
            throw new ConfigException($"{at}.subject_source: expected one of \"userinfo\", \"me\", \"oid\", got \"{provider.SubjectSource}\"");
    }

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider)
    {
        var prefix = Login + Uri.EscapeDataString((provider.MicrosoftTenant ?? "").Trim());
        return new OidcProviderMetadata(prefix + "/v2.0", prefix + "/oauth2/v2.0/authorize", prefix + "/oauth2/v2.0/token", null, "", []);
    }

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(r.Tokens.IdToken)) throw new OidcUpstreamError("The OpenID Connect provider did not return an ID token.");
        string? tenant;
        try
        {
            tenant = new JsonWebToken(r.Tokens.IdToken).TryGetPayloadValue<string>("tid", out var tid) ? tid : null;
        }
        catch (ArgumentException)
        {
            throw new OidcUpstreamError("The ID token is invalid: it is not a well-formed JWT.");
        }
        // The tenant names the issuer whose keys are fetched, so it must be a tenant id and nothing that bends the URL.
        if (!Guid.TryParseExact(tenant, "D", out var tenantId))
            throw new OidcUpstreamError("The ID token's tenant (tid) claim is not a valid UUID.");
        OidcProviderMetadata issuer;
        try
        {
            issuer = await upstream.Discovery.MetadataAsync(Login + tenantId.ToString("D") + "/v2.0", ct);
        }
        catch (OidcUpstreamError e) when (e.Status is null)
        {
            // Kratos's "Unable to initialize OpenID Connect Provider": its ErrUpstreamError.
            throw new OidcUpstreamError(e.Reason, e) { Status = StatusCodes.Status502BadGateway };
        }
        var claims = await upstream.IdTokenClaimsAsync(r, issuer, ct);
        switch (r.Provider.SubjectSource)
        {
            case "oid":
                claims["sub"] = Str(claims, "oid") ?? throw new OidcUpstreamError("The ID token has no object id (oid), but subject_source is oid.");
                break;
            case "me":
                // Kratos's updateSubject: Graph failing is its ErrUpstreamError (502), not a 400 on the flow.
                JsonNode me;
                try
                {
                    me = await upstream.GetJsonAsync(GraphMe, r.Tokens, "Microsoft Graph /me", ct: ct);
                }
                catch (OidcUpstreamError e) when (e.Status is null)
                {
                    throw new OidcUpstreamError(e.Reason, e) { Status = StatusCodes.Status502BadGateway };
                }
                claims["sub"] = Str(me, "id") ?? throw new OidcUpstreamError($"Microsoft Graph's {GraphMe} answered without an id.") { Status = StatusCodes.Status502BadGateway };
                break;
        }
        return claims;
    }
}
