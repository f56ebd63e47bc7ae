using System.Net;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Keys;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Gatehouse.Tests.OAuth2.ResponseModesTests;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// Hydra's redirect URI checker (x.IsRedirectURISecure over fosite's IsRedirectURISecure): the code flow refuses a
/// plain-http redirect URI unless its host is localhost, *.localhost or a loopback address
/// (handler/oauth2/flow_authorize_code_auth.go), and a public client may not use <c>prompt=none</c> with such a URI
/// (handler/openid/validator.go ValidatePrompt) — both allowed in development mode.
/// </summary>
public sealed class InsecureRedirectUriTests
{
    private const string Insecure = "http://app.example/callback";

    [Theory]
    [InlineData("http://app.example/callback", false)]
    [InlineData("HTTP://app.example/callback", false)]
    [InlineData("https://app.example/callback", true)]
    [InlineData("http://localhost:8080/cb", true)]
    [InlineData("http://myapp.localhost/cb", true)]
    [InlineData("http://127.0.0.1:9000/cb", true)]
    [InlineData("http://127.8.9.10/cb", true)]
    [InlineData("http://[::1]:9000/cb", true)]
    [InlineData("http://localhost.example/cb", false)]
    [InlineData("com.example.app:/oauth2/callback", true)]
    public void Fosites_rule_for_a_secure_redirect_uri(string uri, bool secure) =>
        Assert.Equal(secure, AuthorizeRequest.IsRedirectUriSecure(uri));

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_code_flow_refuses_a_plain_http_redirect_uri_that_is_not_local(string db)
    {
        await using var s = await StartAsync(db);
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{Insecure}}","http://127.0.0.1:9000/cb","http://myapp.localhost/cb"],"grant_types":["authorization_code"],"response_types":["code"],"scope":"openid"}""");
        using var browser = Browser(s);

        var refused = await RedirectAsync(browser, Authorize(id, scope: "openid", redirectUri: Insecure));
        Assert.StartsWith(Insecure + "?", refused.ToString(), StringComparison.Ordinal);
        var error = Values(refused.Query);
        Assert.Equal("invalid_request", error["error"]);
        Assert.Contains("Redirect URL is using an insecure protocol, http is only allowed for hosts with suffix 'localhost', for example: http://myapp.localhost/.", error["error_description"], StringComparison.Ordinal);
        Assert.Equal("state-123456", error["state"]);

        // Loopback and *.localhost redirect URIs go on to the login.
        foreach (var local in new[] { "http://127.0.0.1:9000/cb", "http://myapp.localhost/cb" })
            Assert.Contains("login_challenge=", (await RedirectAsync(browser, Authorize(id, scope: "openid", redirectUri: local))).ToString(), StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_public_client_may_not_ask_for_prompt_none_with_an_insecure_redirect_uri(string db)
    {
        await using var s = await StartAsync(db);
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{Insecure}}"],"grant_types":["implicit"],"response_types":["id_token"],"scope":"openid","token_endpoint_auth_method":"none"}""");
        using var browser = Browser(s);
        var refused = await RedirectAsync(browser, Authorize(id, responseType: "id_token", scope: "openid", redirectUri: Insecure, extra: "&nonce=nonce-12345678&prompt=none"));
        Assert.StartsWith(Insecure + "#", refused.ToString(), StringComparison.Ordinal);
        var error = Values(refused.Fragment.TrimStart('#'));
        Assert.Equal("consent_required", error["error"]);
        // (Double quotes in a description are sent as single ones, as Hydra's error writer does.)
        Assert.Contains("OAuth 2.0 Client is marked public and redirect uri is not considered secure (https missing), but 'prompt=none' was requested.", error["error_description"], StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Development_mode_allows_any_plain_http_redirect_uri(string db)
    {
        await using var s = await TestServer.StartAsync(db, o =>
        {
            o.Dev = true;
            o.Urls.Login = "https://login.example/login";
            o.Urls.Consent = "https://login.example/consent";
        }, services => services.AddSingleton(new KeyGeneration { RsaBits = 2048 }));
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{Insecure}}"],"grant_types":["authorization_code"],"response_types":["code"],"scope":"openid"}""");
        using var browser = Browser(s);
        Assert.Contains("login_challenge=", (await RedirectAsync(browser, Authorize(id, scope: "openid", redirectUri: Insecure))).ToString(), StringComparison.Ordinal);
    }
}
