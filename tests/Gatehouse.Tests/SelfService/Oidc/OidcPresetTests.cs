using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.SelfService.Strategies.Oidc.Presets;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>
/// Kratos's provider presets against <see cref="PresetHosts"/>, a real loopback server answering at the providers' own
/// URLs: for each preset the exact authorization URL, the token request and its client authentication, the API calls
/// with their headers, and the claims the Jsonnet mapper receives (the mapper stores them as <c>metadata_admin</c>).
/// </summary>
public sealed class OidcPresetTests
{
    private const string Mapper = """
        local claims = std.extVar('claims');
        { identity: { traits: { email: claims.email }, metadata_admin: claims } }
        """;

    internal static OidcProviderOptions Provider(string id, string preset, Action<OidcProviderOptions>? extra = null)
    {
        var p = new OidcProviderOptions
        {
            Id = id, Provider = preset, ClientId = id + "-client", ClientSecret = id + "-secret",
            MapperUrl = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Mapper)),
        };
        extra?.Invoke(p);
        return p;
    }

    internal static async Task<TestServer> Server(string db, PresetHosts hosts, FakeTimeProvider? clock, params OidcProviderOptions[] providers)
    {
        // As at start-up: each entry checked against its preset (defaults filled in).
        for (var i = 0; i < providers.Length; i++) OidcPresets.Check(providers[i], $"providers[{i}]");
        return await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Selfservice.Flows.Registration.After.Oidc = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
            o.Selfservice.Methods.Oidc.Enabled = true;
            o.Selfservice.Methods.Oidc.Config.Providers = [.. providers];
        }, services =>
        {
            hosts.Install(services);
            if (clock is not null) services.AddSingleton<TimeProvider>(clock);
        });
    }

    /// <summary>Starts a browser registration and clicks the provider: the browser and where it is sent.</summary>
    internal static async Task<(Browser Browser, Uri Upstream, IReadOnlyDictionary<string, string> Query)> Click(TestServer s, string provider)
    {
        var browser = new Browser(s.PublicUrl);
        var init = await browser.Client.GetAsync("/self-service/registration/browser");
        var id = QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString();
        using var fetch = new HttpRequestMessage(HttpMethod.Get, $"/self-service/registration/flows?id={id}");
        fetch.Headers.Accept.ParseAdd("application/json");
        var flow = await (await browser.Client.SendAsync(fetch)).Json(HttpStatusCode.OK);
        var submit = await browser.PostForm($"/self-service/registration?flow={id}", [new("csrf_token", Csrf(flow)), new("provider", provider)]);
        Assert.Equal(HttpStatusCode.SeeOther, submit.StatusCode);
        var upstream = submit.Headers.Location!;
        return (browser, upstream, QueryHelpers.ParseQuery(upstream.Query).ToDictionary(k => k.Key, v => v.Value.ToString()));
    }

    /// <summary>Comes back to the callback with a code: the identity signed up and the claims its mapper received.</summary>
    internal static async Task<(JsonNode Identity, JsonObject Claims)> Return(TestServer s, Browser browser, string provider, string state, string code)
    {
        var back = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/{provider}?state={Uri.EscapeDataString(state)}&code={code}");
        return await SignedUp(s, browser, back);
    }

    internal static async Task<(JsonNode Identity, JsonObject Claims)> SignedUp(TestServer s, Browser browser, HttpResponseMessage back)
    {
        Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
        if (back.Headers.Location?.ToString() != "http://app.example.com/welcome") Assert.Fail($"not signed up; sent to {back.Headers.Location}: {await FlowMessage(browser, back)}");
        using var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        whoami.Headers.Accept.ParseAdd("application/json");
        var session = await (await browser.Client.SendAsync(whoami)).Json(HttpStatusCode.OK);
        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{session["identity"]!["id"]}?include_credential=oidc")).Json(HttpStatusCode.OK);
        return (identity, identity["metadata_admin"]!.AsObject());
    }

    /// <summary>The first message of the registration flow a failed callback went back to.</summary>
    internal static async Task<string> FlowMessage(Browser browser, HttpResponseMessage back)
    {
        var query = QueryHelpers.ParseQuery(back.Headers.Location?.Query);
        if (query.TryGetValue("id", out var error))
            return (await (await browser.Client.GetAsync($"/self-service/errors?id={error}")).Content.ReadAsStringAsync());
        if (!query.TryGetValue("flow", out var id)) return $"{back.StatusCode} {back.Headers.Location}";
        var kind = back.Headers.Location!.AbsolutePath.Contains("login", StringComparison.Ordinal) ? "login" : "registration";
        using var fetch = new HttpRequestMessage(HttpMethod.Get, $"/self-service/{kind}/flows?id={id}");
        fetch.Headers.Accept.ParseAdd("application/json");
        var flow = await (await browser.Client.SendAsync(fetch)).Json(HttpStatusCode.OK);
        return kind + ": " + ((string?)flow["ui"]!["messages"]?[0]?["text"] ?? "");
    }

    internal static async Task AssertNothingWritten(TestServer s) =>
        Assert.Empty((await (await s.AdminWithKey.GetAsync("/admin/identities")).Json(HttpStatusCode.OK)).AsArray());

    private static string Basic(string id, string secret) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}"));

    private static IResult Tokens(string expectedCode, PresetHosts.Call call, object answer) =>
        call.Form.GetValueOrDefault("code") == expectedCode ? Results.Json(answer) : Results.Json(new { error = "invalid_grant" }, statusCode: 400);

    internal static string RedirectUri(TestServer s, string id) => s.PublicUrl.TrimEnd('/') + "/self-service/methods/oidc/callback/" + id;

    private static void AssertStandardTokenForm(TestServer s, string id, string code, PresetHosts.Call token)
    {
        Assert.Equal("authorization_code", token.Form["grant_type"]);
        Assert.Equal(code, token.Form["code"]);
        Assert.Equal(RedirectUri(s, id), token.Form["redirect_uri"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Gitlab_uses_the_instance_endpoints_and_reads_userinfo_with_the_access_token(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        await using var s = await Server(db, hosts, null,
            Provider("gitlab", "gitlab", p => p.Scope = ["openid", "email"]),
            Provider("selfhosted", "gitlab", p => { p.Scope = ["read_user"]; p.IssuerUrl = "https://git.example.org/"; }));
        var (browser, upstream, q) = await Click(s, "gitlab");
        using var _ = browser;
        Assert.Equal("https://gitlab.com/oauth/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal("gitlab-client", q["client_id"]);
        Assert.Equal("openid email", q["scope"]);
        Assert.Equal("code", q["response_type"]);
        Assert.Equal(RedirectUri(s, "gitlab"), q["redirect_uri"]);
        Assert.False(q.ContainsKey("nonce"), "GitLab's ID token is not read, so no nonce is bound to it");

        hosts.On("POST https://gitlab.com/oauth/token", c => Tokens("gl-code", c, new { access_token = "gl-at", token_type = "Bearer", id_token = "not-read" }));
        hosts.On("GET https://gitlab.com/oauth/userinfo", c => c.Authorization == "Bearer gl-at"
            ? Results.Json(new { sub = "77", email = "tanuki@gitlab.test", email_verified = true, nickname = "tanuki", groups = new[] { "a" } })
            : Results.Json(new { error = "invalid_token" }, statusCode: 401));
        var (identity, claims) = await Return(s, browser, "gitlab", q["state"], "gl-code");

        var token = Assert.Single(hosts.To("POST https://gitlab.com/oauth/token"));
        Assert.Equal(Basic("gitlab-client", "gitlab-secret"), token.Authorization);
        AssertStandardTokenForm(s, "gitlab", "gl-code", token);
        Assert.False(token.Form.ContainsKey("client_secret"));
        Assert.Equal("application/json", Assert.Single(hosts.To("GET https://gitlab.com/oauth/userinfo")).Accept);
        Assert.Equal(("https://gitlab.com", "77", "tanuki"), ((string?)claims["iss"], (string?)claims["sub"], (string?)claims["nickname"]));
        Assert.Equal("a", (string?)claims["raw_claims"]!["groups"]![0]);
        Assert.Equal("gitlab:77", (string?)identity["credentials"]!["oidc"]!["identifiers"]![0]);

        // A self-managed instance: issuer_url is the base of every endpoint.
        var (other, selfhosted, _) = await Click(s, "selfhosted");
        other.Dispose();
        Assert.Equal("https://git.example.org/oauth/authorize", selfhosted.GetLeftPart(UriPartial.Path));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Microsoft_validates_the_id_token_at_its_tenant_issuer_and_takes_the_subject_from_oid_or_graph(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        var key = PresetHosts.NewKey();
        var tenant = Guid.NewGuid().ToString();
        var issuer = $"https://login.microsoftonline.com/{tenant}/v2.0";
        hosts.OpenIdIssuer(issuer, key);
        await using var s = await Server(db, hosts, null,
            Provider("entra", "microsoft", p => { p.MicrosoftTenant = "common"; p.SubjectSource = "oid"; p.Scope = ["email", "profile"]; }),
            Provider("graph", "microsoft", p => { p.MicrosoftTenant = "contoso.onmicrosoft.com"; p.SubjectSource = "me"; p.Scope = ["email", "User.Read"]; }),
            Provider("forged", "microsoft", p => p.MicrosoftTenant = "common"));

        JsonObject IdToken(string client, string nonce, string tid) => new()
        {
            ["iss"] = issuer, ["aud"] = client, ["sub"] = "pairwise-sub", ["oid"] = "00000000-0000-0000-0000-0000000000aa", ["tid"] = tid,
            ["email"] = $"ada@{client}.test", ["nonce"] = nonce, ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
        };

        var (browser, upstream, q) = await Click(s, "entra");
        using var _ = browser;
        Assert.Equal("https://login.microsoftonline.com/common/oauth2/v2.0/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal("email profile openid", q["scope"]);
        Assert.True(q["nonce"].Length > 20);
        hosts.On("POST https://login.microsoftonline.com/common/oauth2/v2.0/token", c => Tokens("ms-code", c,
            new { access_token = "ms-at", token_type = "Bearer", id_token = PresetHosts.Sign(IdToken("entra-client", q["nonce"], tenant), key) }));
        var (identity, claims) = await Return(s, browser, "entra", q["state"], "ms-code");
        var token = Assert.Single(hosts.To("POST https://login.microsoftonline.com/common/oauth2/v2.0/token"));
        Assert.Equal(Basic("entra-client", "entra-secret"), token.Authorization);
        AssertStandardTokenForm(s, "entra", "ms-code", token);
        Assert.Single(hosts.To($"GET {issuer}/.well-known/openid-configuration"));
        Assert.Single(hosts.To($"GET {issuer}/keys"));
        Assert.Equal(("00000000-0000-0000-0000-0000000000aa", issuer), ((string?)claims["sub"], (string?)claims["iss"]));
        Assert.Equal("entra:00000000-0000-0000-0000-0000000000aa", (string?)identity["credentials"]!["oidc"]!["identifiers"]![0]);

        // subject_source: me — Graph's id, read with the access token.
        var (second, graphUp, gq) = await Click(s, "graph");
        using var __ = second;
        Assert.Equal("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize", graphUp.GetLeftPart(UriPartial.Path));
        hosts.On("POST https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token", c => Tokens("g-code", c,
            new { access_token = "graph-at", token_type = "Bearer", id_token = PresetHosts.Sign(IdToken("graph-client", gq["nonce"], tenant), key) }));
        hosts.On("GET https://graph.microsoft.com/v1.0/me", c => c.Authorization == "Bearer graph-at" ? Results.Json(new { id = "graph-id-1" }) : Results.StatusCode(401));
        var graphClaims = (await SignedUp(s, second, await second.Client.GetAsync($"/self-service/methods/oidc/callback/graph?state={Uri.EscapeDataString(gq["state"])}&code=g-code"))).Claims;
        Assert.Equal("graph-id-1", (string?)graphClaims["sub"]);
        Assert.Single(hosts.To("GET https://graph.microsoft.com/v1.0/me"));
        Assert.Single(hosts.To($"GET {issuer}/.well-known/openid-configuration"));

        // A tid that is no UUID could point the key lookup anywhere: refused, nothing written.
        var (third, _, fq) = await Click(s, "forged");
        using var ___ = third;
        hosts.On("POST https://login.microsoftonline.com/common/oauth2/v2.0/token", c => Tokens("f-code", c,
            new { access_token = "f-at", token_type = "Bearer", id_token = PresetHosts.Sign(IdToken("forged-client", fq["nonce"], "evil.example/x"), key) }));
        var back = await third.Client.GetAsync($"/self-service/methods/oidc/callback/forged?state={Uri.EscapeDataString(fq["state"])}&code=f-code");
        Assert.Contains("tenant (tid) claim is not a valid UUID", await FlowMessage(third, back), StringComparison.Ordinal);
        Assert.Equal(2, (await (await s.AdminWithKey.GetAsync("/admin/identities")).Json(HttpStatusCode.OK)).AsArray().Count);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Discord_is_plain_oauth2_with_its_user_api_and_checks_the_granted_scopes(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        await using var s = await Server(db, hosts, null, Provider("discord", "discord", p => p.Scope = ["identify", "email"]));
        var (browser, upstream, q) = await Click(s, "discord");
        using var _ = browser;
        Assert.Equal("https://discord.com/api/v9/oauth2/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal(("identify email", "none"), (q["scope"], q["prompt"]));
        Assert.False(q.ContainsKey("nonce"));
        hosts.On("POST https://discord.com/api/v9/oauth2/token", c => Tokens("d-code", c, new { access_token = "d-at", token_type = "Bearer", scope = "email identify" }));
        hosts.On("GET https://discord.com/api/v9/users/@me", c => c.Authorization == "Bearer d-at"
            ? Results.Json(new { id = "80351110224678912", username = "nelly", discriminator = "1337", avatar = "a_8342729096ea3675442027381ff50dfe", email = "nelly@discord.test", verified = true, locale = "en-US" })
            : Results.StatusCode(401));
        var (_, claims) = await Return(s, browser, "discord", q["state"], "d-code");
        Assert.Equal(Basic("discord-client", "discord-secret"), Assert.Single(hosts.To("POST https://discord.com/api/v9/oauth2/token")).Authorization);
        Assert.Equal(JsonNode.Parse("""
            {"iss":"https://discord.com/api/v9/oauth2/","sub":"80351110224678912","name":"nelly#1337","nickname":"nelly","preferred_username":"nelly",
             "picture":"https://cdn.discordapp.com/avatars/80351110224678912/a_8342729096ea3675442027381ff50dfe.gif","email":"nelly@discord.test","email_verified":true,"locale":"en-US"}
            """), Without(claims, "raw_claims"), JsonNode.DeepEquals);

        // The user allowed "identify" only: refused, nothing written.
        var (other, _, oq) = await Click(s, "discord");
        using var __ = other;
        hosts.On("POST https://discord.com/api/v9/oauth2/token", c => Results.Json(new { access_token = "d-at2", token_type = "Bearer", scope = "identify" }));
        var back = await other.Client.GetAsync($"/self-service/methods/oidc/callback/discord?state={Uri.EscapeDataString(oq["state"])}&code=x");
        Assert.Contains("Discord did not grant the scope \"email\"", await FlowMessage(other, back), StringComparison.Ordinal);
        Assert.Single((await (await s.AdminWithKey.GetAsync("/admin/identities")).Json(HttpStatusCode.OK)).AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Slack_uses_oauth_v1_and_users_identity_with_the_team(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        await using var s = await Server(db, hosts, null, Provider("slack", "slack", p => p.Scope = ["identity.basic", "identity.email"]));
        var (browser, upstream, q) = await Click(s, "slack");
        using var _ = browser;
        Assert.Equal("https://slack.com/oauth/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal("identity.basic identity.email", q["scope"]);
        Assert.False(q.ContainsKey("nonce") || q.ContainsKey("prompt"));
        hosts.On("POST https://slack.com/api/oauth.access", c => Tokens("s-code", c, new { ok = true, access_token = "xoxp-1", scope = "identity.basic,identity.email" }));
        var identityAnswer = new { ok = true, user = new { name = "Sonny Whether", id = "U0G9QF9C6", email = "sonny@slack.test", image_512 = "https://slack.test/512.png" }, team = new { id = "T0G9PQBBK" } };
        hosts.On("GET https://slack.com/api/users.identity", c => c.Authorization == "Bearer xoxp-1" ? Results.Json(identityAnswer) : Results.Json(new { ok = false, error = "invalid_auth" }));
        var (_, claims) = await Return(s, browser, "slack", q["state"], "s-code");
        var token = Assert.Single(hosts.To("POST https://slack.com/api/oauth.access"));
        Assert.Equal(Basic("slack-client", "slack-secret"), token.Authorization);
        AssertStandardTokenForm(s, "slack", "s-code", token);
        Assert.Equal(JsonNode.Parse("""
            {"iss":"https://slack.com/oauth/","sub":"U0G9QF9C6","name":"Sonny Whether","preferred_username":"Sonny Whether","nickname":"Sonny Whether",
             "email":"sonny@slack.test","email_verified":true,"picture":"https://slack.test/512.png","team":"T0G9PQBBK"}
            """), Without(claims, "raw_claims"), JsonNode.DeepEquals);

        // Slack's Web API says no with 200 and ok: false.
        var (other, _, oq) = await Click(s, "slack");
        using var __ = other;
        hosts.On("POST https://slack.com/api/oauth.access", c => Results.Json(new { ok = true, access_token = "xoxp-revoked", scope = "identity.basic,identity.email" }));
        var back = await other.Client.GetAsync($"/self-service/methods/oidc/callback/slack?state={Uri.EscapeDataString(oq["state"])}&code=x");
        Assert.Contains("invalid_auth", await FlowMessage(other, back), StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Facebook_reads_the_graph_api_with_an_appsecret_proof(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        await using var s = await Server(db, hosts, null, Provider("facebook", "facebook", p => p.Scope = ["email", "public_profile"]));
        var (browser, upstream, q) = await Click(s, "facebook");
        using var _ = browser;
        Assert.Equal("https://facebook.com/dialog/oauth", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal("email public_profile openid", q["scope"]);
        Assert.False(q.ContainsKey("nonce"));
        hosts.On("POST https://graph.facebook.com/oauth/access_token", c => Tokens("f-code", c, new { access_token = "EAAB-token", token_type = "bearer", expires_in = 5183944 }));
        hosts.On("GET https://graph.facebook.com/me", c => c.Authorization == "Bearer EAAB-token"
            ? Results.Json(new { id = "10158", name = "Fay Book", first_name = "Fay", last_name = "Book", email = "fay@fb.test", picture = new { data = new { url = "https://fb.test/p.jpg" } }, birthday = "01/02/1990", gender = "female" })
            : Results.StatusCode(401));
        var (_, claims) = await Return(s, browser, "facebook", q["state"], "f-code");
        Assert.Equal(Basic("facebook-client", "facebook-secret"), Assert.Single(hosts.To("POST https://graph.facebook.com/oauth/access_token")).Authorization);
        var me = Assert.Single(hosts.To("GET https://graph.facebook.com/me"));
        var expectedProof = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("facebook-secret"), Encoding.UTF8.GetBytes("EAAB-token")));
        Assert.Equal(expectedProof, me.Query["appsecret_proof"]);
        Assert.Equal("id,name,first_name,last_name,middle_name,email,picture,birthday,gender", me.Query["fields"]);
        Assert.Equal(JsonNode.Parse("""
            {"iss":"https://graph.facebook.com/me?fields=id,name,first_name,last_name,middle_name,email,picture,birthday,gender","sub":"10158",
             "nickname":"Fay Book","preferred_username":"Fay Book","name":"Fay Book","given_name":"Fay","family_name":"Book","gender":"female",
             "birthdate":"01/02/1990","picture":"https://fb.test/p.jpg","email":"fay@fb.test","email_verified":true}
            """), Without(claims, "raw_claims"), JsonNode.DeepEquals);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Auth0_reads_userinfo_and_turns_a_textual_updated_at_into_seconds(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        await using var s = await Server(db, hosts, null, Provider("auth0", "auth0", p => { p.IssuerUrl = "https://tenant.eu.auth0.test/"; p.Scope = ["openid", "email"]; }));
        var (browser, upstream, q) = await Click(s, "auth0");
        using var _ = browser;
        Assert.Equal("https://tenant.eu.auth0.test/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal("openid email", q["scope"]);
        hosts.On("POST https://tenant.eu.auth0.test/oauth/token", c => Tokens("a-code", c, new { access_token = "a0-at", token_type = "Bearer" }));
        hosts.On("GET https://tenant.eu.auth0.test/userinfo", c => c.Authorization == "Bearer a0-at"
            ? Results.Json(new { sub = "auth0|42", email = "zero@auth0.test", email_verified = true, updated_at = "2026-03-04T05:06:07.000Z" })
            : Results.StatusCode(401));
        var (_, claims) = await Return(s, browser, "auth0", q["state"], "a-code");
        Assert.Equal(Basic("auth0-client", "auth0-secret"), Assert.Single(hosts.To("POST https://tenant.eu.auth0.test/oauth/token")).Authorization);
        Assert.Equal(("auth0|42", "https://tenant.eu.auth0.test/"), ((string?)claims["sub"], (string?)claims["iss"]));
        Assert.Equal(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero).ToUnixTimeSeconds(), (long)claims["updated_at"]!);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Salesforce_reads_userinfo_at_the_org_and_turns_a_textual_updated_at_into_seconds(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        await using var s = await Server(db, hosts, null, Provider("salesforce", "salesforce", p => { p.IssuerUrl = "https://acme.my.salesforce.test"; p.Scope = ["openid", "email"]; }));
        var (browser, upstream, q) = await Click(s, "salesforce");
        using var _ = browser;
        Assert.Equal("https://acme.my.salesforce.test/services/oauth2/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal("openid email", q["scope"]);
        Assert.False(q.ContainsKey("nonce"), "Salesforce's ID token is not read, so no nonce is bound to it");
        hosts.On("POST https://acme.my.salesforce.test/services/oauth2/token", c => Tokens("sf-code", c, new { access_token = "sf-at", token_type = "Bearer", instance_url = "https://acme.my.salesforce.test" }));
        hosts.On("GET https://acme.my.salesforce.test/services/oauth2/userinfo", c => c.Authorization == "Bearer sf-at"
            ? Results.Json(new { sub = "https://login.salesforce.com/id/00D/005", user_id = "005", email = "cloud@salesforce.test", email_verified = true, updated_at = "2026-01-02T03:04:05Z" })
            : Results.StatusCode(401));
        var (identity, claims) = await Return(s, browser, "salesforce", q["state"], "sf-code");
        var token = Assert.Single(hosts.To("POST https://acme.my.salesforce.test/services/oauth2/token"));
        Assert.Equal(Basic("salesforce-client", "salesforce-secret"), token.Authorization);
        AssertStandardTokenForm(s, "salesforce", "sf-code", token);
        Assert.Equal(("https://login.salesforce.com/id/00D/005", "https://acme.my.salesforce.test"), ((string?)claims["sub"], (string?)claims["iss"]));
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).ToUnixTimeSeconds(), (long)claims["updated_at"]!);
        Assert.Equal("salesforce:https://login.salesforce.com/id/00D/005", (string?)identity["credentials"]!["oidc"]!["identifiers"]![0]);

        // An updated_at that is no time: refused, nothing more written.
        var (other, _, oq) = await Click(s, "salesforce");
        using var __ = other;
        hosts.On("GET https://acme.my.salesforce.test/services/oauth2/userinfo", _ => Results.Json(new { sub = "x", email = "x@salesforce.test", updated_at = "yesterday" }));
        var back = await other.Client.GetAsync($"/self-service/methods/oidc/callback/salesforce?state={Uri.EscapeDataString(oq["state"])}&code=sf-code");
        Assert.Contains("updated_at that is no RFC 3339 time", await FlowMessage(other, back), StringComparison.Ordinal);
        Assert.Single((await (await s.AdminWithKey.GetAsync("/admin/identities")).Json(HttpStatusCode.OK)).AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Netid_validates_the_brokers_id_token_and_reads_userinfo_for_the_other_claims(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        var key = PresetHosts.NewKey();
        const string Broker = "https://broker.netid.de";
        hosts.OpenIdIssuer(Broker, key);
        // Kratos always uses the broker, whatever issuer_url says.
        await using var s = await Server(db, hosts, null, Provider("netid", "netid", p => { p.IssuerUrl = "https://elsewhere.example"; p.Scope = ["email"]; }));
        var (browser, upstream, q) = await Click(s, "netid");
        using var _ = browser;
        Assert.Equal(Broker + "/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal("email openid", q["scope"]);
        Assert.True(q["nonce"].Length > 20);
        JsonObject IdToken(string nonce) => new()
        {
            ["iss"] = Broker, ["aud"] = "netid-client", ["sub"] = "netid-sub-1", ["nonce"] = nonce,
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
        };
        hosts.On("POST https://broker.netid.de/token", c => Tokens("n-code", c, new { access_token = "n-at", token_type = "Bearer", id_token = PresetHosts.Sign(IdToken(q["nonce"]), key) }));
        hosts.On("GET https://broker.netid.de/userinfo", c => c.Authorization == "Bearer n-at"
            ? Results.Json(new { sub = "userinfo-says-otherwise", email = "net@netid.test", email_verified = true, given_name = "Net" })
            : Results.StatusCode(401));
        var (identity, claims) = await Return(s, browser, "netid", q["state"], "n-code");
        var token = Assert.Single(hosts.To("POST https://broker.netid.de/token"));
        Assert.Equal(Basic("netid-client", "netid-secret"), token.Authorization);
        AssertStandardTokenForm(s, "netid", "n-code", token);
        Assert.Equal(("netid-sub-1", Broker, "Net", "net@netid.test"), ((string?)claims["sub"], (string?)claims["iss"], (string?)claims["given_name"], (string?)claims["email"]));
        Assert.Equal("netid:netid-sub-1", (string?)identity["credentials"]!["oidc"]!["identifiers"]![0]);

        // An ID token for another nonce: refused, userinfo not asked, nothing more written.
        var (other, _, oq) = await Click(s, "netid");
        using var __ = other;
        hosts.On("POST https://broker.netid.de/token", c => Results.Json(new { access_token = "n-at", token_type = "Bearer", id_token = PresetHosts.Sign(IdToken("another-nonce"), key) }));
        var back = await other.Client.GetAsync($"/self-service/methods/oidc/callback/netid?state={Uri.EscapeDataString(oq["state"])}&code=n-code");
        Assert.DoesNotContain("welcome", back.Headers.Location?.ToString() ?? "", StringComparison.Ordinal);
        Assert.Single(hosts.To("GET https://broker.netid.de/userinfo"));
        Assert.Single((await (await s.AdminWithKey.GetAsync("/admin/identities")).Json(HttpStatusCode.OK)).AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Line_is_openid_connect_at_access_line_me_and_asks_for_a_jwk_signed_id_token(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        var key = PresetHosts.NewKey();
        const string Issuer = "https://access.line.me";
        hosts.OpenIdIssuer(Issuer, key, Issuer + "/oauth2/v2.1/authorize", "https://api.line.me/oauth2/v2.1/token");
        await using var s = await Server(db, hosts, null, Provider("line", "line", p => p.Scope = ["profile", "email"]));
        var (browser, upstream, q) = await Click(s, "line");
        using var _ = browser;
        Assert.Equal(Issuer + "/oauth2/v2.1/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal("profile email openid", q["scope"]);
        Assert.True(q["nonce"].Length > 20);
        hosts.On("POST https://api.line.me/oauth2/v2.1/token", c => Tokens("l-code", c, new
        {
            access_token = "l-at", token_type = "Bearer",
            id_token = PresetHosts.Sign(new JsonObject
            {
                ["iss"] = Issuer, ["aud"] = "line-client", ["sub"] = "U4af4980629", ["name"] = "Brown", ["email"] = "brown@line.test", ["nonce"] = q["nonce"],
                ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
            }, key),
        }));
        var (identity, claims) = await Return(s, browser, "line", q["state"], "l-code");
        var token = Assert.Single(hosts.To("POST https://api.line.me/oauth2/v2.1/token"));
        AssertStandardTokenForm(s, "line", "l-code", token);
        Assert.Equal("JWK", token.Form["id_token_key_type"]);
        Assert.Equal(Basic("line-client", "line-secret"), token.Authorization);
        Assert.Equal(("U4af4980629", Issuer, "Brown"), ((string?)claims["sub"], (string?)claims["iss"], (string?)claims["name"]));
        Assert.Equal("line:U4af4980629", (string?)identity["credentials"]!["oidc"]!["identifiers"]![0]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Vk_reads_users_get_and_takes_the_email_from_the_token_response(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        await using var s = await Server(db, hosts, null, Provider("vk", "vk", p => p.Scope = ["email"]));
        var (browser, upstream, q) = await Click(s, "vk");
        using var _ = browser;
        Assert.Equal("https://oauth.vk.com/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal("email", q["scope"]);
        Assert.False(q.ContainsKey("nonce") || q.ContainsKey("prompt"));
        hosts.On("POST https://oauth.vk.com/access_token", c => Tokens("v-code", c, new { access_token = "vk-at", expires_in = 86400, user_id = 210700286, email = "ivan@vk.test" }));
        hosts.On("GET https://api.vk.com/method/users.get", c => c.Query.GetValueOrDefault("access_token") == "vk-at" && c.Query.GetValueOrDefault("v") == "5.103"
            ? Results.Json(new { response = new[] { new { id = 210700286, first_name = "Ivan", last_name = "Petrov", nickname = "ivan", photo_200 = "https://vk.test/200.jpg", sex = 2, bdate = "1.2.1990" } } })
            : Results.Json(new { error = new { error_code = 5 } }));
        var (_, claims) = await Return(s, browser, "vk", q["state"], "v-code");
        var call = Assert.Single(hosts.To("GET https://api.vk.com/method/users.get"));
        Assert.Equal("photo_200,nickname,bdate,sex", call.Query["fields"]);
        Assert.Equal(Basic("vk-client", "vk-secret"), Assert.Single(hosts.To("POST https://oauth.vk.com/access_token")).Authorization);
        Assert.Equal(JsonNode.Parse("""
            {"iss":"https://api.vk.com/method/users.get","sub":"210700286","given_name":"Ivan","family_name":"Petrov","nickname":"ivan",
             "picture":"https://vk.test/200.jpg","birthdate":"1.2.1990","email":"ivan@vk.test","gender":"male"}
            """), Without(claims, "raw_claims"), JsonNode.DeepEquals);

        // VK answering no user: refused, nothing more written.
        var (other, _, oq) = await Click(s, "vk");
        using var __ = other;
        hosts.On("GET https://api.vk.com/method/users.get", _ => Results.Json(new { response = Array.Empty<object>() }));
        var back = await other.Client.GetAsync($"/self-service/methods/oidc/callback/vk?state={Uri.EscapeDataString(oq["state"])}&code=v-code");
        Assert.Contains("VK did not return a user", await FlowMessage(other, back), StringComparison.Ordinal);
        Assert.Single((await (await s.AdminWithKey.GetAsync("/admin/identities")).Json(HttpStatusCode.OK)).AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Lark_posts_its_client_in_the_form_and_reads_the_open_id_from_userinfo(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        await using var s = await Server(db, hosts, null, Provider("lark", "lark"));
        var (browser, upstream, q) = await Click(s, "lark");
        using var _ = browser;
        Assert.Equal("https://passport.feishu.cn/suite/passport/oauth/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.False(q.ContainsKey("nonce") || q.ContainsKey("prompt"));
        hosts.On("POST https://passport.feishu.cn/suite/passport/oauth/token", c => Tokens("lk-code", c, new { access_token = "lk-at", token_type = "Bearer" }));
        hosts.On("GET https://passport.feishu.cn/suite/passport/oauth/userinfo", c => c.Authorization == "Bearer lk-at"
            ? Results.Json(new { sub = "ignored", open_id = "ou_1", union_id = "on_1", name = "Li Lei", avatar_url = "https://lark.test/a.png", email = "lilei@lark.test", mobile = "+8613800000000" })
            : Results.StatusCode(401));
        var (_, claims) = await Return(s, browser, "lark", q["state"], "lk-code");
        var token = Assert.Single(hosts.To("POST https://passport.feishu.cn/suite/passport/oauth/token"));
        Assert.Equal("", token.Authorization);
        Assert.Equal(("lark-client", "lark-secret"), (token.Form["client_id"], token.Form["client_secret"]));
        AssertStandardTokenForm(s, "lark", "lk-code", token);
        Assert.Equal(JsonNode.Parse("""
            {"iss":"https://passport.feishu.cn/suite/passport/oauth/userinfo","sub":"ou_1","name":"Li Lei","nickname":"Li Lei",
             "picture":"https://lark.test/a.png","email":"lilei@lark.test","phone_number":"+8613800000000"}
            """), Without(claims, "raw_claims"), JsonNode.DeepEquals);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Uaepass_forces_pkce_sends_its_acr_and_maps_the_english_profile(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        await using var s = await Server(db, hosts, null,
            Provider("uaepass", "uaepass", p => p.Scope = ["urn:uae:digitalid:profile:general", "openid"]),
            Provider("staging", "uaepass", p => p.IssuerUrl = "https://stg-id.uaepass.ae/"));
        var (browser, upstream, q) = await Click(s, "uaepass");
        using var _ = browser;
        Assert.Equal("https://id.uaepass.ae/idshub/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal(UaePassPreset.WebAcr, q["acr_values"]);
        Assert.Equal("S256", q["code_challenge_method"]);
        Assert.False(q.ContainsKey("nonce"));
        hosts.On("POST https://id.uaepass.ae/idshub/token", c => Tokens("u-code", c, new { access_token = "u-at", token_type = "Bearer" }));
        hosts.On("GET https://id.uaepass.ae/idshub/userinfo", c => c.Authorization == "Bearer u-at"
            ? Results.Json(new { sub = "UAEPASS-1", email = "salem@uaepass.test", fullnameEN = "Salem Ali", firstnameEN = "Salem", lastnameEN = "Ali", userType = "SOP3", uuid = "u-1" })
            : Results.StatusCode(401));
        var (identity, claims) = await Return(s, browser, "uaepass", q["state"], "u-code");
        var token = Assert.Single(hosts.To("POST https://id.uaepass.ae/idshub/token"));
        Assert.Equal(Basic("uaepass-client", "uaepass-secret"), token.Authorization);
        AssertStandardTokenForm(s, "uaepass", "u-code", token);
        Assert.True(token.Form["code_verifier"].Length >= 43, "pkce auto is forced for UAE PASS");
        Assert.Equal(("UAEPASS-1", "https://id.uaepass.ae", "Salem Ali", "Salem", "Ali"),
            ((string?)claims["sub"], (string?)claims["iss"], (string?)claims["name"], (string?)claims["given_name"], (string?)claims["last_name"]));
        Assert.Equal("SOP3", (string?)claims["raw_claims"]!["userType"]);
        Assert.Equal("uaepass:UAEPASS-1", (string?)identity["credentials"]!["oidc"]!["identifiers"]![0]);

        // The staging environment, from issuer_url.
        var (other, staging, _) = await Click(s, "staging");
        other.Dispose();
        Assert.Equal("https://stg-id.uaepass.ae/idshub/authorize", staging.GetLeftPart(UriPartial.Path));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Github_app_reads_the_user_and_always_its_emails(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        await using var s = await Server(db, hosts, null, Provider("ghapp", "github-app"));
        var (browser, upstream, q) = await Click(s, "ghapp");
        using var _ = browser;
        Assert.Equal("https://github.com/login/oauth/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.False(q.ContainsKey("nonce") || q.ContainsKey("prompt"));
        // A GitHub App's user token has no scopes: nothing is required of the granted scope.
        hosts.On("POST https://github.com/login/oauth/access_token", c => Tokens("gh-code", c, new { access_token = "ghu_1", token_type = "bearer", scope = "" }));
        hosts.On("GET https://api.github.com/user", c => c.Authorization == "Bearer ghu_1"
            ? Results.Json(new { id = 583231, login = "octocat", name = "The Octocat", blog = "https://github.blog", avatar_url = "https://avatars.test/583231", html_url = "https://github.com/octocat", updated_at = "2026-02-03T04:05:06Z" })
            : Results.StatusCode(401));
        hosts.On("GET https://api.github.com/user/emails", c => c.Authorization == "Bearer ghu_1"
            ? Results.Json(new object[] { new { email = "old@github.test", primary = false, verified = false }, new { email = "octo@github.test", primary = true, verified = true } })
            : Results.StatusCode(401));
        var (_, claims) = await Return(s, browser, "ghapp", q["state"], "gh-code");
        var token = Assert.Single(hosts.To("POST https://github.com/login/oauth/access_token"));
        Assert.Equal(("ghapp-client", "ghapp-secret"), (token.Form["client_id"], token.Form["client_secret"]));
        var user = Assert.Single(hosts.To("GET https://api.github.com/user"));
        Assert.Equal("application/vnd.github+json", user.Accept);
        Assert.StartsWith("Gatehouse", user.UserAgent, StringComparison.Ordinal);
        Assert.Equal(JsonNode.Parse("""
            {"iss":"https://github.com/login/oauth/access_token","sub":"583231","name":"The Octocat","nickname":"octocat","website":"https://github.blog",
             "picture":"https://avatars.test/583231","profile":"https://github.com/octocat","updated_at":1770091506,"email":"octo@github.test","email_verified":true}
            """), Without(claims, "raw_claims"), JsonNode.DeepEquals);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Apple_signs_its_client_secret_posts_the_answer_and_passes_the_first_sign_ins_name(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var idpKey = PresetHosts.NewKey();
        hosts.OpenIdIssuer("https://appleid.apple.com", idpKey, "https://appleid.apple.com/auth/authorize", "https://appleid.apple.com/auth/token");
        using var appleKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var s = await Server(db, hosts, clock, Provider("apple", "apple", p =>
        {
            p.ClientSecret = null;
            p.ClientId = "com.example.web";
            p.Scope = ["email", "name"];
            p.AppleTeamId = "TEAM123456";
            p.ApplePrivateKeyId = "KEY1234567";
            p.ApplePrivateKey = appleKey.ExportPkcs8PrivateKeyPem();
        }));

        var secrets = new List<string>();
        async Task<(JsonNode Identity, JsonObject Claims)> SignIn(string sub, string? user)
        {
            var (browser, upstream, q) = await Click(s, "apple");
            using var _ = browser;
            Assert.Equal("https://appleid.apple.com/auth/authorize", upstream.GetLeftPart(UriPartial.Path));
            Assert.Equal(("form_post", "email name openid"), (q["response_mode"], q["scope"]));
            var code = "apple-" + Guid.NewGuid().ToString("N");
            var now = clock.GetUtcNow();
            hosts.On("POST https://appleid.apple.com/auth/token", c => Tokens(code, c, new
            {
                access_token = "apple-at", token_type = "Bearer", id_token = PresetHosts.Sign(new JsonObject
                {
                    ["iss"] = "https://appleid.apple.com", ["aud"] = "com.example.web", ["sub"] = sub, ["nonce"] = q["nonce"], ["email"] = $"{sub}@privaterelay.appleid.test",
                    ["email_verified"] = "true", ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = now.AddMinutes(10).ToUnixTimeSeconds(),
                }, idpKey),
            }));
            // Apple posts the answer (response_mode=form_post); Gatehouse redirects the browser to the GET with its cookies.
            var form = new List<KeyValuePair<string, string>> { new("state", q["state"]), new("code", code) };
            if (user is not null) form.Add(new("user", user));
            var posted = await browser.PostForm("/self-service/methods/oidc/callback/apple", form);
            Assert.True(posted.StatusCode is HttpStatusCode.SeeOther or HttpStatusCode.Found, $"{posted.StatusCode}");
            var back = await browser.Client.GetAsync(posted.Headers.Location);
            var token = hosts.To("POST https://appleid.apple.com/auth/token")[^1];
            Assert.Equal("", token.Authorization);
            Assert.Equal("com.example.web", token.Form["client_id"]);
            secrets.Add(token.Form["client_secret"]);
            if (back.Headers.Location?.ToString() == "http://app.example.com/welcome") return await SignedUp(s, browser, back);
            Assert.Fail($"not signed in: {back.StatusCode} {back.Headers.Location} {await FlowMessage(browser, back)}");
            return default;
        }

        var (_, claims) = await SignIn("000123.apple", """{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"x@privaterelay.appleid.test"}""");
        Assert.Equal(("Ada", "Lovelace", "Lovelace", true), ((string?)claims["given_name"], (string?)claims["family_name"], (string?)claims["last_name"], (bool)claims["email_verified"]!));

        // The client secret: ES256 by the configured key, iss the team, sub the client, aud Apple, five minutes.
        var secret = new JsonWebToken(secrets[0]);
        Assert.Equal(("ES256", "KEY1234567"), (secret.Alg, secret.Kid));
        Assert.Equal(("TEAM123456", "com.example.web", "https://appleid.apple.com"), (secret.Issuer, secret.Subject, Assert.Single(secret.Audiences)));
        Assert.Equal(TimeSpan.FromMinutes(5), secret.ValidTo - secret.IssuedAt);
        var verified = await new JsonWebTokenHandler().ValidateTokenAsync(secrets[0], new TokenValidationParameters
        {
            ValidIssuer = "TEAM123456", ValidAudience = "https://appleid.apple.com", IssuerSigningKey = new ECDsaSecurityKey(appleKey), ValidateLifetime = false,
        });
        Assert.True(verified.IsValid, verified.Exception?.Message);

        // Reused while it has more than a minute left; a fresh one after.
        clock.Advance(TimeSpan.FromMinutes(3));
        await SignIn("000456.apple", null);
        Assert.Equal(secrets[0], secrets[1]);
        clock.Advance(TimeSpan.FromMinutes(1.5));
        var (_, later) = await SignIn("000789.apple", null);
        Assert.NotEqual(secrets[0], secrets[2]);
        Assert.Null(later["given_name"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Spotify_patreon_yandex_amazon_and_linkedin_send_their_requests_and_map_their_accounts(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        var linkedInKey = PresetHosts.NewKey();
        hosts.OpenIdIssuer("https://www.linkedin.com/oauth", linkedInKey, "https://www.linkedin.com/oauth/v2/authorization", "https://www.linkedin.com/oauth/v2/accessToken");
        await using var s = await Server(db, hosts, null,
            Provider("spotify", "spotify", p => p.Scope = ["user-read-email"]),
            Provider("patreon", "patreon", p => p.Scope = ["identity", "identity[email]"]),
            Provider("yandex", "yandex", p => p.Scope = ["login:email"]),
            Provider("amazon", "amazon", p => { p.Scope = ["profile"]; p.Pkce = "force"; }),
            Provider("linkedin", "linkedin_v2", p => p.Scope = ["email", "profile"]));

        async Task<(JsonObject Claims, IReadOnlyDictionary<string, string> Query, Uri Upstream)> SignUp(string id, string token, Func<IReadOnlyDictionary<string, string>, object>? answer = null)
        {
            var (browser, upstream, q) = await Click(s, id);
            using var _ = browser;
            hosts.On(token, c => Tokens(id + "-code", c, answer?.Invoke(q) ?? new { access_token = id + "-at", token_type = "Bearer", scope = "user-read-email" }));
            var (_, claims) = await Return(s, browser, id, q["state"], id + "-code");
            var call = Assert.Single(hosts.To(token));
            Assert.Equal(Basic(id + "-client", id + "-secret"), call.Authorization);
            AssertStandardTokenForm(s, id, id + "-code", call);
            return (Without(claims, "raw_claims"), q, upstream);
        }

        hosts.On("GET https://api.spotify.com/v1/me", c => c.Authorization == "Bearer spotify-at"
            ? Results.Json(new { id = "wizzler", display_name = "JM Wizzler", email = "wiz@spotify.test", images = new[] { new { url = "https://i.scdn.test/1.jpg" } }, external_urls = new { spotify = "https://open.spotify.test/user/wizzler" } })
            : Results.StatusCode(401));
        var spotify = await SignUp("spotify", "POST https://accounts.spotify.com/api/token");
        Assert.Equal("https://accounts.spotify.com/authorize", spotify.Upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal(JsonNode.Parse("""
            {"sub":"wizzler","iss":"https://accounts.spotify.com/api/token","name":"JM Wizzler","nickname":"JM Wizzler","email":"wiz@spotify.test",
             "picture":"https://i.scdn.test/1.jpg","profile":"https://open.spotify.test/user/wizzler"}
            """), spotify.Claims, JsonNode.DeepEquals);

        hosts.On("GET https://www.patreon.com/api/oauth2/v2/identity", c => c.Authorization == "Bearer patreon-at"
            ? Results.Json(new { data = new { id = "3141", type = "user", attributes = new { full_name = "Pat Reon", first_name = "Pat", last_name = "Reon", email = "pat@patreon.test", image_url = "https://c8.patreon.test/p.png" } } })
            : Results.StatusCode(401));
        var patreon = await SignUp("patreon", "POST https://www.patreon.com/api/oauth2/token");
        Assert.Equal(("https://www.patreon.com/oauth2/authorize", "none"), (patreon.Upstream.GetLeftPart(UriPartial.Path), patreon.Query["prompt"]));
        Assert.Equal("first_name,last_name,url,full_name,email,image_url", Assert.Single(hosts.To("GET https://www.patreon.com/api/oauth2/v2/identity")).Query["fields[user]"]);
        Assert.Equal(JsonNode.Parse("""
            {"iss":"https://www.patreon.com/","sub":"3141","name":"Pat Reon","email":"pat@patreon.test","given_name":"Pat","family_name":"Reon","last_name":"Reon","picture":"https://c8.patreon.test/p.png"}
            """), patreon.Claims, JsonNode.DeepEquals);

        hosts.On("GET https://login.yandex.ru/info", c => c.Authorization == "OAuth yandex-at"
            ? Results.Json(new { id = "1000034426", first_name = "Ivan", last_name = "Ivanov", default_email = "ivan@yandex.test", default_avatar_id = "131652443", is_avatar_empty = false, sex = "male", birthday = "1987-03-12" })
            : Results.StatusCode(401));
        var yandex = await SignUp("yandex", "POST https://oauth.yandex.com/token");
        Assert.Equal("https://oauth.yandex.com/authorize", yandex.Upstream.GetLeftPart(UriPartial.Path));
        var info = Assert.Single(hosts.To("GET https://login.yandex.ru/info"));
        Assert.Equal("json", info.Query["format"]);
        Assert.False(info.Query.ContainsKey("oauth_token"), "the token stays out of the URL");
        Assert.Equal(JsonNode.Parse("""
            {"iss":"https://login.yandex.ru/info","sub":"1000034426","given_name":"Ivan","family_name":"Ivanov","email":"ivan@yandex.test","gender":"male",
             "birthdate":"1987-03-12","picture":"https://avatars.yandex.net/get-yapic/131652443/islands-200"}
            """), yandex.Claims, JsonNode.DeepEquals);

        hosts.On("GET https://api.amazon.com/user/profile", c => c.Authorization == "Bearer amazon-at"
            ? Results.Json(new { user_id = "amzn1.account.K2LI23KL2LK2", email = "jeff@amazon.test", name = "Jeff", postal_code = "98101" })
            : Results.StatusCode(401));
        var amazon = await SignUp("amazon", "POST https://api.amazon.com/auth/o2/token");
        Assert.Equal(("https://www.amazon.com/ap/oa", "S256"), (amazon.Upstream.GetLeftPart(UriPartial.Path), amazon.Query["code_challenge_method"]));
        Assert.True(hosts.To("POST https://api.amazon.com/auth/o2/token")[0].Form["code_verifier"].Length >= 43, "pkce: force sends the verifier");
        Assert.Equal("amazon-at", Assert.Single(hosts.To("GET https://api.amazon.com/user/profile")).Headers["x-amz-access-token"]);
        Assert.Equal(JsonNode.Parse("""
            {"iss":"https://api.amazon.com/auth/o2/token","sub":"amzn1.account.K2LI23KL2LK2","name":"Jeff","email":"jeff@amazon.test","zoneinfo":"98101"}
            """), amazon.Claims, JsonNode.DeepEquals);

        var linkedIn = await SignUp("linkedin", "POST https://www.linkedin.com/oauth/v2/accessToken", q => new
        {
            access_token = "li-at", token_type = "Bearer", id_token = PresetHosts.Sign(new JsonObject
            {
                ["iss"] = "https://www.linkedin.com/oauth", ["aud"] = "linkedin-client", ["sub"] = "li-782bbtaQ", ["nonce"] = q["nonce"], ["email"] = "li@linkedin.test",
                ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
            }, linkedInKey),
        });
        Assert.Equal(("https://www.linkedin.com/oauth/v2/authorization", "email profile openid"), (linkedIn.Upstream.GetLeftPart(UriPartial.Path), linkedIn.Query["scope"]));
        Assert.Equal(("li-782bbtaQ", "https://www.linkedin.com/oauth"), ((string?)linkedIn.Claims["sub"], (string?)linkedIn.Claims["iss"]));
    }

    internal static JsonObject Without(JsonObject o, string name)
    {
        var copy = o.DeepClone().AsObject();
        copy.Remove(name);
        return copy;
    }
}
