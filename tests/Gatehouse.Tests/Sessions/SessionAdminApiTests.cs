using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Sessions.SessionFixtures;

namespace Gatehouse.Tests.Sessions;

public sealed class SessionAdminApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static string? NextLink(HttpResponseMessage response)
    {
        var link = response.Headers.GetValues("Link").Single();
        var next = link.Split(',').SingleOrDefault(l => l.Contains("rel=\"next\"", StringComparison.Ordinal));
        return next is null ? null : next[(next.IndexOf('<', StringComparison.Ordinal) + 1)..next.IndexOf('>', StringComparison.Ordinal)];
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Admin_list_pages_newest_first_by_keyset_with_only_a_link_header(string db)
    {
        await using var s = await TestServer.StartAsync(db);
        var identity = await CreateIdentity(s);
        var issued = new List<Guid>();
        for (var i = 0; i < 5; i++) issued.Add((await Issue(s, Id(identity))).Session.Id);

        var seen = new List<Guid>();
        string? url = "/admin/sessions?page_size=2";
        var pages = 0;
        while (url is not null)
        {
            var response = await s.AdminWithKey.GetAsync(url);
            var page = (await response.Json(HttpStatusCode.OK)).AsArray();
            Assert.False(response.Headers.Contains("X-Total-Count"));
            Assert.Contains("rel=\"first\"", response.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
            Assert.True(page.Count <= 2);
            foreach (var session in page)
            {
                Assert.Null(session!["identity"]);
                Assert.Null(session["devices"]);
                seen.Add(Guid.Parse(session["id"]!.GetValue<string>()));
            }
            url = NextLink(response);
            Assert.True(url is null || url.StartsWith(s.AdminUrl, StringComparison.Ordinal));
            pages++;
        }
        Assert.Equal(3, pages);
        // UUIDv7 ids grow with creation time; newest first.
        Assert.Equal(issued.AsEnumerable().Reverse(), seen);

        var expanded = (await (await s.AdminWithKey.GetAsync("/admin/sessions?expand=Identity&expand=DEVICES")).Json(HttpStatusCode.OK)).AsArray();
        Assert.All(expanded, x =>
        {
            Assert.Equal(identity["id"]!.GetValue<string>(), x!["identity"]!["id"]!.GetValue<string>());
            Assert.True(x["identity"]!.AsObject().ContainsKey("metadata_admin"));
            Assert.False(x["identity"]!.AsObject().ContainsKey("credentials"));
            Assert.Single(x["devices"]!.AsArray());
        });
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Admin_list_filters_by_active_and_refuses_bad_parameters(string db)
    {
        await using var s = await TestServer.StartAsync(db);
        var identity = await CreateIdentity(s);
        var live = await Issue(s, Id(identity));
        var revoked = await Issue(s, Id(identity));
        await Update(s, revoked.Session.Id, x => x.Active = false);
        var expired = await Issue(s, Id(identity));
        await Update(s, expired.Session.Id, x => x.ExpiresAt = DateTime.UtcNow.AddMinutes(-1));

        static IEnumerable<Guid> Ids(JsonNode body) => body.AsArray().Select(x => Guid.Parse(x!["id"]!.GetValue<string>())).Order();
        Assert.Equal([live.Session.Id], Ids(await (await s.AdminWithKey.GetAsync("/admin/sessions?active=true")).Json(HttpStatusCode.OK)));
        Assert.Equal(new[] { revoked.Session.Id, expired.Session.Id }.Order(), Ids(await (await s.AdminWithKey.GetAsync("/admin/sessions?active=false")).Json(HttpStatusCode.OK)));
        Assert.Equal(3, Ids(await (await s.AdminWithKey.GetAsync("/admin/sessions")).Json(HttpStatusCode.OK)).Count());

        var active = await (await s.AdminWithKey.GetAsync("/admin/sessions?active=maybe")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("could not parse parameter active", active["reason"]!.GetValue<string>());
        var expand = await (await s.AdminWithKey.GetAsync("/admin/sessions?expand=credentials")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("Could not parse expand option: credentials", expand["reason"]!.GetValue<string>());
        foreach (var token in new[] { "garbage!", "Zm9vYmFy", Convert.ToBase64String("created_at=yesterday/id=nope"u8.ToArray()) })
        {
            var error = await (await s.AdminWithKey.GetAsync($"/admin/sessions?page_token={Uri.EscapeDataString(token)}")).Error(HttpStatusCode.BadRequest);
            Assert.Equal("The page token is invalid, do not craft your own page tokens", error["reason"]!.GetValue<string>());
        }
        // A token in Kratos's own format (five fractional digits) is understood.
        var kratosToken = Convert.ToBase64String("created_at=2200-01-01 00:00:00.12345/id=00000000-0000-0000-0000-000000000000"u8.ToArray()).TrimEnd('=');
        Assert.Equal(3, (await (await s.AdminWithKey.GetAsync($"/admin/sessions?page_token={kratosToken}")).Json(HttpStatusCode.OK)).AsArray().Count);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Admin_get_expands_on_request_and_answers_400_404_and_whoami_redirect(string db)
    {
        var s = await fixture.Get(db);
        var (identity, issued) = await IdentityWithSession(s);
        var plain = (await (await s.AdminWithKey.GetAsync($"/admin/sessions/{issued.Session.Id}")).Json(HttpStatusCode.OK)).AsObject();
        Assert.Null(plain["identity"]);
        Assert.Empty(plain["devices"]!.AsArray());
        Assert.True(plain["active"]!.GetValue<bool>());
        var full = (await (await s.AdminWithKey.GetAsync($"/admin/sessions/{issued.Session.Id}?expand=identity&expand=devices")).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(identity["id"]!.GetValue<string>(), full["identity"]!["id"]!.GetValue<string>());
        Assert.True(full["identity"]!.AsObject().ContainsKey("metadata_admin"));
        Assert.Single(full["devices"]!.AsArray());

        await (await s.AdminWithKey.GetAsync("/admin/sessions/not-a-uuid")).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.GetAsync($"/admin/sessions/{Guid.NewGuid()}")).Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.GetAsync($"/admin/sessions/{issued.Session.Id}?expand=nope")).Error(HttpStatusCode.BadRequest);

        // The admin listener serves the same without the /admin prefix; the public one only with the API key.
        Assert.Equal(HttpStatusCode.OK, (await s.AdminWithKey.GetAsync($"/sessions/{issued.Session.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await s.PublicWithKey.GetAsync($"/admin/sessions/{issued.Session.Id}")).StatusCode);
        await (await s.Public.GetAsync($"/admin/sessions/{issued.Session.Id}")).Error(HttpStatusCode.Unauthorized);

        using var admin = Client(s.AdminUrl);
        admin.DefaultRequestHeaders.Authorization = new("Bearer", s.ApiKey);
        var whoami = await admin.GetAsync("/admin/sessions/whoami");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, whoami.StatusCode);
        Assert.Equal($"{s.PublicUrl}/sessions/whoami", whoami.Headers.Location!.ToString());
        var revokeOthers = await admin.DeleteAsync("/sessions");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, revokeOthers.StatusCode);
        Assert.Equal($"{s.PublicUrl}/sessions", revokeOthers.Headers.Location!.ToString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Extend_moves_the_expiry_only_inside_the_earliest_possible_extend_window(string db)
    {
        var s = await fixture.Get(db);
        var (_, soon) = await IdentityWithSession(s);
        await Update(s, soon.Session.Id, x => x.ExpiresAt = DateTime.UtcNow.AddHours(1));
        var extended = (await (await s.AdminWithKey.PatchAsync($"/admin/sessions/{soon.Session.Id}/extend", null)).Json(HttpStatusCode.OK)).AsObject();
        var expiresAt = DateTime.Parse(extended["expires_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal);
        Assert.InRange(expiresAt, DateTime.UtcNow.AddHours(23.9), DateTime.UtcNow.AddHours(24.1));
        Assert.Equal(soon.Session.Id.ToString(), extended["id"]!.GetValue<string>());
        Assert.NotNull(extended["identity"]);

        var (_, later) = await IdentityWithSession(s);
        var farAway = DateTime.UtcNow.AddHours(48);
        await Update(s, later.Session.Id, x => x.ExpiresAt = farAway);
        await (await s.AdminWithKey.PatchAsync($"/admin/sessions/{later.Session.Id}/extend", null)).Json(HttpStatusCode.OK);
        Assert.Equal(farAway, (await Load(s, later.Session.Id))!.ExpiresAt, TimeSpan.FromMilliseconds(1));

        await (await s.AdminWithKey.PatchAsync($"/admin/sessions/{Guid.NewGuid()}/extend", null)).Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.PatchAsync("/admin/sessions/nope/extend", null)).Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Faster_session_extend_answers_204_without_the_session_and_still_extends(string db)
    {
        // Kratos's adminSessionExtend with feature_flags.faster_session_extend: 204, the session not read back.
        await using var s = await TestServer.StartAsync(db, o => o.FeatureFlags.FasterSessionExtend = true);
        var (_, soon) = await IdentityWithSession(s);
        await Update(s, soon.Session.Id, x => x.ExpiresAt = DateTime.UtcNow.AddHours(1));
        var response = await s.AdminWithKey.PatchAsync($"/admin/sessions/{soon.Session.Id}/extend", null);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.InRange((await Load(s, soon.Session.Id))!.ExpiresAt, DateTime.UtcNow.AddHours(23.9), DateTime.UtcNow.AddHours(24.1));
        // Unknown and malformed ids are refused as without the flag.
        await (await s.AdminWithKey.PatchAsync($"/admin/sessions/{Guid.NewGuid()}/extend", null)).Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.PatchAsync("/admin/sessions/nope/extend", null)).Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Admin_delete_disables_the_session(string db)
    {
        var s = await fixture.Get(db);
        var (_, issued) = await IdentityWithSession(s);
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/sessions/{issued.Session.Id}")).StatusCode);
        var after = (await (await s.AdminWithKey.GetAsync($"/admin/sessions/{issued.Session.Id}")).Json(HttpStatusCode.OK)).AsObject();
        Assert.False(after["active"]!.GetValue<bool>());
        await (await s.AdminWithKey.DeleteAsync($"/admin/sessions/{Guid.NewGuid()}")).Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.DeleteAsync("/admin/sessions/nope")).Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Identity_sessions_list_with_total_count_link_and_active_filter(string db)
    {
        var s = await fixture.Get(db);
        var identity = await CreateIdentity(s, extra: ""","metadata_admin":{"tier":"gold"}""");
        var sessions = new List<Guid>();
        for (var i = 0; i < 3; i++) sessions.Add((await Issue(s, Id(identity))).Session.Id);
        await Update(s, sessions[0], x => x.Active = false);
        await IdentityWithSession(s);

        var all = await s.AdminWithKey.GetAsync($"/admin/identities/{Id(identity)}/sessions");
        var body = (await all.Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal("3", all.Headers.GetValues("X-Total-Count").Single());
        Assert.Contains("rel=\"first\"", all.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
        Assert.Equal(sessions.Order(), body.Select(x => Guid.Parse(x!["id"]!.GetValue<string>())).Order());
        Assert.All(body, x => Assert.Equal("gold", x!["identity"]!["metadata_admin"]!["tier"]!.GetValue<string>()));
        Assert.All(body, x => Assert.Single(x!["devices"]!.AsArray()));

        var active = await s.AdminWithKey.GetAsync($"/admin/identities/{Id(identity)}/sessions?active=true");
        Assert.Equal("2", active.Headers.GetValues("X-Total-Count").Single());
        var inactive = (await (await s.AdminWithKey.GetAsync($"/admin/identities/{Id(identity)}/sessions?active=false")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal(sessions[0].ToString(), inactive.Single()!["id"]!.GetValue<string>());

        var paged = await s.AdminWithKey.GetAsync($"/admin/identities/{Id(identity)}/sessions?per_page=2&page=1");
        Assert.Single((await paged.Json(HttpStatusCode.OK)).AsArray());
        Assert.Contains("rel=\"prev\"", paged.Headers.GetValues("Link").Single(), StringComparison.Ordinal);

        await (await s.AdminWithKey.GetAsync($"/admin/identities/{Guid.NewGuid()}/sessions")).Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.GetAsync($"/admin/identities/{Id(identity)}/sessions?active=perhaps")).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.GetAsync("/admin/identities/nope/sessions")).Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Deleting_an_identitys_sessions_removes_them_and_nobody_elses(string db)
    {
        var s = await fixture.Get(db);
        var (identity, first) = await IdentityWithSession(s);
        var second = await Issue(s, Id(identity));
        var (_, stranger) = await IdentityWithSession(s);
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/identities/{Id(identity)}/sessions")).StatusCode);
        Assert.Null(await Load(s, first.Session.Id));
        Assert.Null(await Load(s, second.Session.Id));
        Assert.NotNull(await Load(s, stranger.Session.Id));
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/identities/{Id(identity)}/sessions")).StatusCode);
        await (await s.AdminWithKey.DeleteAsync($"/admin/identities/{Guid.NewGuid()}/sessions")).Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.DeleteAsync("/admin/identities/nope/sessions")).Error(HttpStatusCode.BadRequest);
    }
}
