using System.Net;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Http;

/// <summary>
/// <c>serve.public.cors</c> / <c>serve.admin.cors</c> against a real server, with rs/cors's (Kratos's) header semantics.
/// Browser behaviour (an SPA on another origin with the Ory SDKs) is covered by tests/e2e/cors.test.mjs.
/// </summary>
public sealed class CorsTests
{
    private const string App = "https://app.example.com";
    private const string AdminApp = "https://admin.example.com";

    private static void Configure(GatehouseOptions o)
    {
        o.Serve.Public.Cors.Enabled = true;
        o.Serve.Public.Cors.AllowedOrigins = [App, "https://*.example.org"];
        o.Serve.Public.Cors.MaxAge = 600;
        o.Serve.Admin.Cors.Enabled = true;
        o.Serve.Admin.Cors.AllowedOrigins = [AdminApp];
        o.Serve.Admin.Cors.AllowCredentials = false;
        o.Serve.Admin.Cors.ExposedHeaders = ["Content-Type", "Link"];
    }

    private static HttpRequestMessage Request(HttpMethod method, string url, string? origin, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, url);
        if (origin is not null) request.Headers.TryAddWithoutValidation("Origin", origin);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    private static HttpRequestMessage Preflight(string url, string origin, string method, string? headers = null) =>
        headers is null
            ? Request(HttpMethod.Options, url, origin, ("Access-Control-Request-Method", method))
            : Request(HttpMethod.Options, url, origin, ("Access-Control-Request-Method", method), ("Access-Control-Request-Headers", headers));

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values)
        : response.Content.Headers.TryGetValues(name, out var content) ? string.Join(", ", content) : null;

    private static void AssertNoCors(HttpResponseMessage response)
    {
        foreach (var name in new[] { "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age" })
            Assert.Null(Header(response, name));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_listed_origin_gets_its_origin_reflected_with_credentials_on_answers_and_errors(string db)
    {
        await using var s = await TestServer.StartAsync(db, Configure);
        using var http = new HttpClient();

        using var ok = await http.SendAsync(Request(HttpMethod.Get, $"{s.PublicUrl}/health/alive", App));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(App, Header(ok, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Header(ok, "Access-Control-Allow-Credentials"));
        Assert.Equal("Content-Type", Header(ok, "Access-Control-Expose-Headers"));
        Assert.Contains("Origin", Header(ok, "Vary"), StringComparison.Ordinal);
        Assert.Null(Header(ok, "Access-Control-Allow-Methods"));
        Assert.Null(Header(ok, "Access-Control-Max-Age"));

        // An error envelope (401 without a session) carries the headers too, so the app can read the error.
        using var whoami = await http.SendAsync(Request(HttpMethod.Get, $"{s.PublicUrl}/sessions/whoami", App));
        Assert.Equal(HttpStatusCode.Unauthorized, whoami.StatusCode);
        Assert.Equal(App, Header(whoami, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Header(whoami, "Access-Control-Allow-Credentials"));
        Assert.Contains("\"error\"", await whoami.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var missing = await http.SendAsync(Request(HttpMethod.Get, $"{s.PublicUrl}/no-such-route", App));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(App, Header(missing, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task An_unknown_origin_gets_no_cors_headers_but_the_answer_varies_by_origin()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite, Configure);
        using var http = new HttpClient();

        foreach (var origin in new[] { "https://evil.example.com", "https://app.example.com.evil.net", "http://app.example.com", "null" })
        {
            using var response = await http.SendAsync(Request(HttpMethod.Get, $"{s.PublicUrl}/sessions/whoami", origin));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            AssertNoCors(response);
            Assert.Contains("Origin", Header(response, "Vary"), StringComparison.Ordinal);

            using var preflight = await http.SendAsync(Preflight($"{s.PublicUrl}/sessions/whoami", origin, "GET"));
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
            AssertNoCors(preflight);
        }

        // Same-origin and non-browser requests (no Origin) get no CORS headers either.
        using var plain = await http.SendAsync(Request(HttpMethod.Get, $"{s.PublicUrl}/health/alive", null));
        AssertNoCors(plain);
    }

    [Fact]
    public async Task A_wildcard_origin_matches_any_subdomain_but_not_the_bare_domain_or_another_scheme()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite, Configure);
        using var http = new HttpClient();

        foreach (var origin in new[] { "https://a.example.org", "https://deep.sub.example.org", "HTTPS://Shop.Example.Org" })
        {
            using var response = await http.SendAsync(Request(HttpMethod.Get, $"{s.PublicUrl}/health/alive", origin));
            Assert.Equal(origin, Header(response, "Access-Control-Allow-Origin"));
            Assert.Equal("true", Header(response, "Access-Control-Allow-Credentials"));
        }
        foreach (var origin in new[] { "https://example.org", "http://a.example.org", "https://a.example.org.evil.net", "https://evilexample.org" })
        {
            using var response = await http.SendAsync(Request(HttpMethod.Get, $"{s.PublicUrl}/health/alive", origin));
            AssertNoCors(response);
        }
    }

    [Fact]
    public async Task A_preflight_is_answered_204_without_authentication_with_the_method_headers_and_max_age()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite, Configure);
        using var http = new HttpClient();

        // A browser's preflight for @ory/client-fetch's updateRegistrationFlow: JSON body, CSRF header.
        using var preflight = await http.SendAsync(Preflight($"{s.PublicUrl}/self-service/registration?flow=00000000-0000-0000-0000-000000000000", App, "POST", "content-type,x-csrf-token"));
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal(App, Header(preflight, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Header(preflight, "Access-Control-Allow-Credentials"));
        Assert.Equal("POST", Header(preflight, "Access-Control-Allow-Methods"));
        Assert.Equal("content-type, x-csrf-token", Header(preflight, "Access-Control-Allow-Headers"));
        Assert.Equal("600", Header(preflight, "Access-Control-Max-Age"));
        var vary = Header(preflight, "Vary") ?? "";
        foreach (var name in new[] { "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers" }) Assert.Contains(name, vary, StringComparison.Ordinal);
        Assert.Empty(await preflight.Content.ReadAsByteArrayAsync());

        // Not in allowed_methods / allowed_headers: the 204 says nothing, which the browser takes as a refusal.
        using var trace = await http.SendAsync(Preflight($"{s.PublicUrl}/sessions/whoami", App, "TRACE"));
        Assert.Equal(HttpStatusCode.NoContent, trace.StatusCode);
        AssertNoCors(trace);
        using var custom = await http.SendAsync(Preflight($"{s.PublicUrl}/sessions/whoami", App, "GET", "x-session-token, x-custom"));
        AssertNoCors(custom);
        using var allowed = await http.SendAsync(Preflight($"{s.PublicUrl}/sessions/whoami", App, "GET", "X-Session-Token"));
        Assert.Equal("X-Session-Token", Header(allowed, "Access-Control-Allow-Headers"));
    }

    [Fact]
    public async Task A_simple_request_with_a_method_not_allowed_gets_no_cors_headers()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite, o => { Configure(o); o.Serve.Public.Cors.AllowedMethods = ["GET"]; });
        using var http = new HttpClient();
        using var post = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"{s.PublicUrl}/self-service/logout/api")
        {
            Headers = { { "Origin", App } },
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        });
        AssertNoCors(post);
        using var get = await http.SendAsync(Request(HttpMethod.Get, $"{s.PublicUrl}/health/alive", App));
        Assert.Equal(App, Header(get, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Star_answers_star_and_never_with_credentials()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite, o => { o.Serve.Public.Cors.Enabled = true; o.Serve.Public.Cors.AllowedOrigins = ["*", App]; });
        using var http = new HttpClient();

        using var any = await http.SendAsync(Request(HttpMethod.Get, $"{s.PublicUrl}/health/alive", "https://anyone.example.net"));
        Assert.Equal("*", Header(any, "Access-Control-Allow-Origin"));
        Assert.Null(Header(any, "Access-Control-Allow-Credentials"));
        using var anyPreflight = await http.SendAsync(Preflight($"{s.PublicUrl}/sessions/whoami", "https://anyone.example.net", "GET", "x-session-token"));
        Assert.Equal("*", Header(anyPreflight, "Access-Control-Allow-Origin"));
        Assert.Null(Header(anyPreflight, "Access-Control-Allow-Credentials"));

        // An origin listed beside "*" is reflected, with credentials.
        using var listed = await http.SendAsync(Request(HttpMethod.Get, $"{s.PublicUrl}/health/alive", App));
        Assert.Equal(App, Header(listed, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Header(listed, "Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task Without_allow_credentials_a_listed_origin_is_reflected_without_the_credentials_header()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite, o => { Configure(o); o.Serve.Public.Cors.AllowCredentials = false; });
        using var http = new HttpClient();
        using var response = await http.SendAsync(Request(HttpMethod.Get, $"{s.PublicUrl}/health/alive", App));
        Assert.Equal(App, Header(response, "Access-Control-Allow-Origin"));
        Assert.Null(Header(response, "Access-Control-Allow-Credentials"));
        using var preflight = await http.SendAsync(Preflight($"{s.PublicUrl}/sessions/whoami", App, "GET"));
        Assert.Equal(App, Header(preflight, "Access-Control-Allow-Origin"));
        Assert.Null(Header(preflight, "Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task Disabled_cors_adds_nothing_and_leaves_options_to_routing()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite);
        using var http = new HttpClient();
        using var response = await http.SendAsync(Request(HttpMethod.Get, $"{s.PublicUrl}/health/alive", App));
        AssertNoCors(response);
        Assert.Null(Header(response, "Vary"));
        using var preflight = await http.SendAsync(Preflight($"{s.PublicUrl}/sessions/whoami", App, "GET"));
        Assert.NotEqual(HttpStatusCode.NoContent, preflight.StatusCode);
        AssertNoCors(preflight);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_admin_listener_and_admin_routes_follow_serve_admin_cors_and_preflights_need_no_api_key(string db)
    {
        await using var s = await TestServer.StartAsync(db, Configure);
        using var http = new HttpClient();

        foreach (var url in new[] { $"{s.AdminUrl}/admin/identities", $"{s.AdminUrl}/identities", $"{s.PublicUrl}/admin/identities" })
        {
            using var preflight = await http.SendAsync(Preflight(url, AdminApp, "GET", "authorization"));
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
            Assert.Equal(AdminApp, Header(preflight, "Access-Control-Allow-Origin"));
            Assert.Equal("authorization", Header(preflight, "Access-Control-Allow-Headers"));
            Assert.Null(Header(preflight, "Access-Control-Allow-Credentials"));
            Assert.Null(Header(preflight, "Access-Control-Max-Age"));

            // The public listener's origin is not an admin origin.
            using var publicOrigin = await http.SendAsync(Preflight(url, App, "GET", "authorization"));
            AssertNoCors(publicOrigin);

            // Without the key: 401 in the envelope, readable by the admin app.
            using var unauthorized = await http.SendAsync(Request(HttpMethod.Get, url, AdminApp));
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
            Assert.Equal(AdminApp, Header(unauthorized, "Access-Control-Allow-Origin"));
            Assert.Equal("Content-Type, Link", Header(unauthorized, "Access-Control-Expose-Headers"));

            using var authorized = await http.SendAsync(Request(HttpMethod.Get, url, AdminApp, ("Authorization", "Bearer " + s.ApiKey)));
            Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
            Assert.Equal(AdminApp, Header(authorized, "Access-Control-Allow-Origin"));
        }

        // The admin origin is not a public origin.
        using var whoami = await http.SendAsync(Preflight($"{s.PublicUrl}/sessions/whoami", AdminApp, "GET"));
        AssertNoCors(whoami);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_options_passthrough_a_preflight_gets_its_headers_and_the_routes_answer_it(string db)
    {
        // rs/cors Cors.ServeHTTP (ory/x configx CORS, Kratos cmd/daemon/serve.go): handlePreflight sets the headers, then
        // next(w, r) instead of writing 204; Kratos's router answers an OPTIONS to a GET/POST-only route 405.
        await using var s = await TestServer.StartAsync(db, o =>
        {
            Configure(o);
            o.Serve.Public.Cors.OptionsPassthrough = true;
        });
        using var http = new HttpClient();

        using var passed = await http.SendAsync(Preflight($"{s.PublicUrl}/self-service/login/api", App, "GET", "X-Session-Token"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, passed.StatusCode);
        Assert.Equal(App, Header(passed, "Access-Control-Allow-Origin"));
        Assert.Equal("GET", Header(passed, "Access-Control-Allow-Methods"));
        Assert.Equal("X-Session-Token", Header(passed, "Access-Control-Allow-Headers"));
        Assert.Equal("600", Header(passed, "Access-Control-Max-Age"));

        // whoami takes every method (Kratos registers it for all of them), so there the handler answers: 401 without a session.
        using var whoami = await http.SendAsync(Preflight($"{s.PublicUrl}/sessions/whoami", App, "GET"));
        Assert.Equal(HttpStatusCode.Unauthorized, whoami.StatusCode);
        Assert.Equal(App, Header(whoami, "Access-Control-Allow-Origin"));

        // A refused origin passes on too, without any CORS header.
        using var refused = await http.SendAsync(Preflight($"{s.PublicUrl}/self-service/login/api", "https://evil.example.net", "GET"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, refused.StatusCode);
        AssertNoCors(refused);

        // The admin listener keeps its own setting (off): answered 204 here.
        using var admin = await http.SendAsync(Preflight($"{s.AdminUrl}/admin/identities", AdminApp, "GET"));
        Assert.Equal(HttpStatusCode.NoContent, admin.StatusCode);
        Assert.Equal(AdminApp, Header(admin, "Access-Control-Allow-Origin"));
    }
}
