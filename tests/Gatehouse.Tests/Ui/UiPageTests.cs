using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Ui;

/// <summary>The built-in pages over plain HTTP: routing, defaults, escaping, language, turning them off.</summary>
public sealed class UiPageTests(UiServerFixture fixture) : IClassFixture<UiServerFixture>
{
    [Fact]
    public async Task A_page_without_a_flow_starts_one_and_keeps_return_to()
    {
        var s = await fixture.Server();
        using var browser = new Browser(s.PublicUrl);
        var start = await browser.Client.GetAsync("/ui/login?return_to=" + Uri.EscapeDataString(s.PublicUrl + "/ui/settings"));
        Assert.Equal(HttpStatusCode.SeeOther, start.StatusCode);
        Assert.Equal($"{s.PublicUrl}/self-service/login/browser?return_to={Uri.EscapeDataString(s.PublicUrl + "/ui/settings")}", start.Headers.Location!.ToString());

        var flow = await browser.Client.GetAsync(start.Headers.Location);
        Assert.Equal(HttpStatusCode.SeeOther, flow.StatusCode);
        var page = await browser.Client.GetAsync(flow.Headers.Location);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html lang=\"en\">", html);
        Assert.Contains("<label for=\"f-identifier\">ID", html);
        Assert.Contains("name=\"csrf_token\"", html);
        Assert.Contains("<link rel=\"stylesheet\" href=\"/ui/assets/gatehouse.css?v=", html);
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("no-store", page.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Unknown_flows_and_flows_of_another_browser_are_handled()
    {
        var s = await fixture.Server();
        using var browser = new Browser(s.PublicUrl);
        var unknown = await browser.Client.GetAsync($"/ui/registration?flow={Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.SeeOther, unknown.StatusCode);
        Assert.Equal($"{s.PublicUrl}/self-service/registration/browser", unknown.Headers.Location!.ToString());

        var started = await browser.Client.GetAsync("/self-service/registration/browser");
        using var other = new Browser(s.PublicUrl);
        var foreign = await other.Client.GetAsync(started.Headers.Location);
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        var html = await foreign.Content.ReadAsStringAsync();
        Assert.Contains("security_csrf_violation", html);
        Assert.Contains($"href=\"{s.PublicUrl}/self-service/registration/browser\"", html);
    }

    [Fact]
    public async Task Settings_and_welcome_without_a_session_lead_to_sign_in()
    {
        var s = await fixture.Server();
        using var browser = new Browser(s.PublicUrl);
        var welcome = await browser.Client.GetAsync("/ui/welcome");
        Assert.Equal(HttpStatusCode.SeeOther, welcome.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/self-service/login/browser?return_to=", welcome.Headers.Location!.ToString());
        var settings = await browser.Client.GetAsync($"/ui/settings?flow={Guid.NewGuid()}");
        Assert.Equal($"{s.PublicUrl}/self-service/settings/browser", settings.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Registration_lands_on_the_welcome_page_by_default()
    {
        var s = await fixture.Server();
        using var browser = new Browser(s.PublicUrl);
        var flow = await StartHtmlFlow(browser, "registration");
        var email = HttpAssertions.UniqueEmail("welcome");
        var step1 = await browser.PostForm($"/self-service/registration?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "profile"), new("traits.email", email)]);
        Assert.Equal(HttpStatusCode.SeeOther, step1.StatusCode);
        var done = await browser.PostForm($"/self-service/registration?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("traits.email", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Equal($"{s.PublicUrl}/ui/welcome", done.Headers.Location!.ToString());
        var welcome = await browser.Client.GetAsync("/ui/welcome");
        var html = await welcome.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, welcome.StatusCode);
        Assert.Contains(email, html);
        Assert.Contains("/self-service/logout?token=ory_lo_", html);
    }

    [Fact]
    public async Task Values_from_the_flow_are_html_encoded()
    {
        var s = await fixture.Server();
        using var browser = new Browser(s.PublicUrl);
        var flow = await StartHtmlFlow(browser, "registration");
        var hostile = "\"><script>alert(1)</script>@example.com";
        await browser.PostForm($"/self-service/registration?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "profile"), new("traits.email", hostile)]);
        var html = await (await browser.Client.GetAsync($"/ui/registration?flow={flow["id"]}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@example.com", html);
        // The invalid email is reported on its field, and the field points at the message.
        Assert.Contains("autofocus autocomplete=\"email\" aria-invalid=\"true\" aria-describedby=\"f-traits-email-messages\"", html);
        Assert.Contains("<div class=\"messages\" id=\"f-traits-email-messages\"><p class=\"message message-error\" role=\"alert\" data-message-id=\"4000040\"", html);
    }

    [Fact]
    public async Task The_page_language_follows_accept_language()
    {
        var s = await fixture.Server();
        using var browser = new Browser(s.PublicUrl);
        browser.Client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("fr-CH, de;q=0.9, en;q=0.8");
        var flow = await browser.Client.GetAsync("/self-service/login/browser");
        var page = await browser.Client.GetAsync(flow.Headers.Location);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<html lang=\"de\">", html);
        Assert.Contains("<h1>Anmelden</h1>", html);
        Assert.Contains(">Passwort<", html);
        Assert.Equal("de", page.Content.Headers.ContentLanguage.Single());
    }

    [Fact]
    public async Task The_stylesheet_is_served_locally_with_long_caching()
    {
        var s = await fixture.Server();
        var css = await s.Public.GetAsync("/ui/assets/gatehouse.css");
        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromDays(365), css.Headers.CacheControl?.MaxAge);
        Assert.Contains(".card", await css.Content.ReadAsStringAsync());
        using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/assets/gatehouse.css");
        again.Headers.IfNoneMatch.Add(css.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await s.Public.SendAsync(again)).StatusCode);
    }

    [Fact]
    public async Task The_error_page_shows_a_forwarded_error_and_answers_404_for_unknown_ids()
    {
        var s = await fixture.Server();
        using var browser = new Browser(s.PublicUrl);
        var forwarded = await browser.Client.GetAsync("/self-service/login/browser?return_to=" + Uri.EscapeDataString("https://evil.example/<b>"));
        Assert.Equal(HttpStatusCode.SeeOther, forwarded.StatusCode);
        var errorUrl = forwarded.Headers.Location!.ToString();
        Assert.StartsWith($"{s.PublicUrl}/ui/error?id=", errorUrl, StringComparison.Ordinal);
        var stored = (await (await s.Public.GetAsync("/self-service/errors?id=" + errorUrl.Split("id=")[1])).Json(HttpStatusCode.OK))["error"]!;

        var page = await browser.Client.GetAsync(errorUrl);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<dd>400 Bad Request</dd>", html);
        Assert.Contains("<dd>self_service_flow_return_to_forbidden</dd>", html);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(stored["reason"]!.GetValue<string>()), html);
        Assert.Contains($"<dd>{stored["message"]!.GetValue<string>()}</dd>", html);
        Assert.DoesNotContain("<b>", html);
        Assert.Contains($"href=\"{s.PublicUrl}/self-service/login/browser\"", html);

        var stub = await (await browser.Client.GetAsync("/ui/error?id=stub:500")).Content.ReadAsStringAsync();
        Assert.Contains("This is a stub error.", stub);
        foreach (var id in new[] { Guid.NewGuid().ToString(), "not-a-uuid", "" })
        {
            var unknown = await browser.Client.GetAsync("/ui/error?id=" + id);
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            Assert.Contains("This error is not known", await unknown.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Json_clients_keep_the_error_envelope_for_csrf_failures()
    {
        var s = await fixture.Server();
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await spa.Client.GetAsync("/self-service/login/browser")).Json(HttpStatusCode.OK);
        var failed = await spa.Client.PostJson($"/self-service/login?flow={flow["id"]}", new JsonObject { ["method"] = "password", ["identifier"] = "a@example.com", ["password"] = "x" });
        var error = await failed.Error(HttpStatusCode.Forbidden);
        Assert.Equal("security_csrf_violation", error["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Ui_enabled_false_turns_the_pages_off_and_uses_kratos_fallback_urls()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite, o => o.Ui.Enabled = false);
        Assert.Equal(HttpStatusCode.NotFound, (await s.Public.GetAsync("/ui/login")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await s.Public.GetAsync("/ui/assets/gatehouse.css")).StatusCode);
        using var browser = new Browser(s.PublicUrl);
        var started = await browser.Client.GetAsync("/self-service/login/browser");
        Assert.StartsWith("https://www.ory.com/kratos/docs/fallback/login?flow=", started.Headers.Location!.ToString());
        // Without the pages, errors are forwarded to Kratos's fallback error page, and the error API has them.
        var flowId = started.Headers.Location!.ToString().Split("flow=")[1];
        var failed = await browser.PostForm($"/self-service/login?flow={flowId}", [new("method", "password"), new("identifier", "a@example.com"), new("password", "x")]);
        Assert.Equal(HttpStatusCode.SeeOther, failed.StatusCode);
        var location = failed.Headers.Location!.ToString();
        Assert.StartsWith("https://www.ory.com/kratos/docs/fallback/error?id=", location, StringComparison.Ordinal);
        var stored = await (await s.Public.GetAsync("/self-service/errors?id=" + location.Split("id=")[1])).Json(HttpStatusCode.OK);
        Assert.Equal("security_csrf_violation", stored["error"]!["id"]!.GetValue<string>());
        Assert.Equal(s.PublicUrl + "/", new Gatehouse.Http.ReturnUrlPolicy(s.Options).Resolve(null));
    }

    [Fact]
    public void The_default_return_url_is_the_welcome_page_unless_configured()
    {
        var options = new GatehouseOptions();
        Assert.Equal("http://127.0.0.1:4433/ui/welcome", new Gatehouse.Http.ReturnUrlPolicy(options).Resolve(null));
        options.Selfservice.DefaultBrowserReturnUrl = "https://app.example.com/home";
        Assert.Equal("https://app.example.com/home", new Gatehouse.Http.ReturnUrlPolicy(options).Resolve(null));
    }

    private static async Task<JsonNode> StartHtmlFlow(Browser browser, string kind)
    {
        var started = await browser.Client.GetAsync($"/self-service/{kind}/browser");
        Assert.Equal(HttpStatusCode.SeeOther, started.StatusCode);
        var id = started.Headers.Location!.ToString().Split("flow=")[1];
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/self-service/{kind}/flows?id={id}");
        request.Headers.Accept.ParseAdd("application/json");
        return await (await browser.Client.SendAsync(request)).Json(HttpStatusCode.OK);
    }
}
