using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Tokens;
using Gatehouse.Persistence.Stores;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// Hydra's graceful refresh-token rotation (<c>oauth2.grant.refresh_token.rotation_grace_period</c> and
/// <c>rotation_grace_reuse_count</c>; <c>persistence/sql/persister_oauth2.go</c> <c>GetRefreshTokenSession</c> and
/// <c>gracefulRefreshRotation</c>, fosite <c>flow_refresh.go</c>) and refresh tokens that never expire
/// (<c>ttl.refresh_token: -1</c>), on both databases.
/// </summary>
public sealed class RefreshTokenRotationTests
{
    private const string LoginUrl = "https://login.example/login";
    private const string ConsentUrl = "https://login.example/consent";
    private const string RedirectUri = "https://app.example/callback";

    private sealed record Server(TestServer S, FakeTimeProvider Clock, string ClientId, string Secret) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => S.DisposeAsync();
    }

    private static async Task<Server> StartAsync(string db, TimeSpan grace, int count = 0, Action<IServiceCollection>? configureServices = null,
        Action<Gatehouse.Config.GatehouseOptions>? configure = null)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var s = await TestServer.StartAsync(db, o =>
        {
            o.Urls.Login = LoginUrl;
            o.Urls.Consent = ConsentUrl;
            o.Oauth2.Grant.RefreshToken.RotationGracePeriod = grace;
            o.Oauth2.Grant.RefreshToken.RotationGraceReuseCount = count;
            configure?.Invoke(o);
        }, services =>
        {
            services.AddSingleton(new KeyGeneration { RsaBits = 2048 });
            services.AddSingleton<TimeProvider>(clock);
            configureServices?.Invoke(services);
        });
        var c = await (await s.AdminWithKey.PostJson("/admin/clients",
            $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid offline_access","grant_types":["authorization_code","refresh_token"]}""")).Json(HttpStatusCode.Created);
        return new Server(s, clock, c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>());
    }

    /// <summary>Runs the authorization-code flow; returns the token answer (access, refresh and ID token).</summary>
    private static async Task<JsonObject> AuthorizeAsync(Server server)
    {
        var s = server.S;
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };
        async Task<Uri> RedirectAsync(string url) => (await browser.GetAsync(url)).Headers.Location!;
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var toLogin = await RedirectAsync($"/oauth2/auth?response_type=code&client_id={server.ClientId}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope=openid+offline_access&state=state-123456&nonce=nonce-abcdefgh&code_challenge={challenge}&code_challenge_method=S256");
        var login = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(Query(toLogin)["login_challenge"])}", """{"subject":"grace"}""")).Json(HttpStatusCode.OK);
        var toConsent = await RedirectAsync(login["redirect_to"]!.GetValue<string>());
        var consent = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(Query(toConsent)["consent_challenge"])}", """{"grant_scope":["openid","offline_access"]}""")).Json(HttpStatusCode.OK);
        var callback = await RedirectAsync(consent["redirect_to"]!.GetValue<string>());
        return (await (await s.Public.SendAsync(TokenRequest(server, ("grant_type", "authorization_code"), ("code", Query(callback)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).Json(HttpStatusCode.OK)).AsObject();
    }

    private static Dictionary<string, string> Query(Uri u) => QueryHelpers.ParseQuery(u.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    private static HttpRequestMessage TokenRequest(Server server, params (string, string)[] form)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))) };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{server.ClientId}:{server.Secret}")));
        return req;
    }

    private static Task<HttpResponseMessage> RefreshAsync(Server server, string refreshToken) =>
        server.S.Public.SendAsync(TokenRequest(server, ("grant_type", "refresh_token"), ("refresh_token", refreshToken)));

    private static async Task<bool> ActiveAsync(Server server, string token) =>
        (await (await server.S.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", token)]))).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>();

    private static async Task<JsonObject> IntrospectAsync(Server server, string token) =>
        (await (await server.S.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", token)]))).Json(HttpStatusCode.OK)).AsObject();

    private static string At(JsonObject t) => t["access_token"]!.GetValue<string>();

    private static string Rt(JsonObject t) => t["refresh_token"]!.GetValue<string>();

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Within_the_grace_period_a_used_refresh_token_issues_new_tokens_and_those_of_its_first_use_stay_valid(string db)
    {
        await using var server = await StartAsync(db, TimeSpan.FromMinutes(1));
        var t0 = await AuthorizeAsync(server);

        var t1 = (await (await RefreshAsync(server, Rt(t0))).Json(HttpStatusCode.OK)).AsObject();
        Assert.False(await ActiveAsync(server, At(t0)));
        // Used, but within the grace period: Hydra's storage hands it out as active, so introspection says so too.
        Assert.True(await ActiveAsync(server, Rt(t0)));

        server.Clock.Advance(TimeSpan.FromSeconds(59));
        var t2 = (await (await RefreshAsync(server, Rt(t0))).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(["access_token", "expires_in", "id_token", "refresh_token", "scope", "token_type"], t2.Select(kv => kv.Key));
        Assert.NotEqual(Rt(t1), Rt(t2));
        Assert.NotEqual(At(t1), At(t2));
        foreach (var token in new[] { At(t1), Rt(t1), At(t2), Rt(t2) }) Assert.True(await ActiveAsync(server, token));

        // The tokens of either use rotate on their own: using rt1 revokes at1 only.
        var t3 = (await (await RefreshAsync(server, Rt(t1))).Json(HttpStatusCode.OK)).AsObject();
        Assert.False(await ActiveAsync(server, At(t1)));
        Assert.True(await ActiveAsync(server, At(t2)));

        // The period runs from the first use, not the last: one second later it is over, and a use is a reuse that revokes
        // the whole grant, the tokens of every use included.
        server.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await ActiveAsync(server, Rt(t0)));
        var reuse = await (await RefreshAsync(server, Rt(t0))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        Assert.EndsWith("or was issued to another client. The refresh token was already used.", reuse["error_description"]!.GetValue<string>());
        foreach (var token in new[] { Rt(t1), At(t2), Rt(t2), At(t3), Rt(t3) }) Assert.False(await ActiveAsync(server, token));
        await (await RefreshAsync(server, Rt(t3))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_reuse_count_bounds_the_uses_in_all_and_allows_a_period_beyond_five_minutes(string db)
    {
        // With a count the period may reach 180 days (Hydra's GracefulRefreshTokenRotation); the count includes the first use
        // (used_times is 1 after it, and a use needs used_times < count).
        await using var server = await StartAsync(db, TimeSpan.FromHours(48), count: 3);
        var t0 = await AuthorizeAsync(server);
        var first = (await (await RefreshAsync(server, Rt(t0))).Json(HttpStatusCode.OK)).AsObject();
        server.Clock.Advance(TimeSpan.FromHours(30));
        var second = (await (await RefreshAsync(server, Rt(t0))).Json(HttpStatusCode.OK)).AsObject();
        var third = (await (await RefreshAsync(server, Rt(t0))).Json(HttpStatusCode.OK)).AsObject();
        Assert.False(await ActiveAsync(server, Rt(t0)));

        var reuse = await (await RefreshAsync(server, Rt(t0))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        Assert.EndsWith("or was issued to another client. The refresh token was already used.", reuse["error_description"]!.GetValue<string>());
        foreach (var t in new[] { first, second, third })
        {
            Assert.False(await ActiveAsync(server, At(t)));
            Assert.False(await ActiveAsync(server, Rt(t)));
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_expose_internal_errors_the_error_description_carries_fosites_debug_text(string db)
    {
        // fosite flow_refresh.go: the reuse hint, then its debug text, which errors.go GetDescription appends only with
        // WithExposeDebug(GetSendDebugMessagesToClients), i.e. Hydra's oauth2.expose_internal_errors.
        await using var exposed = await StartAsync(db, TimeSpan.Zero, configure: o => o.Oauth2.ExposeInternalErrors = true);
        var t0 = await AuthorizeAsync(exposed);
        await (await RefreshAsync(exposed, Rt(t0))).Json(HttpStatusCode.OK);
        var reuse = await (await RefreshAsync(exposed, Rt(t0))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        Assert.EndsWith("or was issued to another client. The refresh token was already used. Refresh token re-use was detected. All related tokens have been revoked.",
            reuse["error_description"]!.GetValue<string>());
        var unknown = await (await RefreshAsync(exposed, "ory_rt_unknown")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        Assert.EndsWith("The refresh token is malformed or not valid. The refresh token can not be found.", unknown["error_description"]!.GetValue<string>());

        // Off (Hydra's default): the hint ends the description.
        await using var hidden = await StartAsync(db, TimeSpan.Zero);
        var t1 = await AuthorizeAsync(hidden);
        await (await RefreshAsync(hidden, Rt(t1))).Json(HttpStatusCode.OK);
        var quiet = await (await RefreshAsync(hidden, Rt(t1))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        Assert.EndsWith("The refresh token was already used.", quiet["error_description"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_revoked_grant_ends_the_grace_of_its_used_refresh_tokens(string db)
    {
        await using var server = await StartAsync(db, TimeSpan.FromMinutes(5));
        var t0 = await AuthorizeAsync(server);
        var t1 = (await (await RefreshAsync(server, Rt(t0))).Json(HttpStatusCode.OK)).AsObject();
        var revoke = new HttpRequestMessage(HttpMethod.Post, "/oauth2/revoke") { Content = new FormUrlEncodedContent([new("token", Rt(t1))]) };
        revoke.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{server.ClientId}:{server.Secret}")));
        Assert.Equal(HttpStatusCode.OK, (await server.S.Public.SendAsync(revoke)).StatusCode);

        Assert.False(await ActiveAsync(server, Rt(t0)));
        await (await RefreshAsync(server, Rt(t0))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Concurrent_uses_within_the_grace_period_never_exceed_the_count_and_the_losers_revoke_nothing(string db)
    {
        const int requests = 5;
        var gate = new Gate(requests);
        await using var server = await StartAsync(db, TimeSpan.FromMinutes(5), count: 2, services => services.AddScoped<IOAuth2TokenStore>(sp =>
            new GatedStore(ActivatorUtilities.CreateInstance<EfOAuth2TokenStore>(sp), gate)));
        var t0 = await AuthorizeAsync(server);

        // Every request has read the refresh token as usable before any of them uses it.
        gate.Armed = true;
        var responses = await Task.WhenAll(Enumerable.Range(0, requests).Select(_ => RefreshAsync(server, Rt(t0))));
        var won = responses.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
        Assert.Equal(2, won.Count);
        foreach (var lost in responses.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            var error = await lost.OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
            Assert.EndsWith("Failed to refresh token. Please retry the request.", error["error_description"]!.GetValue<string>());
        }
        foreach (var r in won)
        {
            var t = (await r.Json(HttpStatusCode.OK)).AsObject();
            Assert.True(await ActiveAsync(server, At(t)));
            Assert.True(await ActiveAsync(server, Rt(t)));
        }

        // The count is spent: the next use is a reuse.
        gate.Armed = false;
        await (await RefreshAsync(server, Rt(t0))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_ttl_refresh_token_minus_one_refresh_tokens_never_expire_and_the_cleanup_keeps_them(string db)
    {
        await using var server = await StartAsync(db, TimeSpan.Zero, configure: o => o.Ttl.RefreshToken = Gatehouse.Config.RefreshTokenLifespanJsonConverter.Never);
        var t0 = await AuthorizeAsync(server);

        // Hydra's introspection fills the missing expiry with requested_at + ttl.refresh_token (-1 ns): exp is iat.
        var introspected = await IntrospectAsync(server, Rt(t0));
        Assert.True(introspected["active"]!.GetValue<bool>());
        Assert.Equal(introspected["iat"]!.GetValue<long>(), introspected["exp"]!.GetValue<long>());

        // Ten years on, the access token is long expired, the refresh token is not; the cleanup deletes only the former.
        server.Clock.Advance(TimeSpan.FromDays(3650));
        Assert.False(await ActiveAsync(server, At(t0)));
        await server.S.Services.GetRequiredService<Gatehouse.Persistence.Cleanup.DatabaseCleanup>().RunAsync(TimeSpan.Zero, 100, TimeSpan.Zero, null, TestContext.Current.CancellationToken);
        Assert.True(await ActiveAsync(server, Rt(t0)));

        var t1 = (await (await RefreshAsync(server, Rt(t0))).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(3600, t1["expires_in"]!.GetValue<long>());
        server.Clock.Advance(TimeSpan.FromDays(3650));
        var again = await IntrospectAsync(server, Rt(t1));
        Assert.True(again["active"]!.GetValue<bool>());
        Assert.Equal(again["iat"]!.GetValue<long>(), again["exp"]!.GetValue<long>());
        await (await RefreshAsync(server, Rt(t1))).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_negative_client_refresh_lifespan_set_through_the_lifespans_api_gives_refresh_tokens_without_expiry(string db)
    {
        // Hydra stores any Go duration (x.NullDuration), and fosite sets no expiry for a lifespan below zero; introspection
        // then shows iat + ttl.refresh_token (720h).
        await using var server = await StartAsync(db, TimeSpan.Zero);
        var lifespans = await (await server.S.AdminWithKey.PutJson($"/admin/clients/{server.ClientId}/lifespans",
            """{"authorization_code_grant_refresh_token_lifespan":"-1ns","refresh_token_grant_refresh_token_lifespan":"-1h"}""")).Json(HttpStatusCode.OK);
        // Kept negative (Gatehouse's durations have 100 ns ticks, so Hydra's "-1ns" reads back as "-100ns").
        Assert.Equal("-100ns", lifespans["authorization_code_grant_refresh_token_lifespan"]!.GetValue<string>());
        var t0 = await AuthorizeAsync(server);
        server.Clock.Advance(TimeSpan.FromDays(1000));
        await server.S.Services.GetRequiredService<Gatehouse.Persistence.Cleanup.DatabaseCleanup>().RunAsync(TimeSpan.Zero, 100, TimeSpan.Zero, null, TestContext.Current.CancellationToken);
        var introspected = await IntrospectAsync(server, Rt(t0));
        Assert.True(introspected["active"]!.GetValue<bool>());
        Assert.Equal(720 * 3600, introspected["exp"]!.GetValue<long>() - introspected["iat"]!.GetValue<long>());
        var t1 = (await (await RefreshAsync(server, Rt(t0))).Json(HttpStatusCode.OK)).AsObject();
        server.Clock.Advance(TimeSpan.FromDays(1000));
        await (await RefreshAsync(server, Rt(t1))).Json(HttpStatusCode.OK);
    }

    private sealed class Gate(int parties)
    {
        private int _arrived;
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public volatile bool Armed;

        public Task ArriveAsync()
        {
            if (Interlocked.Increment(ref _arrived) >= parties) _all.TrySetResult();
            return _all.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>When armed, holds every graceful use until all requests have read the token, so they race for real.</summary>
    private sealed class GatedStore(IOAuth2TokenStore inner, Gate gate) : IOAuth2TokenStore
    {
        public Task AddAsync(IReadOnlyList<OAuth2Token> tokens, CancellationToken ct) => inner.AddAsync(tokens, ct);

        public Task<OAuth2Token?> FindAsync(byte[] signature, CancellationToken ct) => inner.FindAsync(signature, ct);

        public Task<bool> DeactivateAsync(byte[] signature, CancellationToken ct) => inner.DeactivateAsync(signature, ct);

        public Task<int> RevokeRequestAsync(Guid requestId, string? kind, CancellationToken ct) => inner.RevokeRequestAsync(requestId, kind, ct);

        public async Task<bool> UseWithinGraceAsync(byte[] signature, DateTime now, TimeSpan period, int count, CancellationToken ct)
        {
            if (gate.Armed) await gate.ArriveAsync();
            return await inner.UseWithinGraceAsync(signature, now, period, count, ct);
        }

        public Task<int> RevokeAccessTokenAsync(Guid pk, CancellationToken ct) => inner.RevokeAccessTokenAsync(pk, ct);

        public Task<int> DeleteForClientAsync(string clientId, CancellationToken ct) => inner.DeleteForClientAsync(clientId, ct);
    }
}
