using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Sessions.SessionFixtures;

namespace Gatehouse.Tests.Sessions;

/// <summary><c>POST /admin/sessions</c> (Kratos's manageSessions): bulk disable or delete by identity, by session, or all.</summary>
public sealed class ManageSessionsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static async Task<JsonObject> Manage(HttpClient admin, string body, HttpStatusCode expected = HttpStatusCode.OK) =>
        expected == HttpStatusCode.OK
            ? (await (await admin.PostJson("/admin/sessions", body)).Json(HttpStatusCode.OK)).AsObject()
            : await (await admin.PostJson("/admin/sessions", body)).Error(expected);

    private static async Task<HttpStatusCode> Whoami(TestServer s, string token)
    {
        using var client = Client(s.PublicUrl);
        return (await client.SendAsync(Get("/sessions/whoami", token: token))).StatusCode;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Disable_by_session_counts_only_sessions_that_were_active(string db)
    {
        var s = await fixture.Get(db);
        var (identity, first) = await IdentityWithSession(s);
        var second = await Issue(s, Id(identity));
        var revoked = await Issue(s, Id(identity));
        var untouched = await Issue(s, Id(identity));
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/sessions/{revoked.Session.Id}")).StatusCode);
        // Cached whoami answers must not outlive the bulk disable.
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, first.Token));
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, first.Token));

        var answer = await Manage(s.AdminWithKey,
            $$"""{"action":"disable","sessions":["{{first.Session.Id}}","{{second.Session.Id}}","{{revoked.Session.Id}}","{{Guid.NewGuid()}}"]}""");
        Assert.Equal("""{"processed":2,"more":false}""", answer.ToJsonString());
        Assert.Equal(HttpStatusCode.Unauthorized, await Whoami(s, first.Token));
        Assert.Equal(HttpStatusCode.Unauthorized, await Whoami(s, second.Token));
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, untouched.Token));
        // Disabled, not deleted: the admin API still shows them, inactive.
        var shown = await (await s.AdminWithKey.GetAsync($"/admin/sessions/{first.Session.Id}")).Json(HttpStatusCode.OK);
        Assert.False(shown["active"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Delete_by_identity_removes_every_session_of_those_identities_only(string db)
    {
        var s = await fixture.Get(db);
        var (a, a1) = await IdentityWithSession(s);
        var a2 = await Issue(s, Id(a));
        var (b, b1) = await IdentityWithSession(s);
        var (_, other) = await IdentityWithSession(s);
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, a1.Token));
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, a1.Token));

        // Through the public listener with the API key, as an Ory Network project serves it.
        var answer = await Manage(s.PublicWithKey, $$"""{"action":"delete","identities":["{{Id(a)}}","{{Id(b)}}"]}""");
        Assert.Equal("""{"processed":3,"more":false}""", answer.ToJsonString());
        foreach (var gone in new[] { a1, a2, b1 })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await s.AdminWithKey.GetAsync($"/admin/sessions/{gone.Session.Id}")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, await Whoami(s, gone.Token));
        }
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, other.Token));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_wildcard_disables_every_session_and_says_when_none_are_left(string db)
    {
        await using var s = await TestServer.StartAsync(db);
        var tokens = new List<string>();
        for (var i = 0; i < 3; i++) tokens.Add((await IdentityWithSession(s)).Session.Token);
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, tokens[0]));

        Assert.Equal("""{"processed":3,"more":false}""", (await Manage(s.AdminWithKey, """{"action":"disable","identities":["*"]}""")).ToJsonString());
        foreach (var token in tokens) Assert.Equal(HttpStatusCode.Unauthorized, await Whoami(s, token));
        Assert.Equal("""{"processed":0,"more":false}""", (await Manage(s.AdminWithKey, """{"action":"disable","identities":["*"]}""")).ToJsonString());
        // Delete counts every row, disabled ones too.
        Assert.Equal("""{"processed":3,"more":false}""", (await Manage(s.AdminWithKey, """{"action":"delete","identities":["*"]}""")).ToJsonString());
        var list = await (await s.AdminWithKey.GetAsync("/admin/sessions")).Json(HttpStatusCode.OK);
        Assert.Empty(list.AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Bad_bodies_get_kratos_reasons_and_change_nothing(string db)
    {
        var s = await fixture.Get(db);
        var (identity, issued) = await IdentityWithSession(s);
        var id = Id(identity);
        var tooMany = string.Join(",", Enumerable.Range(0, 501).Select(_ => $"\"{Guid.NewGuid()}\""));
        foreach (var (body, reason) in new[]
        {
            ("""{"action":"disable","identities":""", "Invalid JSON body."),
            ($$"""{"action":"disable","identities":"{{id}}"}""", "Invalid JSON body."),
            ("""[1]""", "Invalid JSON body."),
            ($$"""{"action":"revoke","identities":["{{id}}"]}""", "The 'action' field must be one of 'disable' or 'delete'."),
            ($$"""{"identities":["{{id}}"]}""", "The 'action' field must be one of 'disable' or 'delete'."),
            ("""{"action":"disable"}""", "Exactly one of 'identities' or 'sessions' must be a non-empty array."),
            ("""{"action":"disable","identities":[],"sessions":[]}""", "Exactly one of 'identities' or 'sessions' must be a non-empty array."),
            ($$"""{"action":"disable","identities":["{{id}}"],"sessions":["{{issued.Session.Id}}"]}""", "Exactly one of 'identities' or 'sessions' must be a non-empty array."),
            ("""{"action":"delete","sessions":["*"]}""", "Could not parse 'sessions' field: the wildcard '*' is not accepted here"),
            ($$"""{"action":"delete","identities":["{{id}}","*"]}""", "Could not parse 'identities' field: the wildcard '*' is not accepted here"),
            ($$"""{"action":"delete","identities":["{{id}}","nope"]}""", "Could not parse 'identities' field: could not parse \"nope\" as UUID"),
            ($$"""{"action":"delete","sessions":[{{tooMany}}]}""", "Could not parse 'sessions' field: at most 500 IDs may be provided per call"),
        })
        {
            var error = await Manage(s.AdminWithKey, body, HttpStatusCode.BadRequest);
            Assert.Equal(reason, error["reason"]!.GetValue<string>());
        }
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, issued.Token));
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.Admin.PostJson("/admin/sessions", $$"""{"action":"delete","identities":["{{id}}"]}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, issued.Token));
    }
}
