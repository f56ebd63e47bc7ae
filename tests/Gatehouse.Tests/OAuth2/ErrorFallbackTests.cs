using System.Net;
using System.Net.Http.Headers;
using Gatehouse.OAuth2.Keys;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// Hydra's <c>urls.error</c> and its default, the fallback page <c>/oauth2/fallbacks/error</c>: authorization requests
/// whose client or redirect URI cannot be trusted and refused logouts go there (<c>forwardError</c>, a <c>302</c> with
/// <c>error</c> and <c>error_description</c>), for every kind of client; the page shows the error as text only.
/// </summary>
public sealed class ErrorFallbackTests
{
    private const string RedirectUri = "http://127.0.0.1:9/cb";

    private static Task<TestServer> StartAsync(string db, Action<Gatehouse.Config.GatehouseOptions>? configure = null) =>
        TestServer.StartAsync(db, o =>
        {
            o.Urls.Login = "https://login.example/login";
            o.Urls.Consent = "https://login.example/consent";
            configure?.Invoke(o);
        }, services => services.AddSingleton(new KeyGeneration { RsaBits = 2048 }));

    private static HttpClient Browser(TestServer s) => new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };

    private static async Task<string> CreateClientAsync(TestServer s)
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""")).Json(HttpStatusCode.Created);
        return c["client_id"]!.GetValue<string>();
    }

    private static async Task<int> FlowCountAsync(TestServer s)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2Flows.CountAsync();
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Untrusted_authorization_errors_go_to_the_fallback_page_without_urls_error_for_browsers_and_json_clients(string db)
    {
        await using var s = await StartAsync(db);
        var id = await CreateClientAsync(s);
        using var browser = Browser(s);

        var unknown = await browser.GetAsync("/oauth2/auth?client_id=nope&response_type=code&state=statestate123");
        var q = unknown.FallbackError(s.PublicUrl, "invalid_client");
        Assert.Equal("Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method). The requested OAuth 2.0 Client does not exist.", q["error_description"]);

        var evil = await browser.GetAsync($"/oauth2/auth?client_id={id}&response_type=code&state=statestate123&redirect_uri={Uri.EscapeDataString(RedirectUri + "/evil")}");
        Assert.Contains("The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered redirect urls.",
            evil.FallbackError(s.PublicUrl, "invalid_request")["error_description"]);

        // Hydra does not look at Accept: a JSON client is redirected as well.
        using var json = new HttpRequestMessage(HttpMethod.Get, "/oauth2/auth?client_id=nope&response_type=code&state=statestate123");
        json.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        (await browser.SendAsync(json)).FallbackError(s.PublicUrl, "invalid_client");

        // A POSTed request, and one with a parameter twice (fosite reads the first value, Go's Form.Get).
        var posted = await browser.PostAsync("/oauth2/auth", new FormUrlEncodedContent([new("client_id", "nope"), new("response_type", "code"), new("state", "statestate123")]));
        posted.FallbackError(s.PublicUrl, "invalid_client");
        (await browser.GetAsync($"/oauth2/auth?client_id=nope&client_id={id}&response_type=code&state=statestate123")).FallbackError(s.PublicUrl, "invalid_client");

        Assert.Equal(0, await FlowCountAsync(s));

        // The page: Hydra's 500 with the error as text.
        var page = await browser.GetAsync(unknown.Headers.Location);
        Assert.Equal(HttpStatusCode.InternalServerError, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("The OAuth2 request resulted in an error.", html);
        Assert.Contains("<li>Error: invalid_client</li>", html);
        Assert.Contains("The requested OAuth 2.0 Client does not exist.", html);
        Assert.Contains("<code>urls.error</code> is not set", html);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_fallback_page_shows_hostile_parameters_as_text_only(string db)
    {
        await using var s = await StartAsync(db);
        using var browser = Browser(s);
        const string script = "<script>alert(1)</script>";
        const string attribute = "\"><img src=x onerror=alert(2)>";
        var page = await browser.GetAsync("/oauth2/fallbacks/error?error=" + Uri.EscapeDataString(script)
            + "&error_description=" + Uri.EscapeDataString(attribute + "&amp;") + "&error_hint=" + Uri.EscapeDataString("</li></ul><form action=//evil>")
            + "&error_debug=" + Uri.EscapeDataString("'onmouseover='alert(3)") + "&error=second");
        Assert.Equal(HttpStatusCode.InternalServerError, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<form", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("'onmouseover", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;", html);
        Assert.DoesNotContain("second", html);
        Assert.Equal("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-store", page.Headers.CacheControl?.ToString());

        // Without parameters the page still renders, and no .NET internals are shown.
        var empty = await browser.GetAsync("/oauth2/fallbacks/error");
        Assert.Equal(HttpStatusCode.InternalServerError, empty.StatusCode);
        var text = await empty.Content.ReadAsStringAsync();
        Assert.Contains("<li>Error: </li>", text);
        Assert.DoesNotContain("Exception", text);
        Assert.DoesNotContain(" at Gatehouse", text);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Refused_logouts_go_to_the_fallback_page_without_urls_error(string db)
    {
        await using var s = await StartAsync(db);
        using var browser = Browser(s);
        var q = (await browser.GetAsync("/oauth2/sessions/logout?state=abcdefgh1")).FallbackError(s.PublicUrl, "invalid_request");
        Assert.Contains("Logout failed because query parameter state is set but id_token_hint is missing.", q["error_description"]);
        var unknown = (await browser.GetAsync("/oauth2/sessions/logout?logout_verifier=nope")).FallbackError(s.PublicUrl, "Not Found");
        Assert.Equal("Unable to locate the requested resource", unknown["error_description"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_configured_urls_error_keeps_its_own_parameters_and_gets_the_error_in_place_of_any_it_had(string db)
    {
        await using var s = await StartAsync(db, o => o.Urls.Error = "https://login.example/error?lang=de&error=stale#top");
        using var browser = Browser(s);
        var res = await browser.GetAsync("/oauth2/auth?client_id=nope&response_type=code&state=statestate123");
        Assert.Equal(HttpStatusCode.Found, res.StatusCode);
        var location = res.Headers.Location!;
        Assert.StartsWith("https://login.example/error?lang=de&", location.ToString());
        Assert.EndsWith("#top", location.ToString());
        var q = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal(["lang", "error", "error_description"], q.Keys);
        Assert.Equal("invalid_client", q["error"].ToString());
        Assert.EndsWith("The requested OAuth 2.0 Client does not exist.", q["error_description"].ToString());
    }
}
