using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.OAuth2.Clients;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.OAuth2;

/// <summary>One server per provider with <c>oidc.dynamic_client_registration.enabled</c> and a configured default scope.</summary>
public sealed class DynamicRegistrationServerFixture : IAsyncDisposable
{
    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();

    public Task<TestServer> Get(string provider)
    {
        lock (_lock)
        {
            if (!_servers.TryGetValue(provider, out var server))
            {
                server = TestServer.StartAsync(provider, o =>
                {
                    o.Oidc.DynamicClientRegistration.Enabled = true;
                    o.Oidc.DynamicClientRegistration.DefaultScope = ["openid", "email"];
                });
                _servers[provider] = server;
            }
            return server;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers.Values)
        {
            if (s.IsCompletedSuccessfully) await s.Result.DisposeAsync();
        }
    }
}

public sealed class DynamicClientRegistrationTests(DynamicRegistrationServerFixture enabled, ServerFixture disabled)
    : IClassFixture<DynamicRegistrationServerFixture>, IClassFixture<ServerFixture>
{
    private const string Unauthorized = "The requested OAuth 2.0 client does not exist or you provided incorrect credentials.";

    private static string NewOwner() => "dcr-" + Guid.NewGuid().ToString("N")[..12];

    private static async Task<JsonObject> RegisterAsync(TestServer s, string json)
    {
        var res = await s.Public.PostJson("/oauth2/register", json);
        return (await res.Json(HttpStatusCode.Created)).AsObject();
    }

    private static HttpRequestMessage WithToken(HttpMethod method, string url, string? token, string? json = null)
    {
        var req = new HttpRequestMessage(method, url);
        if (token is not null) req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return req;
    }

    private static async Task<int> CountOwnedAsync(TestServer s, string owner) =>
        (await (await s.AdminWithKey.GetAsync("/admin/clients?owner=" + owner)).Json(HttpStatusCode.OK)).AsArray().Count;

    private static async Task<HttpResponseMessage> ClientCredentialsAsync(TestServer s, string id, string secret)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
        };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(id)}:{Uri.EscapeDataString(secret)}")));
        return await s.Public.SendAsync(req);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Disabled_registration_is_hydras_404_on_every_route_and_discovery_has_no_registration_endpoint(string db)
    {
        var s = await disabled.Get(db);
        foreach (var res in new[]
        {
            await s.Public.PostJson("/oauth2/register", """{"client_name":"x"}"""),
            await s.Public.SendAsync(WithToken(HttpMethod.Get, "/oauth2/register/abc", "ory_at_x")),
            await s.Public.SendAsync(WithToken(HttpMethod.Put, "/oauth2/register/abc", "ory_at_x", "{}")),
            await s.Public.SendAsync(WithToken(HttpMethod.Delete, "/oauth2/register/abc", "ory_at_x")),
        })
        {
            var e = await res.OAuth2Error(HttpStatusCode.NotFound, "The requested resource could not be found");
            Assert.Equal("Dynamic registration is not enabled.", e["error_description"]!.GetValue<string>());
        }
        var discovery = (await (await s.Public.GetAsync("/.well-known/openid-configuration")).Json(HttpStatusCode.OK)).AsObject();
        Assert.False(discovery.ContainsKey("registration_endpoint"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Registration_picks_id_and_secret_returns_the_registration_token_once_and_stores_only_its_hash(string db)
    {
        var s = await enabled.Get(db);
        var owner = NewOwner();
        var res = await s.Public.PostJson("/oauth2/register", $$"""{"client_id":"chosen-id","client_name":"Third party","owner":"{{owner}}","grant_types":["client_credentials"],"redirect_uris":["https://rp.example/cb"]}""");
        var c = (await res.Json(HttpStatusCode.Created)).AsObject();
        var id = c["client_id"]!.GetValue<string>();
        Assert.NotEqual("chosen-id", id);
        Assert.True(Guid.TryParse(id, out _));
        Assert.Equal("admin/clients/" + id, res.Headers.Location?.OriginalString);
        Assert.Equal("no-store", res.Headers.CacheControl?.ToString());
        var secret = c["client_secret"]!.GetValue<string>();
        Assert.Equal(26, secret.Length);
        var token = c["registration_access_token"]!.GetValue<string>();
        Assert.Matches("^ory_at_[A-Za-z0-9_-]{43}$", token);
        Assert.Equal($"{s.PublicUrl}/oauth2/register/{id}", c["registration_client_uri"]!.GetValue<string>());
        // The configured default scope, and Hydra's field order with the registration fields after metadata's place.
        Assert.Equal("openid email", c["scope"]!.GetValue<string>());
        var keys = c.Select(kv => kv.Key).ToList();
        Assert.Equal(keys.IndexOf("updated_at") + 1, keys.IndexOf("registration_access_token"));
        Assert.Equal(keys.IndexOf("registration_access_token") + 1, keys.IndexOf("registration_client_uri"));
        Assert.Equal(keys.IndexOf("registration_client_uri") + 1, keys.IndexOf("skip_consent"));

        // A real client: its secret works at the token endpoint.
        await (await ClientCredentialsAsync(s, id, secret)).Json(HttpStatusCode.OK);

        // Stored: hashes only.
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var row = (await scope.ServiceProvider.GetRequiredService<OAuth2ClientService>().FindAsync(id, CancellationToken.None))!.Row;
            Assert.Equal(43, row.RegistrationAccessTokenHash.Length);
            Assert.DoesNotContain(token["ory_at_".Length..], row.RegistrationAccessTokenHash + row.Document + row.SecretHash);
            Assert.DoesNotContain(secret, row.Document + row.SecretHash);
        }

        // Never shown again: the admin API and the registration GET show neither token nor secret.
        var admin = (await (await s.AdminWithKey.GetAsync("/admin/clients/" + id)).Json(HttpStatusCode.OK)).AsObject();
        Assert.False(admin.ContainsKey("registration_access_token") || admin.ContainsKey("registration_client_uri") || admin.ContainsKey("client_secret"));
        var got = await s.Public.SendAsync(WithToken(HttpMethod.Get, "/oauth2/register/" + id, token));
        var g = (await got.Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(id, g["client_id"]!.GetValue<string>());
        Assert.Equal("Third party", g["client_name"]!.GetValue<string>());
        Assert.False(g.ContainsKey("registration_access_token") || g.ContainsKey("client_secret") || g.ContainsKey("metadata"));

        // Discovery advertises the endpoint while it is served.
        var discovery = (await (await s.Public.GetAsync("/.well-known/openid-configuration")).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(s.PublicUrl + "/oauth2/register", discovery["registration_endpoint"]!.GetValue<string>());
        var dkeys = discovery.Select(kv => kv.Key).ToList();
        Assert.Equal(dkeys.IndexOf("device_authorization_endpoint") + 1, dkeys.IndexOf("registration_endpoint"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Public_clients_get_no_secret_and_a_given_scope_is_kept(string db)
    {
        var s = await enabled.Get(db);
        var c = await RegisterAsync(s, """{"token_endpoint_auth_method":"none","scope":"openid offline","redirect_uris":["http://127.0.0.1:9/cb"]}""");
        Assert.False(c.ContainsKey("client_secret"));
        Assert.Equal("openid offline", c["scope"]!.GetValue<string>());
        Assert.StartsWith("ory_at_", c["registration_access_token"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Refused_and_invalid_metadata_get_hydras_errors_and_store_nothing(string db)
    {
        var s = await enabled.Get(db);
        var owner = NewOwner();
        (string Body, HttpStatusCode Status, string Error, string Description)[] cases =
        [
            ($$"""{"owner":"{{owner}}","client_secret":"my-own-secret"}""", HttpStatusCode.BadRequest, "The request was malformed or contained invalid parameters",
                "It is not allowed to choose your own OAuth2 Client secret."),
            ($$$"""{"owner":"{{{owner}}}","metadata":{"tier":"gold"}}""", HttpStatusCode.BadRequest, "invalid_client_metadata",
                "The value of one of the Client Metadata fields is invalid and the server has rejected this request. Note that an Authorization Server MAY choose to substitute a valid value for any requested parameter of a Client's Metadata. 'metadata' cannot be set for dynamic client registration"),
            ($$"""{"owner":"{{owner}}","metadata":null}""", HttpStatusCode.BadRequest, "invalid_client_metadata",
                "The value of one of the Client Metadata fields is invalid and the server has rejected this request. Note that an Authorization Server MAY choose to substitute a valid value for any requested parameter of a Client's Metadata. 'metadata' cannot be set for dynamic client registration"),
            ($$"""{"owner":"{{owner}}","access_token_strategy":"jwt"}""", HttpStatusCode.BadRequest, "The request was malformed or contained invalid parameters",
                "It is not allowed to choose your own access token strategy."),
            ($$"""{"owner":"{{owner}}","skip_consent":true}""", HttpStatusCode.BadRequest, "invalid_request", "'skip_consent' cannot be set for dynamic client registration"),
            ($$"""{"owner":"{{owner}}","skip_logout_consent":true}""", HttpStatusCode.BadRequest, "invalid_request", "'skip_logout_consent' cannot be set for dynamic client registration"),
            ($$"""{"owner":"{{owner}}","redirect_uris":["https://rp.example/cb#frag"]}""", HttpStatusCode.BadRequest, "invalid_redirect_uri",
                "The value of one or more redirect_uris is invalid. Redirect URIs must not contain fragments (#)."),
            ($$"""{"owner":"{{owner}}","tos_uri":"ftp://rp.example/tos"}""", HttpStatusCode.BadRequest, "invalid_client_metadata",
                "The value of one of the Client Metadata fields is invalid and the server has rejected this request. Note that an Authorization Server MAY choose to substitute a valid value for any requested parameter of a Client's Metadata. ftp://rp.example/tos must use https:// or http:// as HTTP scheme for field tos_uri."),
            ($$"""{"owner":"{{owner}}","redirect_uris":"https://rp.example/cb"}""", HttpStatusCode.BadRequest, "The request was malformed or contained invalid parameters",
                "Unable to decode the request body: json: cannot unmarshal string into Go struct field Client.redirect_uris of type []string"),
        ];
        foreach (var (body, status, error, description) in cases)
        {
            var e = await (await s.Public.PostJson("/oauth2/register", body)).OAuth2Error(status, error);
            Assert.Equal(description, e["error_description"]!.GetValue<string>());
        }
        await (await s.Public.PostJson("/oauth2/register", "{not json")).OAuth2Error(HttpStatusCode.BadRequest, "The request was malformed or contained invalid parameters");
        var huge = new JsonObject { ["owner"] = owner, ["contacts"] = new JsonArray([.. Enumerable.Range(0, 4000).Select(i => (JsonNode)$"contact-{i}@rp.example")]) };
        var tooBig = await (await s.Public.PostJson("/oauth2/register", huge)).OAuth2Error(HttpStatusCode.BadRequest, "invalid_client_metadata");
        Assert.EndsWith("The client metadata must not exceed 65536 bytes.", tooBig["error_description"]!.GetValue<string>());
        Assert.Equal(0, await CountOwnedAsync(s, owner));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_missing_wrong_or_other_clients_token_is_401_in_hydras_error_json(string db)
    {
        var s = await enabled.Get(db);
        var a = await RegisterAsync(s, """{"client_name":"a"}""");
        var b = await RegisterAsync(s, """{"client_name":"b"}""");
        var aId = a["client_id"]!.GetValue<string>();
        var aToken = a["registration_access_token"]!.GetValue<string>();
        var bToken = b["registration_access_token"]!.GetValue<string>();
        var adminMade = (await (await s.AdminWithKey.PostJson("/admin/clients", "{}")).Json(HttpStatusCode.Created))["client_id"]!.GetValue<string>();

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Put, HttpMethod.Delete })
        {
            var json = method == HttpMethod.Put ? """{"client_name":"taken over"}""" : null;
            foreach (var (path, token) in new (string, string?)[]
            {
                (aId, null), (aId, "ory_at_wrong"), (aId, aToken + "x"), (aId, bToken), (adminMade, aToken), (Guid.NewGuid().ToString(), aToken), (aId, s.ApiKey),
            })
            {
                var e = await (await s.Public.SendAsync(WithToken(method, "/oauth2/register/" + path, token, json))).OAuth2Error(HttpStatusCode.Unauthorized, "The request could not be authorized");
                Assert.Equal(Unauthorized, e["error_description"]!.GetValue<string>());
            }
        }
        // Nothing changed: a's token still works and a is as registered.
        var got = (await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/oauth2/register/" + aId, aToken))).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("a", got["client_name"]!.GetValue<string>());
        // As in Hydra (fosite reads the token from the access_token parameter too), and without the ory_at_ prefix.
        await (await s.Public.GetAsync($"/oauth2/register/{aId}?access_token={aToken}")).Json(HttpStatusCode.OK);
        await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/oauth2/register/" + aId, aToken["ory_at_".Length..]))).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Put_replaces_the_metadata_keeps_the_secret_and_rotates_the_registration_token(string db)
    {
        var s = await enabled.Get(db);
        var c = await RegisterAsync(s, """{"client_name":"before","grant_types":["client_credentials"],"scope":"read"}""");
        var id = c["client_id"]!.GetValue<string>();
        var secret = c["client_secret"]!.GetValue<string>();
        var token = c["registration_access_token"]!.GetValue<string>();
        var path = "/oauth2/register/" + id;

        var res = await s.Public.SendAsync(WithToken(HttpMethod.Put, path, token, """{"client_name":"after","grant_types":["client_credentials"],"client_id":"ignored"}"""));
        var u = (await res.Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(id, u["client_id"]!.GetValue<string>());
        Assert.Equal("after", u["client_name"]!.GetValue<string>());
        Assert.Equal("openid email", u["scope"]!.GetValue<string>());
        Assert.False(u.ContainsKey("client_secret"));
        Assert.False(u.ContainsKey("registration_client_uri"));
        var rotated = u["registration_access_token"]!.GetValue<string>();
        Assert.Matches("^ory_at_[A-Za-z0-9_-]{43}$", rotated);
        Assert.NotEqual(token, rotated);

        // The old token is dead, the new one works, the secret is unchanged.
        await (await s.Public.SendAsync(WithToken(HttpMethod.Get, path, token))).OAuth2Error(HttpStatusCode.Unauthorized);
        await (await s.Public.SendAsync(WithToken(HttpMethod.Put, path, token, "{}"))).OAuth2Error(HttpStatusCode.Unauthorized);
        var got = (await (await s.Public.SendAsync(WithToken(HttpMethod.Get, path, rotated))).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("after", got["client_name"]!.GetValue<string>());
        await (await ClientCredentialsAsync(s, id, secret)).Json(HttpStatusCode.OK);

        // Refused bodies change nothing and do not rotate the token.
        var forbidden = await (await s.Public.SendAsync(WithToken(HttpMethod.Put, path, rotated, """{"client_secret":"new-secret-value"}"""))).OAuth2Error(HttpStatusCode.Forbidden, "The requested action was forbidden");
        Assert.Equal("It is not allowed to choose your own OAuth2 Client secret.", forbidden["error_description"]!.GetValue<string>());
        await (await s.Public.SendAsync(WithToken(HttpMethod.Put, path, rotated, """{"client_name":"x","metadata":{}}"""))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_client_metadata");
        await (await s.Public.SendAsync(WithToken(HttpMethod.Put, path, rotated, """{"client_name":"x","skip_consent":true}"""))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        var bad = await (await s.Public.SendAsync(WithToken(HttpMethod.Put, path, rotated, """{"client_name":42}"""))).OAuth2Error(HttpStatusCode.BadRequest);
        Assert.Equal("Unable to decode the request body. Is it valid JSON?", bad["error_description"]!.GetValue<string>());
        got = (await (await s.Public.SendAsync(WithToken(HttpMethod.Get, path, rotated))).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("after", got["client_name"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Concurrent_puts_with_one_token_let_only_one_through(string db)
    {
        var s = await enabled.Get(db);
        var c = await RegisterAsync(s, """{"client_name":"race"}""");
        var path = "/oauth2/register/" + c["client_id"]!.GetValue<string>();
        var token = c["registration_access_token"]!.GetValue<string>();
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => s.Public.SendAsync(WithToken(HttpMethod.Put, path, token, $$"""{"client_name":"race-{{i}}"}"""))));
        Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
        Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Delete_removes_the_client_and_then_its_token_is_401(string db)
    {
        var s = await enabled.Get(db);
        var c = await RegisterAsync(s, """{"client_name":"short-lived","grant_types":["client_credentials"]}""");
        var id = c["client_id"]!.GetValue<string>();
        var token = c["registration_access_token"]!.GetValue<string>();
        var secret = c["client_secret"]!.GetValue<string>();

        var res = await s.Public.SendAsync(WithToken(HttpMethod.Delete, "/oauth2/register/" + id, token));
        Assert.Equal(HttpStatusCode.NoContent, res.StatusCode);
        await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/oauth2/register/" + id, token))).OAuth2Error(HttpStatusCode.Unauthorized, "The request could not be authorized");
        await (await s.Public.SendAsync(WithToken(HttpMethod.Delete, "/oauth2/register/" + id, token))).OAuth2Error(HttpStatusCode.Unauthorized);
        await (await s.AdminWithKey.GetAsync("/admin/clients/" + id)).OAuth2Error(HttpStatusCode.NotFound);
        await (await ClientCredentialsAsync(s, id, secret)).OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Admin_put_drops_the_registration_token_as_in_hydra_while_admin_patch_keeps_it(string db)
    {
        var s = await enabled.Get(db);
        var patched = await RegisterAsync(s, """{"client_name":"p"}""");
        var pid = patched["client_id"]!.GetValue<string>();
        var ptoken = patched["registration_access_token"]!.GetValue<string>();
        await (await s.AdminWithKey.PatchJson("/admin/clients/" + pid, """[{"op":"replace","path":"/client_name","value":"p2"}]""")).Json(HttpStatusCode.OK);
        var got = (await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/oauth2/register/" + pid, ptoken))).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("p2", got["client_name"]!.GetValue<string>());

        var set = await RegisterAsync(s, """{"client_name":"s"}""");
        var sid = set["client_id"]!.GetValue<string>();
        await (await s.AdminWithKey.PutJson("/admin/clients/" + sid, """{"client_name":"s2"}""")).Json(HttpStatusCode.OK);
        await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/oauth2/register/" + sid, set["registration_access_token"]!.GetValue<string>()))).OAuth2Error(HttpStatusCode.Unauthorized);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Registrations_per_address_are_limited_and_refused_bodies_do_not_count(string db)
    {
        // Client addresses come from X-Forwarded-For, with 127.0.0.1 as a trusted proxy.
        await using var s = await TestServer.StartAsync(db, o =>
        {
            o.Oidc.DynamicClientRegistration.Enabled = true;
            o.Gatehouse.TrustedProxies = ["127.0.0.1"];
            o.Gatehouse.RateLimits.ClientRegistrationsPerAddress = new RateLimitRule { Limit = 2, Window = TimeSpan.FromHours(1) };
        });
        var owner = NewOwner();
        Task<HttpResponseMessage> Register(string from, string body)
        {
            var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/register") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            req.Headers.Add("X-Forwarded-For", from);
            return s.Public.SendAsync(req);
        }

        await (await Register("203.0.113.9", """{"skip_consent":true}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        await (await Register("203.0.113.9", $$"""{"owner":"{{owner}}"}""")).Json(HttpStatusCode.Created);
        await (await Register("203.0.113.9", $$"""{"owner":"{{owner}}"}""")).Json(HttpStatusCode.Created);
        var refused = await Register("203.0.113.9", $$"""{"owner":"{{owner}}"}""");
        var e = await refused.OAuth2Error(HttpStatusCode.TooManyRequests, "The client has sent too many requests, please try again later");
        Assert.StartsWith("Too many OAuth2 clients were registered from your network.", e["error_description"]!.GetValue<string>());
        Assert.InRange(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 3500, 3600);
        Assert.Equal(2, await CountOwnedAsync(s, owner));

        // Another address has its own budget.
        await (await Register("198.51.100.4", $$"""{"owner":"{{owner}}"}""")).Json(HttpStatusCode.Created);
        Assert.Equal(3, await CountOwnedAsync(s, owner));
    }
}
