using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>
/// Kratos's <c>github</c> preset against a real loopback HTTP server playing GitHub (OAuth2 token endpoint answering with a
/// comma-separated <c>scope</c>, <c>GET /user</c>, <c>GET /user/emails</c>, each checking the bearer token and the
/// User-Agent GitHub requires): no OpenID Connect (no nonce, no ID token); the account is the user API's.
/// </summary>
public sealed class OidcGitHubTests
{
    private sealed class FakeGitHub : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, (long Id, string Login, string Scope)> _codes = new();
        private readonly ConcurrentDictionary<string, (long Id, string Login)> _tokens = new();

        private FakeGitHub(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public string Url { get; }

        public string AddCode(long id, string login, string scope)
        {
            var code = Guid.NewGuid().ToString("N");
            _codes[code] = (id, login, scope);
            return code;
        }

        public static async Task<FakeGitHub> StartAsync()
        {
            var url = $"http://127.0.0.1:{TestServer.FreePort()}";
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls(url);
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var gh = new FakeGitHub(app, url);
            app.MapPost("/login/oauth/access_token", async (HttpContext http) =>
            {
                var form = await http.Request.ReadFormAsync();
                if (form["client_id"] != "gh-client" || form["client_secret"] != "gh-secret") return Results.Json(new { error = "incorrect_client_credentials" });
                // GitHub answers a bad code with 200 and an error body.
                if (!gh._codes.TryRemove(form["code"].ToString(), out var grant)) return Results.Json(new { error = "bad_verification_code", error_description = "The code passed is incorrect or expired." });
                var token = "gho_" + Guid.NewGuid().ToString("N");
                gh._tokens[token] = (grant.Id, grant.Login);
                return Results.Json(new { access_token = token, token_type = "bearer", scope = grant.Scope });
            });
            (long Id, string Login)? User(HttpContext http) =>
                http.Request.Headers.UserAgent.Count == 0 ? null
                : gh._tokens.TryGetValue(http.Request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal), out var u) ? u : null;
            app.MapGet("/api/v3/user", (HttpContext http) => User(http) is { } u
                ? Results.Json(new { id = u.Id, login = u.Login, name = (string?)null, avatar_url = $"https://avatars.example/{u.Id}", html_url = $"https://github.example/{u.Login}", blog = "", updated_at = "2026-01-02T03:04:05Z" })
                : Results.Json(new { message = "Requires authentication" }, statusCode: 401));
            app.MapGet("/api/v3/user/emails", (HttpContext http) => User(http) is { } u
                ? Results.Json(new object[]
                {
                    new { email = $"{u.Login}@old.example", primary = false, verified = true },
                    new { email = $"{u.Login}@users.example", primary = true, verified = true },
                })
                : Results.Json(new { message = "Requires authentication" }, statusCode: 401));
            await app.StartAsync();
            return gh;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    private const string Mapper = """
        local claims = std.extVar('claims');
        {
          identity: {
            traits: { email: claims.email },
            verified_addresses: if claims.email_verified then [{ via: 'email', value: claims.email }] else [],
            metadata_public: { login: claims.nickname, github_id: claims.sub, issuer: claims.iss },
          },
        }
        """;

    private static Task<TestServer> Server(string db, FakeGitHub gh, List<string> scope) => TestServer.StartAsync(db, o =>
    {
        FlowServerFixture.Configure(o);
        o.Selfservice.Flows.Registration.After.Oidc = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
        o.Selfservice.Methods.Oidc.Enabled = true;
        o.Selfservice.Methods.Oidc.Config.Providers =
        [
            new OidcProviderOptions
            {
                Id = "github", Provider = "github", Label = "GitHub", ClientId = "gh-client", ClientSecret = "gh-secret",
                AuthUrl = gh.Url + "/login/oauth/authorize", TokenUrl = gh.Url + "/login/oauth/access_token", IssuerUrl = gh.Url + "/api/v3",
                MapperUrl = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Mapper)), Scope = scope,
            },
        ];
    });

    private static async Task<(Browser Browser, Uri Upstream)> Click(TestServer s)
    {
        var browser = new Browser(s.PublicUrl);
        var init = await browser.Client.GetAsync("/self-service/registration/browser");
        var id = QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString();
        using var fetch = new HttpRequestMessage(HttpMethod.Get, $"/self-service/registration/flows?id={id}");
        fetch.Headers.Accept.ParseAdd("application/json");
        var flow = await (await browser.Client.SendAsync(fetch)).Json(HttpStatusCode.OK);
        var submit = await browser.PostForm($"/self-service/registration?flow={id}", [new("csrf_token", Csrf(flow)), new("provider", "github")]);
        Assert.Equal(HttpStatusCode.SeeOther, submit.StatusCode);
        return (browser, submit.Headers.Location!);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Signs_up_with_the_account_and_primary_verified_address_from_the_user_api(string db)
    {
        await using var gh = await FakeGitHub.StartAsync();
        await using var s = await Server(db, gh, ["user:email", "read:user"]);
        var (browser, upstream) = await Click(s);
        using var _ = browser;
        Assert.StartsWith(gh.Url + "/login/oauth/authorize?", upstream.ToString(), StringComparison.Ordinal);
        var q = QueryHelpers.ParseQuery(upstream.Query);
        Assert.Equal("user:email read:user", q["scope"].ToString());
        Assert.False(q.ContainsKey("nonce"), "GitHub is no OpenID provider");

        var code = gh.AddCode(4242, "octo", "read:user,user:email");
        var back = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/github?state={Uri.EscapeDataString(q["state"].ToString())}&code={code}");
        Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
        Assert.Equal("http://app.example.com/welcome", back.Headers.Location!.ToString());
        using var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        whoami.Headers.Accept.ParseAdd("application/json");
        var session = await (await browser.Client.SendAsync(whoami)).Json(HttpStatusCode.OK);
        var identity = session["identity"]!;
        Assert.Equal("octo@users.example", (string?)identity["traits"]!["email"]);
        Assert.True((bool)identity["verifiable_addresses"]![0]!["verified"]!);
        Assert.Equal(JsonNode.Parse($$"""{"login":"octo","github_id":"4242","issuer":"{{gh.Url}}/login/oauth/access_token"}"""), identity["metadata_public"], JsonNode.DeepEquals);
        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{identity["id"]}?include_credential=oidc")).Json(HttpStatusCode.OK);
        Assert.Equal("github:4242", (string?)admin["credentials"]!["oidc"]!["identifiers"]![0]);
        Assert.StartsWith("gho_", (string?)admin["credentials"]!["oidc"]!["config"]!["providers"]![0]!["initial_access_token"], StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_scope_github_did_not_grant_is_shown_on_the_flow_a_refused_code_goes_to_the_error_ui_and_nothing_is_written(string db)
    {
        // Kratos: a missing scope is its ErrScopeMissing (400, on the flow); a refused code is golang.org/x/oauth2's error
        // from the exchange (no 400), which its flow error handlers forward to the error UI.
        await using var gh = await FakeGitHub.StartAsync();
        await using var s = await Server(db, gh, ["user:email"]);
        foreach (var (code, expected) in new[] { (gh.AddCode(7, "narrow", "read:user"), "did not grant the scope \"user:email\""), ("bad-code", "bad_verification_code") })
        {
            var (browser, upstream) = await Click(s);
            using var _ = browser;
            var q = QueryHelpers.ParseQuery(upstream.Query);
            var back = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/github?state={Uri.EscapeDataString(q["state"].ToString())}&code={code}");
            Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
            var query = QueryHelpers.ParseQuery(back.Headers.Location!.Query);
            if (code == "bad-code")
            {
                Assert.StartsWith($"{s.PublicUrl}/ui/error?id=", back.Headers.Location!.ToString(), StringComparison.Ordinal);
                var stored = await (await s.Public.GetAsync($"/self-service/errors?id={query["id"]}")).Json(HttpStatusCode.OK);
                Assert.Equal(500, (int)stored["error"]!["code"]!);
                Assert.Contains(expected, (string?)stored["error"]!["reason"], StringComparison.Ordinal);
                Assert.Null(browser.Cookie("ory_kratos_session"));
                continue;
            }
            var id = query["flow"].ToString();
            using var fetch = new HttpRequestMessage(HttpMethod.Get, $"/self-service/registration/flows?id={id}");
            fetch.Headers.Accept.ParseAdd("application/json");
            var flow = await (await browser.Client.SendAsync(fetch)).Json(HttpStatusCode.OK);
            var message = flow["ui"]!["messages"]![0]!;
            Assert.Equal(4000001, (long)message["id"]!);
            Assert.Contains(expected, (string?)message["text"], StringComparison.Ordinal);
            Assert.Null(browser.Cookie("ory_kratos_session"));
        }
        Assert.Empty((await (await s.AdminWithKey.GetAsync("/admin/identities")).Json(HttpStatusCode.OK)).AsArray());
    }
}
