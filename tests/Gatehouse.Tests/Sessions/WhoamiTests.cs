using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Sessions.SessionFixtures;

namespace Gatehouse.Tests.Sessions;

public sealed class WhoamiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Unauthorized = """{"error":{"code":401,"status":"Unauthorized","reason":"No valid session credentials found in the request.","message":"The request could not be authorized"}}""";

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Whoami_returns_the_session_with_public_identity_devices_and_identity_header(string db)
    {
        var s = await fixture.Get(db);
        var identity = await CreateIdentity(s, extra: ""","metadata_public":{"plan":"pro"},"metadata_admin":{"crm":1}""");
        var issued = await Issue(s, Id(identity), h => { h["True-Client-IP"] = "198.51.100.4"; h["X-Real-IP"] = "10.1.1.1"; h["Cf-Ipcountry"] = "NL"; });
        using var client = Client(s.PublicUrl);
        var response = await client.SendAsync(Get("/sessions/whoami", token: issued.Token));
        var body = (await response.Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(identity["id"]!.GetValue<string>(), response.Headers.GetValues("X-Kratos-Authenticated-Identity-Id").Single());
        Assert.Equal(
            ["id", "active", "expires_at", "authenticated_at", "authenticator_assurance_level", "authentication_methods", "issued_at", "identity", "devices"],
            body.Select(p => p.Key));
        Assert.Equal(issued.Session.Id.ToString(), body["id"]!.GetValue<string>());
        Assert.True(body["active"]!.GetValue<bool>());
        Assert.Equal("aal1", body["authenticator_assurance_level"]!.GetValue<string>());
        var method = body["authentication_methods"]!.AsArray().Single()!.AsObject();
        Assert.Equal(["method", "aal", "completed_at"], method.Select(p => p.Key));
        Assert.Equal("password", method["method"]!.GetValue<string>());
        var expires = DateTime.Parse(body["expires_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal);
        var authenticated = DateTime.Parse(body["authenticated_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal);
        Assert.Equal(TimeSpan.FromHours(24), expires - authenticated);
        Assert.Equal(body["authenticated_at"]!.GetValue<string>(), body["issued_at"]!.GetValue<string>());
        var who = body["identity"]!.AsObject();
        Assert.Equal(identity["id"]!.GetValue<string>(), who["id"]!.GetValue<string>());
        Assert.Equal("pro", who["metadata_public"]!["plan"]!.GetValue<string>());
        Assert.False(who.ContainsKey("metadata_admin"));
        Assert.False(who.ContainsKey("credentials"));
        Assert.Single(who["verifiable_addresses"]!.AsArray());
        var device = body["devices"]!.AsArray().Single()!.AsObject();
        Assert.Equal(["id", "ip_address", "user_agent", "location"], device.Select(p => p.Key));
        Assert.Equal("198.51.100.4", device["ip_address"]!.GetValue<string>());
        Assert.Equal("GatehouseTests/1.0", device["user_agent"]!.GetValue<string>());
        Assert.Equal("NL", device["location"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Whoami_accepts_bearer_and_cookie_and_answers_every_method(string db)
    {
        var s = await fixture.Get(db);
        var (_, issued) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        var cookie = CookieHeader(s, issued);
        foreach (var request in new[]
        {
            Get("/sessions/whoami", bearer: issued.Token),
            Get("/sessions/whoami", cookie: cookie),
            Get("/sessions/whoami", token: issued.Token, method: HttpMethod.Post),
            Get("/sessions/whoami", token: issued.Token, method: HttpMethod.Put),
            Get("/sessions/whoami", token: issued.Token, method: HttpMethod.Patch),
            Get("/sessions/whoami", token: issued.Token, method: HttpMethod.Delete),
        })
        {
            var body = await (await client.SendAsync(request)).Json(HttpStatusCode.OK);
            Assert.Equal(issued.Session.Id.ToString(), body["id"]!.GetValue<string>());
        }
        var head = await client.SendAsync(Get("/sessions/whoami", token: issued.Token, method: HttpMethod.Head));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(issued.Session.IdentityId.ToString(), head.Headers.GetValues("X-Kratos-Authenticated-Identity-Id").Single());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Whoami_without_usable_credentials_is_kratos_401(string db)
    {
        var s = await fixture.Get(db);
        var (_, issued) = await IdentityWithSession(s);
        var cookie = CookieHeader(s, issued);
        var tampered = cookie[..^3] + (cookie[^3] == 'A' ? "B" : "A") + cookie[^2..];
        using var client = Client(s.PublicUrl);
        foreach (var request in new[]
        {
            Get("/sessions/whoami"),
            Get("/sessions/whoami", token: "ory_st_garbage"),
            Get("/sessions/whoami", bearer: "not even close"),
            Get("/sessions/whoami", cookie: "ory_kratos_session=garbage"),
            Get("/sessions/whoami", cookie: tampered),
            Get("/sessions/whoami", token: issued.LogoutToken),
        })
        {
            var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(Unauthorized, await response.Content.ReadAsStringAsync());
            Assert.False(response.Headers.Contains("X-Kratos-Authenticated-Identity-Id"));
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Expired_revoked_and_inactive_identity_sessions_get_401(string db)
    {
        var s = await fixture.Get(db);
        using var client = Client(s.PublicUrl);

        var (_, expired) = await IdentityWithSession(s);
        await Update(s, expired.Session.Id, x => x.ExpiresAt = DateTime.UtcNow.AddMinutes(-1));
        await (await client.SendAsync(Get("/sessions/whoami", token: expired.Token))).Error(HttpStatusCode.Unauthorized);

        var (_, revoked) = await IdentityWithSession(s);
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/sessions/{revoked.Session.Id}")).StatusCode);
        await (await client.SendAsync(Get("/sessions/whoami", token: revoked.Token))).Error(HttpStatusCode.Unauthorized);

        var (identity, disabled) = await IdentityWithSession(s);
        var patch = await s.AdminWithKey.PatchJson($"/admin/identities/{Id(identity)}", """[{"op":"replace","path":"/state","value":"inactive"}]""");
        await patch.Json(HttpStatusCode.OK);
        await (await client.SendAsync(Get("/sessions/whoami", token: disabled.Token))).Error(HttpStatusCode.Unauthorized);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Whoami_reissues_the_cookie_only_when_the_session_outlives_it(string db)
    {
        var s = await fixture.Get(db);
        var (_, issued) = await IdentityWithSession(s);
        var cookie = CookieHeader(s, issued);
        using var client = Client(s.PublicUrl);
        var plain = await client.SendAsync(Get("/sessions/whoami", cookie: cookie));
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.False(plain.Headers.Contains("Set-Cookie"));

        await Update(s, issued.Session.Id, x => x.ExpiresAt = x.ExpiresAt.AddHours(5));
        var extended = await client.SendAsync(Get("/sessions/whoami", cookie: cookie));
        Assert.Equal(HttpStatusCode.OK, extended.StatusCode);
        var setCookie = extended.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith("ory_kratos_session=", setCookie, StringComparison.Ordinal);
        Assert.Contains("httponly", setCookie, StringComparison.Ordinal);
        var again = await client.SendAsync(Get("/sessions/whoami", cookie: SetCookieValue(setCookie)));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.False(again.Headers.Contains("Set-Cookie"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Deleting_an_identity_deletes_its_sessions(string db)
    {
        var s = await fixture.Get(db);
        var (identity, issued) = await IdentityWithSession(s);
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/identities/{Id(identity)}")).StatusCode);
        Assert.Null(await Load(s, issued.Session.Id));
        using var client = Client(s.PublicUrl);
        await (await client.SendAsync(Get("/sessions/whoami", token: issued.Token))).Error(HttpStatusCode.Unauthorized);
    }
}
