using System.Net;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Sessions.SessionFixtures;

namespace Gatehouse.Tests.Sessions;

public sealed class MySessionsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task My_sessions_lists_only_my_other_active_sessions_with_page_pagination(string db)
    {
        var s = await fixture.Get(db);
        var (identity, current) = await IdentityWithSession(s);
        var others = new List<Guid>();
        for (var i = 0; i < 3; i++) others.Add((await Issue(s, Id(identity))).Session.Id);
        var revoked = await Issue(s, Id(identity));
        await Update(s, revoked.Session.Id, x => x.Active = false);
        var expired = await Issue(s, Id(identity));
        await Update(s, expired.Session.Id, x => x.ExpiresAt = DateTime.UtcNow.AddMinutes(-1));
        await IdentityWithSession(s); // someone else's

        using var client = Client(s.PublicUrl);
        var all = await client.SendAsync(Get("/sessions", token: current.Token));
        var body = (await all.Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal("3", all.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal(others.Order(), body.Select(x => Guid.Parse(x!["id"]!.GetValue<string>())).Order());
        Assert.All(body, x => Assert.False(x!["identity"]!.AsObject().ContainsKey("metadata_admin")));
        Assert.All(body, x => Assert.Single(x!["devices"]!.AsArray()));

        var first = await client.SendAsync(Get("/sessions?per_page=2", token: current.Token));
        var firstPage = (await first.Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal(2, firstPage.Count);
        var link = first.Headers.GetValues("Link").Single();
        Assert.Contains("rel=\"next\"", link, StringComparison.Ordinal);
        Assert.Contains("rel=\"last\"", link, StringComparison.Ordinal);
        var second = await client.SendAsync(Get("/sessions?per_page=2&page=1", token: current.Token));
        var secondPage = (await second.Json(HttpStatusCode.OK)).AsArray();
        Assert.Single(secondPage);
        Assert.DoesNotContain("rel=\"next\"", second.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
        Assert.Equal(others.Order(), firstPage.Concat(secondPage).Select(x => Guid.Parse(x!["id"]!.GetValue<string>())).Order());

        var next = link.Split(',').Single(l => l.Contains("rel=\"next\"", StringComparison.Ordinal));
        var nextUrl = next[(next.IndexOf('<', StringComparison.Ordinal) + 1)..next.IndexOf('>', StringComparison.Ordinal)];
        var followed = (await (await client.SendAsync(Get(nextUrl, token: current.Token))).Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal(secondPage.ToJsonString(), followed.ToJsonString());
        await (await client.SendAsync(Get("/sessions?page_token=bogus", token: current.Token))).Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Revoking_all_my_other_sessions_returns_the_count_and_keeps_the_current_one(string db)
    {
        var s = await fixture.Get(db);
        var (identity, current) = await IdentityWithSession(s);
        var other1 = await Issue(s, Id(identity));
        var other2 = await Issue(s, Id(identity));
        var (_, stranger) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        var response = await client.SendAsync(Get("/sessions", token: current.Token, method: HttpMethod.Delete));
        Assert.Equal("""{"count":2}""", (await response.Json(HttpStatusCode.OK)).ToJsonString());
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Get("/sessions/whoami", token: current.Token))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Get("/sessions/whoami", token: stranger.Token))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Get("/sessions/whoami", token: other1.Token))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Get("/sessions/whoami", token: other2.Token))).StatusCode);
        var again = await client.SendAsync(Get("/sessions", token: current.Token, method: HttpMethod.Delete));
        Assert.Equal("""{"count":0}""", (await again.Json(HttpStatusCode.OK)).ToJsonString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Revoking_one_of_my_sessions_follows_kratos_rules(string db)
    {
        var s = await fixture.Get(db);
        var (identity, current) = await IdentityWithSession(s);
        var other = await Issue(s, Id(identity));
        var (_, stranger) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        var self = await (await client.SendAsync(Get($"/sessions/{current.Session.Id}", token: current.Token, method: HttpMethod.Delete))).Error(HttpStatusCode.BadRequest);
        Assert.Equal("cannot revoke current session", self["reason"]!.GetValue<string>());
        await (await client.SendAsync(Get($"/sessions/{stranger.Session.Id}", token: current.Token, method: HttpMethod.Delete))).Error(HttpStatusCode.NotFound);
        await (await client.SendAsync(Get($"/sessions/{Guid.NewGuid()}", token: current.Token, method: HttpMethod.Delete))).Error(HttpStatusCode.NotFound);
        await (await client.SendAsync(Get("/sessions/not-a-uuid", token: current.Token, method: HttpMethod.Delete))).Error(HttpStatusCode.BadRequest);
        var ok = await client.SendAsync(Get($"/sessions/{other.Session.Id}", token: current.Token, method: HttpMethod.Delete));
        Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Get("/sessions/whoami", token: other.Token))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Get("/sessions/whoami", token: stranger.Token))).StatusCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task My_session_endpoints_need_a_session(string db)
    {
        var s = await fixture.Get(db);
        using var client = Client(s.PublicUrl);
        await (await client.SendAsync(Get("/sessions"))).Error(HttpStatusCode.Unauthorized);
        await (await client.SendAsync(Get("/sessions", method: HttpMethod.Delete))).Error(HttpStatusCode.Unauthorized);
        await (await client.SendAsync(Get($"/sessions/{Guid.NewGuid()}", method: HttpMethod.Delete))).Error(HttpStatusCode.Unauthorized);
        await (await client.SendAsync(Get("/sessions", token: "ory_st_nope"))).Error(HttpStatusCode.Unauthorized);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task My_session_endpoints_answer_kratos_401_without_an_id_and_whoami_its_own_reason(string db)
    {
        var s = await fixture.Get(db);
        using var client = Client(s.PublicUrl);
        // Kratos's listMySessions, deleteMySessions and deleteMySession: herodot.ErrUnauthorized "No valid session cookie found.".
        foreach (var (path, method, token) in new[]
        {
            ("/sessions", HttpMethod.Get, (string?)null),
            ("/sessions", HttpMethod.Delete, null),
            ($"/sessions/{Guid.NewGuid()}", HttpMethod.Delete, null),
            ("/sessions", HttpMethod.Get, "ory_st_nope"),
            ("/sessions", HttpMethod.Delete, "ory_st_nope"),
            ("/sessions/not-a-uuid", HttpMethod.Delete, "ory_st_nope"),
        })
        {
            var error = await (await client.SendAsync(Get(path, token: token, method: method))).Error(HttpStatusCode.Unauthorized);
            Assert.False(error.ContainsKey("id"), $"{method} {path}");
            Assert.Equal("No valid session cookie found.", error["reason"]!.GetValue<string>());
            Assert.Equal("The request could not be authorized", error["message"]!.GetValue<string>());
            Assert.Equal("Unauthorized", error["status"]!.GetValue<string>());
        }
        // whoami (also DELETE /sessions/whoami, Kratos's special case): ErrNoSessionFound, its own reason, no id either.
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete })
        {
            var error = await (await client.SendAsync(Get("/sessions/whoami", token: "ory_st_nope", method: method))).Error(HttpStatusCode.Unauthorized);
            Assert.False(error.ContainsKey("id"));
            Assert.Equal("No valid session credentials found in the request.", error["reason"]!.GetValue<string>());
            Assert.Equal("The request could not be authorized", error["message"]!.GetValue<string>());
        }
        // Kratos has no public GET /sessions/{id}: its router (Go's ServeMux) answers the DELETE-only path 405, as Gatehouse's.
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await client.SendAsync(Get($"/sessions/{Guid.NewGuid()}", token: "ory_st_nope"))).StatusCode);
    }
}
