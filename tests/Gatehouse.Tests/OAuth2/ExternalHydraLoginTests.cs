using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.SelfService;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// <c>oauth2_provider.url</c>: Gatehouse as Kratos beside an external Hydra. The Hydra is a second Gatehouse (its admin API is
/// Hydra's), reached through a recording proxy; the login and registration flows of the first read and accept its login
/// requests over HTTP as Kratos v26.2 does (<c>hydra/hydra.go</c>).
/// </summary>
public sealed class ExternalHydraLoginTests(ExternalHydraLoginTests.Servers servers) : IClassFixture<ExternalHydraLoginTests.Servers>
{
    private const string RedirectUri = "https://app.example/callback";
    private const string LoginRequestPath = "/admin/oauth2/auth/requests/login";
    private const string AcceptPath = "/admin/oauth2/auth/requests/login/accept";

    /// <summary>Per database: the Hydra, the proxy in front of its admin API, Gatehouse pointed at it, and one pointed at nothing.</summary>
    public sealed record Setup(TestServer Hydra, HookReceiver Proxy, TestServer Kratos, TestServer KratosWithoutHydra);

    public sealed class Servers : IAsyncDisposable
    {
        private readonly Dictionary<string, Task<Setup>> _setups = [];
        private readonly Lock _lock = new();
        private readonly HttpClient _forward = new();

        public Task<Setup> Get(string db)
        {
            lock (_lock)
            {
                if (!_setups.TryGetValue(db, out var setup)) _setups[db] = setup = StartAsync(db);
                return setup;
            }
        }

        private async Task<Setup> StartAsync(string db)
        {
            var hydra = await TestServer.StartAsync(db, FlowServerFixture.Configure);
            var proxy = await HookReceiver.StartAsync();
            foreach (var path in new[] { LoginRequestPath, AcceptPath })
            {
                // Forwards the call as it came (method, query, body, Authorization) and answers what Hydra answered.
                proxy.On(path, async (r, ct) =>
                {
                    using var request = new HttpRequestMessage(new HttpMethod(r.Method), hydra.AdminUrl + r.Path + r.Query);
                    if (r.Headers.TryGetValue("Authorization", out var auth)) request.Headers.TryAddWithoutValidation("Authorization", auth);
                    if (r.Body.Length > 0) request.Content = new StringContent(r.Body, Encoding.UTF8, "application/json");
                    using var response = await _forward.SendAsync(request, ct);
                    return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct));
                });
            }
            var kratos = await TestServer.StartAsync(db, o =>
            {
                FlowServerFixture.Configure(o);
                o.Oauth2Provider.Url = proxy.BaseUrl + "/";
                o.Oauth2Provider.Headers = new() { ["Authorization"] = "Bearer " + hydra.ApiKey, ["X-Tenant"] = "acme" };
                o.Oauth2Provider.OverrideReturnTo = true;
                o.Selfservice.AllowedReturnUrls = [.. o.Selfservice.AllowedReturnUrls, hydra.PublicUrl + "/"];
            });
            var down = await TestServer.StartAsync(db, o =>
            {
                FlowServerFixture.Configure(o);
                o.Oauth2Provider.Url = $"http://127.0.0.1:{TestServer.FreePort()}";
            });
            return new Setup(hydra, proxy, kratos, down);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var s in _setups.Values)
            {
                if (!s.IsCompletedSuccessfully) continue;
                await s.Result.Kratos.DisposeAsync();
                await s.Result.KratosWithoutHydra.DisposeAsync();
                await s.Result.Proxy.DisposeAsync();
                await s.Result.Hydra.DisposeAsync();
            }
            _forward.Dispose();
        }
    }

    private static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    private static Dictionary<string, string> Query(Uri u) => QueryHelpers.ParseQuery(u.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    private static async Task<Uri> RedirectAsync(Browser b, string url)
    {
        var res = await b.Client.GetAsync(url);
        Assert.True(res.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"expected a redirect from {url}, got {(int)res.StatusCode}: {await res.Content.ReadAsStringAsync()}");
        return res.Headers.Location!;
    }

    /// <summary>A first-party client of the Hydra and the login challenge of a new authorization request there (from the same browser).</summary>
    private static async Task<(string ClientId, string Secret, string Verifier, string LoginChallenge)> StartAtHydraAsync(TestServer hydra, Browser b)
    {
        var c = await (await hydra.AdminWithKey.PostJson("/admin/clients",
            $$"""{"client_name":"External","redirect_uris":["{{RedirectUri}}"],"scope":"openid email","grant_types":["authorization_code"],"skip_consent":true}""")).Json(HttpStatusCode.Created);
        var id = c["client_id"]!.GetValue<string>();
        var (verifier, challenge) = Pkce();
        var toLogin = await RedirectAsync(b, $"{hydra.PublicUrl}/oauth2/auth?response_type=code&client_id={Uri.EscapeDataString(id)}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope=openid&state=state-123456&nonce=nonce-abcdefgh&code_challenge={challenge}&code_challenge_method=S256");
        return (id, c["client_secret"]!.GetValue<string>(), verifier, Query(toLogin)["login_challenge"]);
    }

    private static async Task<JsonObject> FetchFlowAsync(Browser b, string kind, string id)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, $"/self-service/{kind}/flows?id={id}");
        req.Headers.Accept.ParseAdd("application/json");
        return (await (await b.Client.SendAsync(req)).Json(HttpStatusCode.OK)).AsObject();
    }

    private static Task<HttpResponseMessage> HydraLoginRequestAsync(TestServer hydra, string challenge) =>
        hydra.AdminWithKey.GetAsync($"{LoginRequestPath}?login_challenge={Uri.EscapeDataString(challenge)}");

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_password_login_accepts_the_external_hydra_login_request_with_kratos_body_and_the_configured_headers(string db)
    {
        var (hydra, proxy, kratos, _) = await servers.Get(db);
        var (email, _, registered) = await RegisterApi(kratos);
        var identityId = registered["identity"]!["id"]!.GetValue<string>();
        using var b = new Browser(kratos.PublicUrl);
        var (clientId, secret, verifier, challenge) = await StartAtHydraAsync(hydra, b);
        var hydraRequest = (await (await HydraLoginRequestAsync(hydra, challenge)).Json(HttpStatusCode.OK)).AsObject();

        var toPage = await RedirectAsync(b, $"/self-service/login/browser?login_challenge={Uri.EscapeDataString(challenge)}");
        var flow = await FetchFlowAsync(b, "login", Query(toPage)["flow"]);
        Assert.Equal(challenge, flow["oauth2_login_challenge"]!.GetValue<string>());
        Assert.Equal(clientId, flow["oauth2_login_request"]!["client"]!["client_id"]!.GetValue<string>());
        // oauth2_provider.override_return_to: the flow returns to the OAuth2 request at the Hydra.
        Assert.Equal(hydraRequest["request_url"]!.GetValue<string>(), flow["return_to"]!.GetValue<string>());
        // Gatehouse's own provider never saw the challenge.
        Assert.Equal(HttpStatusCode.NotFound, (await kratos.AdminWithKey.GetAsync($"{LoginRequestPath}?login_challenge={Uri.EscapeDataString(challenge)}")).StatusCode);

        var submitted = await b.PostForm(flow["ui"]!["action"]!.GetValue<string>(),
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, submitted.StatusCode);
        var afterLogin = submitted.Headers.Location!;
        Assert.StartsWith(hydra.PublicUrl + "/oauth2/auth?", afterLogin.ToString());
        Assert.True(Query(afterLogin).ContainsKey("login_verifier"));

        var gets = proxy.Received(LoginRequestPath).Where(r => r.Query.Contains(Uri.EscapeDataString(challenge), StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(gets);
        Assert.All(gets, r =>
        {
            Assert.Equal("GET", r.Method);
            Assert.Equal("acme", r.Headers["X-Tenant"]);
            Assert.Equal("Bearer " + hydra.ApiKey, r.Headers["Authorization"]);
        });
        var accept = Assert.Single(proxy.Received(AcceptPath), r => r.Query.Contains(Uri.EscapeDataString(challenge), StringComparison.Ordinal));
        Assert.Equal("PUT", accept.Method);
        Assert.Equal("acme", accept.Headers["X-Tenant"]);
        Assert.StartsWith("application/json", accept.Headers["Content-Type"], StringComparison.Ordinal);
        var body = JsonNode.Parse(accept.Body)!.AsObject();
        Assert.Equal(["amr", "identity_provider_session_id", "remember", "remember_for", "subject"], body.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(identityId, body["subject"]!.GetValue<string>());
        Assert.Equal(["password"], body["amr"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal((long)kratos.Options.Session.Lifespan.TotalSeconds, body["remember_for"]!.GetValue<long>());
        var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        var session = await (await b.Client.SendAsync(whoami)).Json(HttpStatusCode.OK);
        Assert.Equal(session["id"]!.GetValue<string>(), body["identity_provider_session_id"]!.GetValue<string>());

        // The Hydra took the accept (its login request now names the subject); the browser completes the authorization there.
        Assert.Equal(identityId, (await (await HydraLoginRequestAsync(hydra, challenge)).Json(HttpStatusCode.OK))["subject"]!.GetValue<string>());
        // The Hydra's consent: its consent app (here the admin API, as the subject is no identity of the Hydra) grants openid.
        var toConsent = await RedirectAsync(b, afterLogin.ToString());
        var consented = await (await hydra.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(Query(toConsent)["consent_challenge"])}",
            """{"grant_scope":["openid"]}""")).Json(HttpStatusCode.OK);
        var callback = await RedirectAsync(b, consented["redirect_to"]!.GetValue<string>());
        Assert.StartsWith(RedirectUri + "?code=", callback.ToString());
        var token = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("code", Query(callback)["code"]), new("redirect_uri", RedirectUri), new("code_verifier", verifier)]),
        };
        token.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        var tokens = await (await hydra.Public.SendAsync(token)).Json(HttpStatusCode.OK);
        Assert.Equal(identityId, new JsonWebToken(tokens["id_token"]!.GetValue<string>()).Subject);
        Assert.Equal(HttpStatusCode.Gone, (await HydraLoginRequestAsync(hydra, challenge)).StatusCode);

        // A challenge the Hydra handled already: Kratos's 400 with Hydra's 410, and no hint (410 is no error object).
        using var json = new Browser(kratos.PublicUrl, acceptJson: true);
        var used = await (await json.Client.GetAsync($"/self-service/login/browser?login_challenge={Uri.EscapeDataString(challenge)}")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("Unable to get OAuth 2.0 Login Challenge.", used["reason"]!.GetValue<string>());
        Assert.Equal(410, used["details"]!["status_code"]!.GetValue<int>());
        Assert.Null(used["details"]!["oauth2_error_hint"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_unknown_challenge_is_kratos_400_with_the_hydra_status(string db)
    {
        var (_, _, kratos, _) = await servers.Get(db);
        using var b = new Browser(kratos.PublicUrl, acceptJson: true);
        var unknown = await (await b.Client.GetAsync("/self-service/login/browser?login_challenge=nope")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("Unable to get OAuth 2.0 Login Challenge.", unknown["reason"]!.GetValue<string>());
        Assert.Equal(404, unknown["details"]!["status_code"]!.GetValue<int>());
        // Hydra v26.2's errors carry no error_hint; Kratos passes on the empty hint.
        Assert.Equal("", unknown["details"]!["oauth2_error_hint"]!.GetValue<string>());
        var registration = await (await b.Client.GetAsync("/self-service/registration/browser?login_challenge=nope")).Error(HttpStatusCode.BadRequest);
        Assert.Equal(404, registration["details"]!["status_code"]!.GetValue<int>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_unreachable_provider_is_a_clear_500_without_internals(string db)
    {
        var (_, _, _, down) = await servers.Get(db);
        using var b = new Browser(down.PublicUrl, acceptJson: true);
        var res = await b.Client.GetAsync("/self-service/login/browser?login_challenge=abc");
        var text = await res.Content.ReadAsStringAsync();
        var error = await res.Error(HttpStatusCode.InternalServerError);
        Assert.Equal("Unable to get OAuth 2.0 Login Challenge.", error["reason"]!.GetValue<string>());
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal);

        // An HTML browser goes to the error page, as for other flow errors.
        using var html = new Browser(down.PublicUrl);
        var toError = await RedirectAsync(html, "/self-service/login/browser?login_challenge=abc");
        Assert.Contains("/error", toError.ToString(), StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_registration_accepts_the_external_login_request_and_a_failed_accept_is_kratos_500(string db)
    {
        var (hydra, _, kratos, _) = await servers.Get(db);
        using var b = new Browser(kratos.PublicUrl);
        var (_, _, _, challenge) = await StartAtHydraAsync(hydra, b);
        var toPage = await RedirectAsync(b, $"/self-service/registration/browser?login_challenge={Uri.EscapeDataString(challenge)}");
        var flow = await FetchFlowAsync(b, "registration", Query(toPage)["flow"]);
        Assert.Equal(challenge, flow["oauth2_login_challenge"]!.GetValue<string>());
        var submitted = await b.PostForm(flow["ui"]!["action"]!.GetValue<string>(),
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("traits.email", HttpAssertions.UniqueEmail("ext")), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, submitted.StatusCode);
        Assert.StartsWith(hydra.PublicUrl + "/oauth2/auth?", submitted.Headers.Location!.ToString());
        Assert.True(Query(submitted.Headers.Location!).ContainsKey("login_verifier"));
        var session = await (await b.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK);
        var accepted = await (await HydraLoginRequestAsync(hydra, challenge)).Json(HttpStatusCode.OK);
        Assert.Equal(session["identity"]!["id"]!.GetValue<string>(), accepted["subject"]!.GetValue<string>());

        // The request is answered and its verifier spent elsewhere meanwhile: Kratos's accept failure is 500 with Hydra's status.
        using var other = new Browser(kratos.PublicUrl);
        var (_, _, _, second) = await StartAtHydraAsync(hydra, other);
        var page = await RedirectAsync(other, $"/self-service/registration/browser?login_challenge={Uri.EscapeDataString(second)}");
        var flow2 = await FetchFlowAsync(other, "registration", Query(page)["flow"]);
        var elsewhere = await (await hydra.AdminWithKey.PutJson($"{AcceptPath}?login_challenge={Uri.EscapeDataString(second)}", """{"subject":"someone-else"}""")).Json(HttpStatusCode.OK);
        await RedirectAsync(other, elsewhere["redirect_to"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Gone, (await HydraLoginRequestAsync(hydra, second)).StatusCode);
        var req = new HttpRequestMessage(HttpMethod.Post, flow2["ui"]!["action"]!.GetValue<string>())
        {
            Content = new FormUrlEncodedContent([new("csrf_token", Csrf(flow2)), new("method", "password"), new("traits.email", HttpAssertions.UniqueEmail("ext")), new("password", GoodPassword)]),
        };
        req.Headers.Accept.Clear();
        req.Headers.Accept.ParseAdd("application/json");
        var failed = await (await other.Client.SendAsync(req)).Error(HttpStatusCode.InternalServerError);
        Assert.Equal("Unable to accept OAuth 2.0 Login Challenge.", failed["reason"]!.GetValue<string>());
        Assert.Equal(410, failed["details"]!["status_code"]!.GetValue<int>());
    }
}
