using System.Net;
using System.Net.Http.Headers;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Sessions.SessionFixtures;

namespace Gatehouse.Tests.Sessions;

public sealed class LogoutTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static HttpRequestMessage Json(HttpRequestMessage request)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Browser_logout_url_revokes_the_cookie_session_and_clears_the_cookie(string db)
    {
        var s = await fixture.Get(db);
        var (_, issued) = await IdentityWithSession(s);
        var cookie = CookieHeader(s, issued);
        using var client = Client(s.PublicUrl);
        var flow = (await (await client.SendAsync(Get("/self-service/logout/browser", cookie: cookie))).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(issued.LogoutToken, flow["logout_token"]!.GetValue<string>());
        Assert.Equal($"{s.PublicUrl}/self-service/logout?token={issued.LogoutToken}", flow["logout_url"]!.GetValue<string>());

        var response = await client.SendAsync(Json(Get(flow["logout_url"]!.GetValue<string>(), cookie: cookie)));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var cleared = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ory_kratos_session=", StringComparison.Ordinal));
        // Kratos's completeLogout also gives the browser a new anti-CSRF token.
        Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("csrf_token_", StringComparison.Ordinal));
        Assert.StartsWith("ory_kratos_session=;", cleared, StringComparison.Ordinal);
        Assert.Contains("expires=Thu, 01 Jan 1970", cleared, StringComparison.Ordinal);
        Assert.False((await Load(s, issued.Session.Id))!.Active);
        await (await client.SendAsync(Get("/sessions/whoami", cookie: cookie))).Error(HttpStatusCode.Unauthorized);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Browser_logout_redirects_303_to_a_validated_return_to(string db)
    {
        var s = await fixture.Get(db);
        var (_, issued) = await IdentityWithSession(s);
        var cookie = CookieHeader(s, issued);
        using var client = Client(s.PublicUrl);
        var flow = (await (await client.SendAsync(Get("/self-service/logout/browser?return_to=/goodbye", cookie: cookie))).Json(HttpStatusCode.OK)).AsObject();
        var url = flow["logout_url"]!.GetValue<string>();
        Assert.Contains("&return_to=" + Uri.EscapeDataString($"{s.PublicUrl}/goodbye"), url, StringComparison.Ordinal);
        var response = await client.SendAsync(Get(url, cookie: cookie));
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal($"{s.PublicUrl}/goodbye", response.Headers.Location!.ToString());

        var (_, other) = await IdentityWithSession(s);
        var refused = await (await client.SendAsync(Json(Get("/self-service/logout/browser?return_to=https://evil.example/", cookie: CookieHeader(s, other))))).Error(HttpStatusCode.BadRequest);
        Assert.Equal("self_service_flow_return_to_forbidden", refused["id"]!.GetValue<string>());
        // A browser navigation is sent to the error UI (Kratos forwards logout errors), never to the refused URL.
        var refusedAtLogout = await client.SendAsync(Get($"/self-service/logout?token={other.LogoutToken}&return_to=https://evil.example/", cookie: CookieHeader(s, other)));
        Assert.Equal(HttpStatusCode.SeeOther, refusedAtLogout.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/ui/error?id=", refusedAtLogout.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.True((await Load(s, other.Session.Id))!.Active);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_clear_browser_data_an_https_browser_logout_answers_clear_site_data(string db)
    {
        await using var s = await TestServer.StartAsync(db, o => o.Selfservice.Flows.Logout.ClearBrowserData = true);
        using var client = Client(s.PublicUrl);

        async Task<HttpResponseMessage> LogOut(bool https, bool json)
        {
            var (_, issued) = await IdentityWithSession(s);
            var request = Get($"/self-service/logout?token={issued.LogoutToken}", cookie: CookieHeader(s, issued));
            if (https) request.Headers.Add("X-Forwarded-Proto", "https");
            var response = await client.SendAsync(json ? Json(request) : request);
            Assert.False((await Load(s, issued.Session.Id))!.Active);
            return response;
        }

        var browser = await LogOut(https: true, json: false);
        Assert.Equal(HttpStatusCode.SeeOther, browser.StatusCode);
        Assert.Equal("\"cookies\", \"storage\", \"cache\"", browser.Headers.GetValues("Clear-Site-Data").Single());
        var spa = await LogOut(https: true, json: true);
        Assert.Equal(HttpStatusCode.NoContent, spa.StatusCode);
        Assert.Equal("\"cookies\", \"storage\", \"cache\"", spa.Headers.GetValues("Clear-Site-Data").Single());
        // Browsers ignore it on plain http, and Kratos sends it only over https.
        Assert.False((await LogOut(https: false, json: false)).Headers.Contains("Clear-Site-Data"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_clear_browser_data_no_logout_answers_clear_site_data(string db)
    {
        var s = await fixture.Get(db);
        var (_, issued) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        var request = Get($"/self-service/logout?token={issued.LogoutToken}", cookie: CookieHeader(s, issued));
        request.Headers.Add("X-Forwarded-Proto", "https");

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.False(response.Headers.Contains("Clear-Site-Data"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Logout_with_another_sessions_token_is_403_and_revokes_nothing(string db)
    {
        var s = await fixture.Get(db);
        var (_, mine) = await IdentityWithSession(s);
        var (_, theirs) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        var error = await (await client.SendAsync(Json(Get($"/self-service/logout?token={theirs.LogoutToken}", cookie: CookieHeader(s, mine))))).Error(HttpStatusCode.Forbidden);
        Assert.Equal("Unable to log out because the logout token in the URL query does not match the session cookie.", error["reason"]!.GetValue<string>());
        await (await client.SendAsync(Json(Get("/self-service/logout?token=ory_lo_made_up", cookie: CookieHeader(s, mine))))).Error(HttpStatusCode.Forbidden);
        Assert.True((await Load(s, mine.Session.Id))!.Active);
        Assert.True((await Load(s, theirs.Session.Id))!.Active);

        var missing = await (await client.SendAsync(Json(Get("/self-service/logout", cookie: CookieHeader(s, mine))))).Error(HttpStatusCode.BadRequest);
        Assert.Equal("Please include a token in the URL query.", missing["reason"]!.GetValue<string>());
        await (await client.SendAsync(Json(Get($"/self-service/logout?token={mine.LogoutToken}")))).Error(HttpStatusCode.Unauthorized);
        await (await client.SendAsync(Json(Get("/self-service/logout/browser")))).Error(HttpStatusCode.Unauthorized);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Logout_without_a_session_answers_kratos_session_inactive_not_the_whoami_401(string db)
    {
        const string Inactive = """{"error":{"id":"session_inactive","code":401,"status":"Unauthorized","reason":"No active session was found in this request.","message":"request does not have a valid authentication session"}}""";
        var s = await fixture.Get(db);
        var (_, mine) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        var browser = await client.SendAsync(Json(Get("/self-service/logout/browser")));
        Assert.Equal(HttpStatusCode.Unauthorized, browser.StatusCode);
        Assert.Equal(Inactive, await browser.Content.ReadAsStringAsync());
        var logout = await client.SendAsync(Json(Get($"/self-service/logout?token={mine.LogoutToken}")));
        Assert.Equal(HttpStatusCode.Unauthorized, logout.StatusCode);
        Assert.Equal(Inactive, await logout.Content.ReadAsStringAsync());
        Assert.True((await Load(s, mine.Session.Id))!.Active);
        // whoami keeps Kratos's own answer (ErrNoSessionFound, no id).
        var whoami = await client.SendAsync(Json(Get("/sessions/whoami")));
        Assert.Equal("""{"error":{"code":401,"status":"Unauthorized","reason":"No valid session credentials found in the request.","message":"The request could not be authorized"}}""", await whoami.Content.ReadAsStringAsync());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Browser_logout_falls_back_to_the_configured_return_url(string db)
    {
        await using var s = await TestServer.StartAsync(db, o => o.Selfservice.Flows.Logout.After.DefaultBrowserReturnUrl = "https://app.example.com/signed-out");
        var (_, issued) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        var response = await client.SendAsync(Get($"/self-service/logout?token={issued.LogoutToken}", cookie: CookieHeader(s, issued)));
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("https://app.example.com/signed-out", response.Headers.Location!.ToString());

        var plain = await fixture.Get(db);
        var (_, other) = await IdentityWithSession(plain);
        using var plainClient = Client(plain.PublicUrl);
        var toBase = await plainClient.SendAsync(Get($"/self-service/logout?token={other.LogoutToken}", cookie: CookieHeader(plain, other)));
        Assert.Equal(HttpStatusCode.SeeOther, toBase.StatusCode);
        // Nothing configured: the built-in welcome page (which sends a signed-out browser on to sign in).
        Assert.Equal($"{plain.PublicUrl}/ui/welcome", toBase.Headers.Location!.ToString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Api_logout_revokes_the_token_and_refuses_unknown_tokens_and_bad_bodies(string db)
    {
        var s = await fixture.Get(db);
        var (_, issued) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        HttpRequestMessage Delete(string body) => new(HttpMethod.Delete, "/self-service/logout/api") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };

        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(Delete($$"""{"session_token":"{{issued.Token}}"}"""))).StatusCode);
        await (await client.SendAsync(Get("/sessions/whoami", token: issued.Token))).Error(HttpStatusCode.Unauthorized);
        var unknown = await (await client.SendAsync(Delete("""{"session_token":"ory_st_unknown"}"""))).Error(HttpStatusCode.Forbidden);
        Assert.Equal("The provided Ory Session Token could not be found, is invalid, or otherwise malformed.", unknown["reason"]!.GetValue<string>());
        foreach (var bad in new[] { "{", "[]", """{"session_token":1}""", "{}" })
        {
            await (await client.SendAsync(Delete(bad))).Error(HttpStatusCode.BadRequest);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Logout_with_the_sdk_default_accept_header_answers_204_and_a_browser_navigation_303(string db)
    {
        // axios (under @ory/client) sends "application/json, text/plain, */*"; Kratos negotiates that to JSON.
        var s = await fixture.Get(db);
        var (_, sdk) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        var request = Get($"/self-service/logout?token={sdk.LogoutToken}", cookie: CookieHeader(s, sdk));
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/plain, */*");
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(request)).StatusCode);
        Assert.False((await Load(s, sdk.Session.Id))!.Active);

        var (_, browser) = await IdentityWithSession(s);
        var navigation = Get($"/self-service/logout?token={browser.LogoutToken}", cookie: CookieHeader(s, browser));
        navigation.Headers.TryAddWithoutValidation("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        var redirected = await client.SendAsync(navigation);
        Assert.Equal(HttpStatusCode.SeeOther, redirected.StatusCode);
        Assert.False((await Load(s, browser.Session.Id))!.Active);
    }

    [Theory]
    [InlineData("application/json, text/plain, */*", true)]
    [InlineData("application/json", true)]
    [InlineData("application/json, text/html", false)]
    [InlineData("application/json;q=0.5, */*", false)]
    [InlineData("*/*", false)]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false)]
    [InlineData("text/html, application/json;q=0.9", false)]
    [InlineData("application/json;q=0", false)]
    [InlineData("", false)]
    public void IsJsonRequest_negotiates_accept_as_kratos_does(string accept, bool json)
    {
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        if (accept.Length > 0) http.Request.Headers.Accept = accept;
        Assert.Equal(json, Gatehouse.Http.ContentNegotiation.WantsJson(http.Request));
    }
}
