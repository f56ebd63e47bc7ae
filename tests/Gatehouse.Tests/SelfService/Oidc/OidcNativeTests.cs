using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>
/// Native sign-in (Kratos's <c>id_token</c> + <c>id_token_nonce</c> in the update body): an app that got an ID token from
/// the provider's SDK signs up and in with it through an API flow, only with the presets that verify ID tokens, with
/// Kratos's nonce rules; a forged, foreign or expired token is refused and nothing is written.
/// </summary>
public sealed class OidcNativeTests(OidcServerFixture fixture) : IClassFixture<OidcServerFixture>
{
    private static string NewSubject() => "sub-" + Guid.NewGuid().ToString("N")[..10];

    private static async Task<HttpResponseMessage> Submit(TestServer s, string kind, JsonObject body)
    {
        var flow = await ApiFlow(s.Public, kind);
        return await s.Public.PostJson($"/self-service/{kind}?flow={flow["id"]}", body);
    }

    private async Task<JsonObject> Body(string subject, string? nonce, string? givenNonce, string provider = "native", Action<JsonObject>? claims = null)
    {
        var idp = await fixture.Idp();
        var c = idp.Claims(subject, fixture.Clock.GetUtcNow(), nonce);
        claims?.Invoke(c);
        var body = new JsonObject { ["method"] = "oidc", ["provider"] = provider, ["id_token"] = idp.Sign(c) };
        if (givenNonce is not null) body["id_token_nonce"] = givenNonce;
        return body;
    }

    private static async Task<int> IdentitiesWith(TestServer s, string email) =>
        (await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(email)}")).Json(HttpStatusCode.OK)).AsArray().Count;

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_id_token_signs_up_through_a_login_flow_and_signs_in_again_through_a_registration_flow(string provider)
    {
        var s = await fixture.Get(provider);
        var subject = NewSubject();
        var nonce = "n-" + Guid.NewGuid().ToString("N");
        var signUp = await (await Submit(s, "login", await Body(subject, nonce, nonce))).Json(HttpStatusCode.OK);
        Assert.False(string.IsNullOrEmpty((string?)signUp["session_token"]));
        var identityId = (string)signUp["identity"]!["id"]!;
        Assert.Equal($"{subject}@idp.test", (string?)signUp["identity"]!["traits"]!["email"]);
        var method = signUp["session"]!["authentication_methods"]![0]!;
        Assert.Equal(("oidc", "native"), ((string?)method["method"], (string?)method["provider"]));

        var nonce2 = "n-" + Guid.NewGuid().ToString("N");
        var signIn = await (await Submit(s, "registration", await Body(subject, nonce2, nonce2))).Json(HttpStatusCode.OK);
        Assert.Equal(identityId, (string?)signIn["session"]!["identity"]!["id"]);
        Assert.Equal(1, await IdentitiesWith(s, $"{subject}@idp.test"));

        // The stored credential keeps the ID token (encrypted), as after a callback.
        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential=oidc")).Json(HttpStatusCode.OK);
        Assert.Equal($"native:{subject}", (string?)admin["credentials"]!["oidc"]!["identifiers"]![0]);
        Assert.Equal(3, ((string)admin["credentials"]!["oidc"]!["config"]!["providers"]![0]!["initial_id_token"]!).Split('.').Length);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Kratos_nonce_rules_apply(string provider)
    {
        var s = await fixture.Get(provider);
        var subject = NewSubject();
        var mismatch = await Submit(s, "login", await Body(subject, "token-nonce", "other-nonce"));
        Assert.Equal("The supplied nonce does not match the nonce from the id_token", (string?)(await mismatch.Error((HttpStatusCode)502))["reason"]);
        var missing = await Submit(s, "login", await Body(subject, "token-nonce", null));
        Assert.Equal("No nonce was provided but is required by the provider", (string?)(await missing.Error((HttpStatusCode)502))["reason"]);
        Assert.Equal(0, await IdentitiesWith(s, $"{subject}@idp.test"));

        // Google's SDKs may leave the nonce out: the google preset accepts a token without one.
        Assert.Equal(HttpStatusCode.OK, (await Submit(s, "login", await Body(subject, null, null))).StatusCode);
        Assert.Equal(1, await IdentitiesWith(s, $"{subject}@idp.test"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Only_presets_that_verify_id_tokens_accept_one_and_bad_tokens_are_refused(string provider)
    {
        var s = await fixture.Get(provider);
        var subject = NewSubject();
        var generic = await Submit(s, "login", await Body(subject, "n", "n", provider: "test-idp"));
        Assert.Equal("The provider generic does not support id_token verification", (string?)(await generic.Error((HttpStatusCode)502))["reason"]);

        var foreign = await Submit(s, "login", await Body(subject, "n", "n", claims: c => c["aud"] = "another-client"));
        var error = await foreign.Error(HttpStatusCode.Forbidden);
        Assert.Equal("Could not verify id_token", (string?)error["reason"]);
        Assert.Contains("audience", (string?)error["details"]!["error"], StringComparison.Ordinal);

        var expired = await Submit(s, "login", await Body(subject, "n", "n", claims: c => c["exp"] = fixture.Clock.GetUtcNow().AddMinutes(-1).ToUnixTimeSeconds()));
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);

        var forged = await Body(subject, "n", "n");
        var otherKey = TestOpenIdProvider.NewKey("key-1");
        var idp = await fixture.Idp();
        forged["id_token"] = idp.Sign(idp.Claims(subject, fixture.Clock.GetUtcNow(), "n"), new Microsoft.IdentityModel.Tokens.SigningCredentials(otherKey, "RS256"));
        var flow = await ApiFlow(s.Public, "login");
        Assert.Equal(HttpStatusCode.Forbidden, (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}", forged)).StatusCode);
        Assert.Equal(0, await IdentitiesWith(s, $"{subject}@idp.test"));
    }
}
