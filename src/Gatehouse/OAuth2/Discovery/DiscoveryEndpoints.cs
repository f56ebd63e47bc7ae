using System.Text.Json.Nodes;
using Gatehouse.Http.Json;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Protocol;

namespace Gatehouse.OAuth2.Discovery;

/// <summary>
/// <c>discoverOidcConfiguration</c> (<c>OidcApi</c>), served at <c>/.well-known/openid-configuration</c> and (RFC 8414)
/// <c>/.well-known/oauth-authorization-server</c>, as Hydra's <c>discoverOidcConfiguration</c> with its members in its
/// order — but advertising only what Gatehouse serves: endpoints, authentication methods and PKCE methods that are not
/// implemented are left out (Hydra lists them all). Grants, response types and response modes are Hydra's lists.
/// </summary>
public static class DiscoveryEndpoints
{
    public const string OpenIdConfiguration = "/.well-known/openid-configuration";
    public const string AuthorizationServer = "/.well-known/oauth-authorization-server";

    public static RouteGroupBuilder MapDiscovery(this RouteGroupBuilder root)
    {
        root.MapGet(OpenIdConfiguration, Discover);
        root.MapGet(AuthorizationServer, Discover);
        return root;
    }

    private static async Task Discover(HttpContext http, JsonWebKeyManager keys, OAuth2Settings settings)
    {
        var signing = await keys.GetSigningKeyAsync(JsonWebKeyManager.IdTokenSet, http.RequestAborted);
        await HttpJson.WriteAsync(http, 200, Document(settings, signing.Credentials.Algorithm));
    }

    /// <summary>
    /// The document, with Hydra's <c>webfinger.oidc_discovery</c> overrides (<c>driver/config/provider.go</c>
    /// <c>OAuth2AuthURL</c>, <c>OAuth2TokenURL</c>, <c>JWKSURL</c>, …): a configured URL replaces Gatehouse's own; the
    /// configured claims and scopes follow the ones always listed, each once.
    /// </summary>
    public static JsonObject Document(OAuth2Settings settings, string idTokenAlgorithm)
    {
        var o = settings.Discovery;
        var document = new JsonObject
        {
            ["issuer"] = settings.Issuer,
            ["authorization_endpoint"] = settings.AuthorizationUrl,
            ["device_authorization_endpoint"] = o.DeviceAuthorizationUrl ?? settings.Endpoint(Device.DeviceEndpoints.DeviceAuth),
        };
        // Hydra shows webfinger.oidc_discovery.client_registration_url (empty by default); without it, Gatehouse's own
        // endpoint when it is served.
        if (o.ClientRegistrationUrl is { } registration) document["registration_endpoint"] = registration;
        else if (settings.DynamicClientRegistration) document["registration_endpoint"] = settings.Endpoint(Clients.OidcDynamicClientEndpoints.Register);
        foreach (var (name, value) in Rest(settings, idTokenAlgorithm)) document[name] = value?.DeepClone();
        return document;
    }

    private static JsonObject Rest(OAuth2Settings settings, string idTokenAlgorithm) => new()
    {
        ["token_endpoint"] = settings.Discovery.TokenUrl ?? settings.Endpoint(TokenEndpoints.Token),
        ["jwks_uri"] = settings.Discovery.JwksUrl ?? settings.Issuer + JwkEndpoints.WellKnownKeys.TrimStart('/'),
        ["subject_types_supported"] = Array([.. settings.SubjectTypesSupported()]),
        ["response_types_supported"] = Array("code", "code id_token", "id_token", "token id_token", "token", "token id_token code"),
        ["claims_supported"] = Array([.. new[] { "sub" }.Concat(settings.Discovery.SupportedClaims).Distinct()]),
        ["grant_types_supported"] = Array("authorization_code", "implicit", "client_credentials", "refresh_token", Device.DeviceFlowService.GrantType),
        ["response_modes_supported"] = Array("query", "fragment", "form_post"),
        ["userinfo_endpoint"] = settings.Discovery.UserinfoUrl ?? settings.Endpoint(UserinfoEndpoint.Userinfo),
        ["scopes_supported"] = Array([.. new[] { "offline_access", "offline", "openid" }.Concat(settings.Discovery.SupportedScope).Distinct()]),
        ["token_endpoint_auth_methods_supported"] = Array("client_secret_post", "client_secret_basic", "private_key_jwt", "none"),
        ["userinfo_signing_alg_values_supported"] = Array("none", idTokenAlgorithm),
        ["id_token_signing_alg_values_supported"] = Array(idTokenAlgorithm),
        ["id_token_signed_response_alg"] = Array(idTokenAlgorithm),
        ["userinfo_signed_response_alg"] = Array(idTokenAlgorithm),
        ["request_parameter_supported"] = false,
        ["request_uri_parameter_supported"] = false,
        ["require_request_uri_registration"] = false,
        ["claims_parameter_supported"] = false,
        ["revocation_endpoint"] = settings.Issuer + TokenEndpoints.Revoke.TrimStart('/'),
        ["backchannel_logout_supported"] = true,
        ["backchannel_logout_session_supported"] = true,
        ["frontchannel_logout_supported"] = true,
        ["frontchannel_logout_session_supported"] = true,
        ["end_session_endpoint"] = settings.Issuer + Logout.LogoutService.Path.TrimStart('/'),
        ["code_challenge_methods_supported"] = Array("S256"),
        ["credentials_endpoint_draft_00"] = settings.Endpoint(Credentials.CredentialsEndpoint.Credentials),
        ["credentials_supported_draft_00"] = new JsonArray(new JsonObject
        {
            ["format"] = Credentials.VerifiableCredentialService.Format,
            ["types"] = Array("VerifiableCredential", "UserInfoCredential"),
            ["cryptographic_binding_methods_supported"] = Array("jwk"),
            ["cryptographic_suites_supported"] = Array([.. Credentials.VerifiableCredentialService.ProofAlgorithms]),
        }),
    };

    private static JsonArray Array(params string[] values) => new([.. values.Select(v => (JsonNode)v)]);
}
