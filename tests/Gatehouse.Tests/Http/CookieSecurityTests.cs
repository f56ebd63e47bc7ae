using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Sessions;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Http;

/// <summary>
/// The <c>Secure</c> flag follows Kratos: <c>cookies.secure</c> (<c>session.cookie.secure</c> for the session) when set,
/// else Secure unless <c>--dev</c> — also when <c>serve.public.base_url</c> is plain http.
/// </summary>
public sealed class CookieSecurityTests
{
    [Theory]
    [InlineData("http://127.0.0.1:4433/", false, true)]
    [InlineData("https://auth.example.com/", false, true)]
    [InlineData("http://127.0.0.1:4433/", true, false)]
    [InlineData("https://auth.example.com/", true, false)]
    public void Session_cookie_is_secure_outside_dev_whatever_the_base_url_scheme(string baseUrl, bool dev, bool secure)
    {
        var o = new GatehouseOptions { Dev = dev };
        o.Serve.Public.BaseUrl = baseUrl;
        o.Secrets.Default = ["a-default-secret-that-is-long-enough"];
        Assert.Equal(secure, new SessionCookie(o, TimeProvider.System).Secure);
    }

    [Fact]
    public void Configured_secure_flags_win_over_the_dev_default()
    {
        var o = new GatehouseOptions { Dev = true };
        o.Cookies.Secure = true;
        Assert.True(CookieSecurity.Secure(o));
        Assert.True(new SessionCookie(o, TimeProvider.System).Secure);
        o = new GatehouseOptions();
        o.Cookies.Secure = false;
        Assert.False(CookieSecurity.Secure(o));
        o.Session.Cookie.Secure = true;
        Assert.True(new SessionCookie(o, TimeProvider.System).Secure);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Csrf_and_session_cookies_of_a_plain_http_server_are_secure_outside_dev_and_not_with_dev(string db)
    {
        foreach (var dev in new[] { false, true })
        {
            await using var s = await TestServer.StartAsync(db, o => { Gatehouse.Tests.SelfService.FlowServerFixture.Configure(o); o.Cookies.Secure = null; o.Dev = dev; });
            using var http = new HttpClient { BaseAddress = new Uri(s.PublicUrl) };
            http.DefaultRequestHeaders.Accept.ParseAdd("application/json");

            using var init = await http.GetAsync("/self-service/registration/browser");
            Assert.Equal(HttpStatusCode.OK, init.StatusCode);
            var csrf = Assert.Single(init.Headers.GetValues("Set-Cookie"), c => c.StartsWith("csrf_token_", StringComparison.Ordinal));
            Assert.Equal(!dev, HasAttribute(csrf, "secure"));
            Assert.True(HasAttribute(csrf, "httponly"));
            var flow = JsonNode.Parse(await init.Content.ReadAsStringAsync())!;

            using var submit = new HttpRequestMessage(HttpMethod.Post, $"/self-service/registration?flow={flow["id"]}")
            {
                Content = JsonContent.Create(new JsonObject
                {
                    ["csrf_token"] = Csrf(flow),
                    ["method"] = "password",
                    ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("secure") },
                    ["password"] = GoodPassword,
                }),
            };
            submit.Headers.Add("Cookie", csrf.Split(';')[0]);
            using var done = await http.SendAsync(submit);
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
            var session = Assert.Single(done.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ory_kratos_session=", StringComparison.Ordinal));
            Assert.Equal(!dev, HasAttribute(session, "secure"));
        }
    }

    private static bool HasAttribute(string setCookie, string name) =>
        setCookie.Split(';').Skip(1).Any(a => string.Equals(a.Trim(), name, StringComparison.OrdinalIgnoreCase));
}
