using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Logout;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.SelfService;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// <c>urls.identity_provider.url</c>: Gatehouse as Hydra beside an external Kratos. The Kratos is a second Gatehouse (its
/// admin API is Kratos's), reached through a recording proxy; an OAuth2 logout of the first ends the login's
/// <c>identity_provider_session_id</c> there as Hydra v26.2 does (<c>internal/kratos/kratos.go</c> <c>DisableSession</c>,
/// <c>consent/strategy_default.go</c> <c>performBackChannelLogoutAndDeleteSession</c>).
/// </summary>
public sealed class ExternalKratosLogoutTests
{
    private const string LogoutApp = "https://login.example/logout";
    private const string RedirectUri = "https://app.example/callback";
    private const string LoggedOut = "https://app.example/logged-out";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static async Task<(TestServer Hydra, LogCapture Logs)> StartHydraAsync(string db, string identityProviderUrl, Dictionary<string, string>? headers = null)
    {
        var logs = new LogCapture();
        var hydra = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Urls.Logout = LogoutApp;
            o.Urls.IdentityProvider.Url = identityProviderUrl;
            o.Urls.IdentityProvider.PublicUrl = "http://kratos.example:4433";
            if (headers is not null) o.Urls.IdentityProvider.Headers = headers;
        }, services =>
        {
            services.AddSingleton(new KeyGeneration { RsaBits = 2048 });
            services.AddSingleton<ILoggerProvider>(logs);
        });
        return (hydra, logs);
    }

    private static Dictionary<string, string> Query(Uri u) => QueryHelpers.ParseQuery(u.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    private static async Task<Uri> RedirectAsync(HttpClient b, string url)
    {
        var res = await b.GetAsync(url);
        Assert.True(res.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"expected a redirect from {url}, got {(int)res.StatusCode}: {await res.Content.ReadAsStringAsync()}");
        return res.Headers.Location!;
    }

    private static HttpClient NewBrowser(TestServer s) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(s.PublicUrl) };

    /// <summary>An OAuth2 login at <paramref name="hydra"/> whose accept names <paramref name="kratosSession"/>; returns the ID token.</summary>
    private static async Task<JsonWebToken> SignInAsync(TestServer hydra, HttpClient b, string subject, string kratosSession)
    {
        var c = await (await hydra.AdminWithKey.PostJson("/admin/clients",
            $$"""{"redirect_uris":["{{RedirectUri}}"],"post_logout_redirect_uris":["{{LoggedOut}}"],"scope":"openid"}""")).Json(HttpStatusCode.Created);
        var (id, secret) = (c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>());
        var toLogin = await RedirectAsync(b, $"/oauth2/auth?response_type=code&client_id={Uri.EscapeDataString(id)}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope=openid&state=state-123456&nonce=nonce-abcdefgh");
        var afterLogin = (await (await hydra.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(Query(toLogin)["login_challenge"])}",
            $$"""{"subject":"{{subject}}","remember":true,"identity_provider_session_id":"{{kratosSession}}"}""")).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();
        var toConsent = await RedirectAsync(b, afterLogin);
        var afterConsent = (await (await hydra.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(Query(toConsent)["consent_challenge"])}",
            """{"grant_scope":["openid"]}""")).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();
        var callback = await RedirectAsync(b, afterConsent);
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("code", Query(callback)["code"]), new("redirect_uri", RedirectUri)]),
        };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}")));
        return new JsonWebToken((await (await hydra.Public.SendAsync(req)).Json(HttpStatusCode.OK))["id_token"]!.GetValue<string>());
    }

    /// <summary>The browser's logout (RP-initiated, accepted by the logout app) through to the post-logout redirect.</summary>
    private static async Task BrowserLogoutAsync(TestServer hydra, HttpClient b, JsonWebToken idToken)
    {
        var toApp = await RedirectAsync(b, "/oauth2/sessions/logout?id_token_hint=" + Uri.EscapeDataString(idToken.EncodedToken) + "&post_logout_redirect_uri=" + Uri.EscapeDataString(LoggedOut));
        Assert.StartsWith(LogoutApp, toApp.ToString(), StringComparison.Ordinal);
        var accepted = (await (await hydra.AdminWithKey.PutAsync($"/admin/oauth2/auth/requests/logout/accept?logout_challenge={Uri.EscapeDataString(Query(toApp)["logout_challenge"])}", null))
            .Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();
        Assert.Equal(LoggedOut, (await RedirectAsync(b, accepted)).ToString());
    }

    private static Task<HttpResponseMessage> Whoami(TestServer s, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        request.Headers.Add("X-Session-Token", token);
        return s.Public.SendAsync(request);
    }

    private static async Task<(string Identity, string Token, string SessionId)> SessionAtAsync(TestServer kratos)
    {
        var (_, token, body) = await FlowTestHelpers.RegisterApi(kratos);
        return (body["identity"]!["id"]!.GetValue<string>(), token, body["session"]!["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Browser_and_headless_logout_revoke_the_session_at_the_external_kratos_with_the_configured_headers(string db)
    {
        await using var kratos = await TestServer.StartAsync(db, FlowServerFixture.Configure);
        await using var proxy = await HookReceiver.StartAsync();
        using var forward = new HttpClient();
        var (hydra, _) = await StartHydraAsync(db, proxy.BaseUrl + "/", new() { ["Authorization"] = "Bearer " + kratos.ApiKey, ["X-Tenant"] = "acme" });
        await using var _h = hydra;
        var background = hydra.Services.GetRequiredService<KratosAdminIdentityProviderSessions>();

        // Two Kratos sessions at the external Kratos; the proxy forwards their DELETE as it came (with Authorization).
        var sessions = new[] { await SessionAtAsync(kratos), await SessionAtAsync(kratos) };
        foreach (var (_, _, sessionId) in sessions)
        {
            proxy.On("/admin/sessions/" + sessionId, async (r, ct) =>
            {
                using var request = new HttpRequestMessage(new HttpMethod(r.Method), kratos.AdminUrl + r.Path + r.Query);
                if (r.Headers.TryGetValue("Authorization", out var auth)) request.Headers.TryAddWithoutValidation("Authorization", auth);
                using var response = await forward.SendAsync(request, ct);
                return ((int)response.StatusCode, null);
            });
        }

        // completeLogout (the browser's logout after the logout app accepted it).
        using var b1 = NewBrowser(hydra);
        var idToken = await SignInAsync(hydra, b1, sessions[0].Identity, sessions[0].SessionId);
        Assert.Equal(HttpStatusCode.OK, (await Whoami(kratos, sessions[0].Token)).StatusCode);
        await BrowserLogoutAsync(hydra, b1, idToken);
        await background.WhenIdleAsync();
        var first = Assert.Single(proxy.Received("/admin/sessions/" + sessions[0].SessionId));
        Assert.Equal("DELETE", first.Method);
        Assert.Equal("Bearer " + kratos.ApiKey, first.Headers["Authorization"]);
        Assert.Equal("acme", first.Headers["X-Tenant"]);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Whoami(kratos, sessions[0].Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Whoami(kratos, sessions[1].Token)).StatusCode);

        // The headless logout (DELETE /admin/oauth2/auth/sessions/login?sid=).
        using var b2 = NewBrowser(hydra);
        var sid = (await SignInAsync(hydra, b2, sessions[1].Identity, sessions[1].SessionId)).GetClaim("sid").Value;
        Assert.Equal(HttpStatusCode.NoContent, (await hydra.AdminWithKey.DeleteAsync($"/admin/oauth2/auth/sessions/login?sid={sid}")).StatusCode);
        await background.WhenIdleAsync();
        var second = Assert.Single(proxy.Received("/admin/sessions/" + sessions[1].SessionId));
        Assert.Equal("DELETE", second.Method);
        Assert.Equal("acme", second.Headers["X-Tenant"]);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Whoami(kratos, sessions[1].Token)).StatusCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_the_external_kratos_down_the_logout_succeeds_and_the_failure_is_logged_and_no_own_session_is_touched(string db)
    {
        var (hydra, logs) = await StartHydraAsync(db, $"http://127.0.0.1:{TestServer.FreePort()}");
        await using var _h = hydra;
        // A session of Gatehouse's own Kratos whose id the login names: with urls.identity_provider.url it is not Gatehouse's to end.
        var (identity, token, sessionId) = await SessionAtAsync(hydra);

        using var b1 = NewBrowser(hydra);
        await BrowserLogoutAsync(hydra, b1, await SignInAsync(hydra, b1, identity, sessionId));
        using var b2 = NewBrowser(hydra);
        var sid = (await SignInAsync(hydra, b2, identity, sessionId)).GetClaim("sid").Value;
        Assert.Equal(HttpStatusCode.NoContent, (await hydra.AdminWithKey.DeleteAsync($"/admin/oauth2/auth/sessions/login?sid={sid}")).StatusCode);
        await hydra.Services.GetRequiredService<KratosAdminIdentityProviderSessions>().WhenIdleAsync();

        Assert.Equal(2, logs.Lines.Count(l => l.StartsWith("Error", StringComparison.Ordinal)
            && l.Contains("Unable to revoke session in Ory Kratos.", StringComparison.Ordinal) && l.Contains(sessionId, StringComparison.Ordinal)));
        Assert.Contains(logs.Lines, l => l.Contains(sid, StringComparison.Ordinal) && l.Contains("Unable to revoke session", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await Whoami(hydra, token)).StatusCode);
        // The login session is gone all the same: a second headless logout has nothing to do.
        Assert.Equal(HttpStatusCode.NoContent, (await hydra.AdminWithKey.DeleteAsync($"/admin/oauth2/auth/sessions/login?sid={sid}")).StatusCode);
        await hydra.Services.GetRequiredService<KratosAdminIdentityProviderSessions>().WhenIdleAsync();
        Assert.Equal(2, logs.Lines.Count(l => l.Contains("Unable to revoke session in Ory Kratos.", StringComparison.Ordinal)));
    }
}
