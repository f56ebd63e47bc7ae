using System.Net;
using Gatehouse.Config;
using Gatehouse.OAuth2.Keys;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.OAuth2;

public sealed class DiscoveryTests
{
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Discovery_lists_what_is_served_under_both_well_known_names_and_follows_the_signing_key(string db)
    {
        await using var s = await TestServer.StartAsync(db, configureServices: services => services.AddSingleton(new KeyGeneration { RsaBits = 2048 }));
        var res = await s.Public.GetAsync("/.well-known/openid-configuration");
        var doc = (await res.Json(HttpStatusCode.OK)).AsObject();
        var issuer = s.PublicUrl + "/";
        Assert.Equal(issuer, doc["issuer"]!.GetValue<string>());
        Assert.Equal(issuer + "oauth2/token", doc["token_endpoint"]!.GetValue<string>());
        Assert.Equal(issuer + ".well-known/jwks.json", doc["jwks_uri"]!.GetValue<string>());
        Assert.Equal(issuer + "oauth2/revoke", doc["revocation_endpoint"]!.GetValue<string>());
        // Hydra's response modes (fosite writes all three).
        Assert.Equal(["query", "fragment", "form_post"], doc["response_modes_supported"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(["RS256"], doc["id_token_signing_alg_values_supported"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(["public"], doc["subject_types_supported"]!.AsArray().Select(a => a!.GetValue<string>()));
        // The device flow (RFC 8628) is served, right after the authorization endpoint as in Hydra.
        Assert.Equal(issuer + "oauth2/device/auth", doc["device_authorization_endpoint"]!.GetValue<string>());
        Assert.Equal(["issuer", "authorization_endpoint", "device_authorization_endpoint"], doc.Select(kv => kv.Key).Take(3));
        Assert.Contains("urn:ietf:params:oauth:grant-type:device_code", doc["grant_types_supported"]!.AsArray().Select(a => a!.GetValue<string>()));
        // Nothing that is not served: no registration endpoint (dynamic registration is off).
        Assert.Null(doc["registration_endpoint"]);
        // Verifiable credentials (draft 00) are served: Hydra's two members, last, with Hydra's values.
        Assert.Equal(["credentials_endpoint_draft_00", "credentials_supported_draft_00"], doc.Select(kv => kv.Key).TakeLast(2));
        Assert.Equal(issuer + "credentials", doc["credentials_endpoint_draft_00"]!.GetValue<string>());
        Assert.Equal("""[{"format":"jwt_vc_json","types":["VerifiableCredential","UserInfoCredential"],"cryptographic_binding_methods_supported":["jwk"],"cryptographic_suites_supported":["PS256","RS256","ES256","PS384","RS384","ES384","PS512","RS512","ES512","EdDSA"]}]""",
            doc["credentials_supported_draft_00"]!.ToJsonString());
        // private_key_jwt is served (issue 14), in Hydra's order.
        Assert.Equal(["client_secret_post", "client_secret_basic", "private_key_jwt", "none"], doc["token_endpoint_auth_methods_supported"]!.AsArray().Select(a => a!.GetValue<string>()));
        // Implicit and hybrid flows are served: Hydra's grant and response type lists.
        Assert.Equal(["authorization_code", "implicit", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"], doc["grant_types_supported"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(["code", "code id_token", "id_token", "token id_token", "token", "token id_token code"], doc["response_types_supported"]!.AsArray().Select(a => a!.GetValue<string>()));
        // Logout is served: RP-initiated at the end-session endpoint, front- and back-channel with sid.
        Assert.Equal(issuer + "oauth2/sessions/logout", doc["end_session_endpoint"]!.GetValue<string>());
        foreach (var flag in new[] { "backchannel_logout_supported", "backchannel_logout_session_supported", "frontchannel_logout_supported", "frontchannel_logout_session_supported" })
            Assert.True(doc[flag]!.GetValue<bool>(), flag);
        Assert.False(doc["request_parameter_supported"]!.GetValue<bool>());

        // Every endpoint it names answers (not 404).
        foreach (var key in new[] { "jwks_uri" })
            Assert.Equal(HttpStatusCode.OK, (await s.Public.GetAsync(doc[key]!.GetValue<string>())).StatusCode);

        var rfc8414 = await (await s.Public.GetAsync("/.well-known/oauth-authorization-server")).Json(HttpStatusCode.OK);
        Assert.Equal(doc.ToJsonString(), rfc8414.ToJsonString());

        // Rotating the ID-token set to an ES256 key changes the advertised algorithm.
        await (await s.AdminWithKey.PostJson("/admin/keys/hydra.openid.id-token", """{"alg":"ES256","kid":"ec","use":"sig"}""")).Json(HttpStatusCode.Created);
        var after = await (await s.Public.GetAsync("/.well-known/openid-configuration")).Json(HttpStatusCode.OK);
        Assert.Equal(["ES256"], after["id_token_signing_alg_values_supported"]!.AsArray().Select(a => a!.GetValue<string>()));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_issuer_and_public_url_come_from_hydras_urls_keys(string db)
    {
        await using var s = await TestServer.StartAsync(db, configure: o =>
        {
            o.Urls.Self.Issuer = "https://auth.example.com";
            o.Urls.Self.Public = "https://public.example.com/oauth/";
        }, configureServices: services => services.AddSingleton(new KeyGeneration { RsaBits = 2048 }));
        var doc = await (await s.Public.GetAsync("/.well-known/openid-configuration")).Json(HttpStatusCode.OK);
        Assert.Equal("https://auth.example.com/", doc["issuer"]!.GetValue<string>());
        Assert.Equal("https://auth.example.com/.well-known/jwks.json", doc["jwks_uri"]!.GetValue<string>());
        Assert.Equal("https://public.example.com/oauth/oauth2/token", doc["token_endpoint"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Hydras_webfinger_oidc_discovery_keys_override_the_document_and_the_authorization_url(string db)
    {
        await using var s = await TestServer.StartAsync(db, configure: o =>
        {
            o.Urls.Login = "https://login.example/login";
            var d = o.Webfinger.OidcDiscovery;
            d.JwksUrl = "https://cdn.example/jwks.json";
            d.TokenUrl = "https://gw.example/oauth2/token";
            d.AuthUrl = "https://gw.example/oauth2/auth";
            d.DeviceAuthorizationUrl = "https://gw.example/oauth2/device/auth";
            d.ClientRegistrationUrl = "https://gw.example/clients";
            d.UserinfoUrl = "https://gw.example/userinfo";
            d.SupportedClaims = ["email", "sub", "name"];
            d.SupportedScope = ["photos.read", "openid"];
        }, configureServices: services => services.AddSingleton(new KeyGeneration { RsaBits = 2048 }));
        var doc = await (await s.Public.GetAsync("/.well-known/openid-configuration")).Json(HttpStatusCode.OK);
        Assert.Equal("https://cdn.example/jwks.json", doc["jwks_uri"]!.GetValue<string>());
        Assert.Equal("https://gw.example/oauth2/token", doc["token_endpoint"]!.GetValue<string>());
        Assert.Equal("https://gw.example/oauth2/auth", doc["authorization_endpoint"]!.GetValue<string>());
        Assert.Equal("https://gw.example/oauth2/device/auth", doc["device_authorization_endpoint"]!.GetValue<string>());
        Assert.Equal("https://gw.example/userinfo", doc["userinfo_endpoint"]!.GetValue<string>());
        // Shown although Gatehouse's own registration is off, as Hydra shows the key whatever it serves.
        Assert.Equal("https://gw.example/clients", doc["registration_endpoint"]!.GetValue<string>());
        // Hydra's OIDCDiscoverySupportedClaims / OIDCDiscoverySupportedScope: the fixed entries first, then the configured, each once.
        Assert.Equal(["sub", "email", "name"], doc["claims_supported"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(["offline_access", "offline", "openid", "photos.read"], doc["scopes_supported"]!.AsArray().Select(a => a!.GetValue<string>()));
        // Not overridable: the issuer, revocation and logout.
        Assert.Equal(s.PublicUrl + "/oauth2/revoke", doc["revocation_endpoint"]!.GetValue<string>());
        Assert.Equal((await (await s.Public.GetAsync("/.well-known/oauth-authorization-server")).Json(HttpStatusCode.OK)).ToJsonString(), doc.ToJsonString());

        // The login request's request_url starts with the configured authorization URL (consent/strategy_default.go).
        var client = await (await s.AdminWithKey.PostJson("/admin/clients", """{"redirect_uris":["https://app.example/cb"],"scope":"openid"}""")).Json(HttpStatusCode.Created);
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };
        var query = $"?response_type=code&client_id={client["client_id"]!.GetValue<string>()}&redirect_uri={Uri.EscapeDataString("https://app.example/cb")}&scope=openid&state=state-123456";
        var toLogin = (await browser.GetAsync("/oauth2/auth" + query)).Headers.Location!;
        var challenge = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(toLogin.Query)["login_challenge"].ToString();
        var login = await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={Uri.EscapeDataString(challenge)}")).Json(HttpStatusCode.OK);
        Assert.Equal("https://gw.example/oauth2/auth" + query, login["request_url"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Webfinger_jwks_broadcast_keys_publishes_the_configured_sets_first(string db)
    {
        // Hydra's WellKnownKeys: broadcast_keys, then hydra.jwt.access-token and hydra.openid.id-token, each once; jwk/handler.go
        // discoverJsonWebKeys generates a missing set.
        await using var s = await TestServer.StartAsync(db, configure: o => o.Webfinger.Jwks.BroadcastKeys = ["custom.set", "hydra.openid.id-token"],
            configureServices: services => services.AddSingleton(new KeyGeneration { RsaBits = 2048 }));
        var jwks = await (await s.Public.GetAsync("/.well-known/jwks.json")).Json(HttpStatusCode.OK);
        var kids = jwks["keys"]!.AsArray().Select(k => k!["kid"]!.GetValue<string>()).ToList();
        var custom = (await (await s.AdminWithKey.GetAsync("/admin/keys/custom.set")).Json(HttpStatusCode.OK))["keys"]!.AsArray().Select(k => k!["kid"]!.GetValue<string>()).ToList();
        var idToken = (await (await s.AdminWithKey.GetAsync("/admin/keys/hydra.openid.id-token")).Json(HttpStatusCode.OK))["keys"]!.AsArray().Select(k => k!["kid"]!.GetValue<string>()).ToList();
        Assert.Equal([.. custom, .. idToken], kids);
        Assert.All(jwks["keys"]!.AsArray(), k => Assert.Null(k!["d"]));
    }

    [Fact]
    public void Hydra_keys_load_from_yaml_and_bad_values_name_the_key()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-hydra-config-");
        try
        {
            var good = Path.Combine(dir.FullName, "good.yml");
            File.WriteAllText(good, "dsn: memory\nurls:\n  self:\n    issuer: https://auth.example.com/\n  login: https://app.example.com/login\n  consent: https://app.example.com/consent\nttl:\n  auth_code: 5m\n  access_token: 2h\noauth2:\n  pkce:\n    enforced: true\n");
            var o = ConfigLoader.Load([good], new Dictionary<string, string?>(), dev: true).Options;
            Assert.Equal("https://app.example.com/login", o.Urls.Login);
            Assert.Equal(TimeSpan.FromMinutes(5), o.Ttl.AuthCode);
            Assert.Equal(TimeSpan.FromHours(2), o.Ttl.AccessToken);
            Assert.True(o.Oauth2.Pkce.Enforced);
            Assert.True(o.Oauth2.Pkce.EnforcedForPublicClients);
            var settings = Gatehouse.OAuth2.OAuth2Settings.From(o);
            Assert.Equal("https://auth.example.com/", settings.Issuer);
            Assert.Equal(TimeSpan.FromMinutes(30), settings.LoginConsentRequestLifespan);

            var bad = Path.Combine(dir.FullName, "bad.yml");
            File.WriteAllText(bad, "dsn: memory\nurls:\n  login: not a url\n");
            var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load([bad], new Dictionary<string, string?>(), dev: true));
            Assert.Contains("urls.login", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
