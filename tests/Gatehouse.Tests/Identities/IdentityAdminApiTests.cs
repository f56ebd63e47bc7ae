using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Identities;

public sealed class IdentityAdminApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static async Task<JsonObject> Create(TestServer s, string email, string extra = "")
    {
        var response = await s.AdminWithKey.PostJson("/admin/identities", $$$$$"""{"schema_id":"default","traits":{"email":"{{{{{email}}}}}"}{{{{{extra}}}}}}""");
        return (await response.Json(HttpStatusCode.Created)).AsObject();
    }

    private static async Task<JsonObject> Get(TestServer s, string id, string query = "") =>
        (await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}{query}")).Json(HttpStatusCode.OK)).AsObject();

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Create_returns_201_with_location_addresses_and_password_credential(string db)
    {
        var s = await fixture.Get(db);
        var email = HttpAssertions.UniqueEmail("Create");
        var response = await s.AdminWithKey.PostJson("/admin/identities", $$$$$"""
            {"schema_id":"default","traits":{"email":"{{{{{email}}}}}"},"metadata_public":{"plan":"pro"},"metadata_admin":{"crm":1},
             "credentials":{"password":{"config":{"password":"a long secret phrase"}}}}
            """);
        var body = (await response.Json(HttpStatusCode.Created)).AsObject();
        var id = body["id"]!.GetValue<string>();
        Assert.Equal($"{s.AdminUrl}/admin/identities/{id}", response.Headers.Location!.ToString());
        Assert.Equal(7, Guid.Parse(id).Version);
        Assert.Equal("active", body["state"]!.GetValue<string>());
        Assert.Equal($"{s.PublicUrl}/schemas/ZGVmYXVsdA", body["schema_url"]!.GetValue<string>());
        Assert.Equal(email.ToLowerInvariant(), body["verifiable_addresses"]![0]!["value"]!.GetValue<string>());
        Assert.Equal("pending", body["verifiable_addresses"]![0]!["status"]!.GetValue<string>());
        Assert.False(body["verifiable_addresses"]![0]!["verified"]!.GetValue<bool>());
        Assert.Equal(email.ToLowerInvariant(), body["recovery_addresses"]![0]!["value"]!.GetValue<string>());
        Assert.Equal("pro", body["metadata_public"]!["plan"]!.GetValue<string>());
        Assert.Equal(1, body["metadata_admin"]!["crm"]!.GetValue<int>());
        var password = body["credentials"]!["password"]!;
        Assert.Equal(email.ToLowerInvariant(), password["identifiers"]![0]!.GetValue<string>());
        Assert.False(password.AsObject().ContainsKey("config"), "Kratos omits credential config in write responses");
        Assert.Null(body["organization_id"]);
        Assert.True(body.ContainsKey("organization_id"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Get_hides_credential_config_unless_included(string db)
    {
        var s = await fixture.Get(db);
        var created = await Create(s, HttpAssertions.UniqueEmail(), ""","credentials":{"password":{"config":{"hashed_password":"$2a$04$6Nay1TmvaLaxmHTsy96BHeGzoSxNJ2kEDMH/ZOw3QsItxz8FU/VD6"}}}""");
        var id = created["id"]!.GetValue<string>();
        var plain = await Get(s, id);
        Assert.Null(plain["credentials"]!["password"]!["config"]);
        var included = await Get(s, id, "?include_credential=password");
        Assert.StartsWith("$2a$04$", included["credentials"]!["password"]!["config"]!["hashed_password"]!.GetValue<string>());
        var bad = await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=nope");
        await bad.Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Invalid_traits_are_refused_with_400_and_nothing_is_written(string db)
    {
        var s = await fixture.Get(db);
        var response = await s.AdminWithKey.PostJson("/admin/identities", """{"schema_id":"default","traits":{"email":"not-an-email"}}""");
        var error = await response.Error(HttpStatusCode.BadRequest);
        Assert.Contains("#/traits/email", error["reason"]!.GetValue<string>());
        var missing = await s.AdminWithKey.PostJson("/admin/identities", """{"schema_id":"default","traits":{}}""");
        await missing.Error(HttpStatusCode.BadRequest);
        var list = await (await s.AdminWithKey.GetAsync("/admin/identities?credentials_identifier=not-an-email")).Json(HttpStatusCode.OK);
        Assert.Empty(list.AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Bad_bodies_get_clear_400s(string db)
    {
        var s = await fixture.Get(db);
        await (await s.AdminWithKey.PostJson("/admin/identities", "{not json")).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PostJson("/admin/identities", "[]")).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PostJson("/admin/identities", """{"schema_id":"default","traits":{"email":"a@b.co"},"bogus":1}""")).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PostJson("/admin/identities", """{"schema_id":42,"traits":{"email":"a@b.co"}}""")).Error(HttpStatusCode.BadRequest);
        var unknown = await (await s.AdminWithKey.PostJson("/admin/identities", """{"schema_id":"nope","traits":{"email":"a@b.co"}}""")).Error(HttpStatusCode.BadRequest);
        Assert.Contains("nope", unknown["reason"]!.GetValue<string>());
        await (await s.AdminWithKey.PostJson("/admin/identities", """{"traits":{"email":"a@b.co"},"state":"sleeping"}""")).Error(HttpStatusCode.BadRequest);
        var badHash = await (await s.AdminWithKey.PostJson("/admin/identities", """{"traits":{"email":"hash@b.co"},"credentials":{"password":{"config":{"hashed_password":"plaintext"}}}}""")).Error(HttpStatusCode.BadRequest);
        Assert.Contains("hash format", badHash["reason"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Bodies_over_5_MB_get_413(string db)
    {
        var s = await fixture.Get(db);
        var big = "{\"traits\":{\"email\":\"big@b.co\"},\"metadata_public\":\"" + new string('x', 6 * 1024 * 1024) + "\"}";
        // Expect: 100-continue lets the server answer before the client has uploaded the whole body.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/identities") { Content = new StringContent(big, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        var response = await s.AdminWithKey.SendAsync(request);
        await response.Error(HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Duplicate_identifier_or_external_id_is_409_and_changes_nothing(string db)
    {
        var s = await fixture.Get(db);
        var email = HttpAssertions.UniqueEmail("dup");
        var external = "ext-" + Guid.NewGuid();
        await Create(s, email, $$""","external_id":"{{external}}" """);
        var again = await s.AdminWithKey.PostJson("/admin/identities", $$$$$"""{"traits":{"email":"{{{{{email.ToUpperInvariant()}}}}}"}}""");
        var error = await again.Error(HttpStatusCode.Conflict);
        Assert.Equal("This identity conflicts with another identity that already exists.", error["reason"]!.GetValue<string>());
        var ext = await s.AdminWithKey.PostJson("/admin/identities", $$"""{"traits":{"email":"{{HttpAssertions.UniqueEmail()}}"},"external_id":"{{external}}"}""");
        await ext.Error(HttpStatusCode.Conflict);
        var byExternal = await (await s.AdminWithKey.GetAsync($"/admin/identities/by/external/{external}")).Json(HttpStatusCode.OK);
        Assert.Equal(email.ToLowerInvariant(), byExternal["traits"]!["email"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Update_replaces_traits_and_invalid_update_leaves_identity_unchanged(string db)
    {
        var s = await fixture.Get(db);
        var created = await Create(s, HttpAssertions.UniqueEmail("upd"), ""","metadata_public":{"a":1},"credentials":{"password":{"config":{"hashed_password":"$2a$04$6Nay1TmvaLaxmHTsy96BHeGzoSxNJ2kEDMH/ZOw3QsItxz8FU/VD6"}}}""");
        var id = created["id"]!.GetValue<string>();
        var newEmail = HttpAssertions.UniqueEmail("updated");
        var updated = (await (await s.AdminWithKey.PutJson($"/admin/identities/{id}", $$$$$"""
            {"schema_id":"default","state":"inactive","traits":{"email":"{{{{{newEmail}}}}}","name":{"first":"Ada"}}}
            """)).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("inactive", updated["state"]!.GetValue<string>());
        Assert.Null(updated["metadata_public"]);
        Assert.False(updated["credentials"]!["password"]!.AsObject().ContainsKey("config"), "Kratos omits credential config in write responses");
        Assert.Equal(newEmail.ToLowerInvariant(), updated["verifiable_addresses"]![0]!["value"]!.GetValue<string>());
        Assert.Single(updated["verifiable_addresses"]!.AsArray());
        Assert.NotEqual(created["state_changed_at"]!.GetValue<string>(), updated["state_changed_at"]!.GetValue<string>());

        var before = await Get(s, id);
        var invalid = await s.AdminWithKey.PutJson($"/admin/identities/{id}", """{"schema_id":"default","state":"active","traits":{"email":"broken"}}""");
        await invalid.Error(HttpStatusCode.BadRequest);
        var after = await Get(s, id);
        Assert.Equal(before.ToJsonString(), after.ToJsonString());

        await (await s.AdminWithKey.PutJson($"/admin/identities/{id}", """{"schema_id":"default"}""")).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PutJson($"/admin/identities/{Guid.NewGuid()}", """{"schema_id":"default","state":"active","traits":{"email":"x@y.zz"}}""")).Error(HttpStatusCode.NotFound);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Update_without_schema_id_or_state_keeps_the_current_ones_as_Kratos_does(string db)
    {
        var s = await fixture.Get(db);
        var created = await Create(s, HttpAssertions.UniqueEmail("keep"), ",\"state\":\"inactive\"");
        var id = created["id"]!.GetValue<string>();
        var email = HttpAssertions.UniqueEmail("kept");
        var updated = (await (await s.AdminWithKey.PutJson($"/admin/identities/{id}", $$$"""{"traits":{"email":"{{{email}}}"}}"""))
            .Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("inactive", updated["state"]!.GetValue<string>());
        Assert.Equal("default", updated["schema_id"]!.GetValue<string>());
        Assert.Equal(created["state_changed_at"]!.GetValue<string>(), updated["state_changed_at"]!.GetValue<string>());
        Assert.Equal(email.ToLowerInvariant(), updated["traits"]!["email"]!.GetValue<string>().ToLowerInvariant());
        var empty = (await (await s.AdminWithKey.PutJson($"/admin/identities/{id}", $$$"""{"schema_id":"","state":"","traits":{"email":"{{{email}}}"}}"""))
            .Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("inactive", empty["state"]!.GetValue<string>());
        await (await s.AdminWithKey.PutJson($"/admin/identities/{id}", $$$"""{"state":"weird","traits":{"email":"{{{email}}}"}}""")).Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Malformed_and_unknown_ids_are_404(string db)
    {
        var s = await fixture.Get(db);
        await (await s.AdminWithKey.GetAsync("/admin/identities/not-a-uuid")).Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.GetAsync($"/admin/identities/{Guid.NewGuid()}")).Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.DeleteAsync("/admin/identities/not-a-uuid")).Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.GetAsync("/admin/identities/by/external/nope-" + Guid.NewGuid())).Error(HttpStatusCode.NotFound);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Delete_removes_identity_and_frees_its_identifier(string db)
    {
        var s = await fixture.Get(db);
        var email = HttpAssertions.UniqueEmail("del");
        var id = (await Create(s, email))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/identities/{id}")).StatusCode);
        await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.DeleteAsync($"/admin/identities/{id}")).Error(HttpStatusCode.NotFound);
        await Create(s, email);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Json_patch_changes_traits_and_refuses_bad_ops_and_denied_paths(string db)
    {
        var s = await fixture.Get(db);
        var id = (await Create(s, HttpAssertions.UniqueEmail("patch")))["id"]!.GetValue<string>();
        var patched = await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", """
            [{"op":"add","path":"/traits/name","value":{"first":"Grace"}},{"op":"replace","path":"/metadata_public","value":{"x":true}},{"op":"replace","path":"/state","value":"inactive"}]
            """)).Json(HttpStatusCode.OK);
        Assert.Equal("Grace", patched["traits"]!["name"]!["first"]!.GetValue<string>());
        Assert.True(patched["metadata_public"]!["x"]!.GetValue<bool>());
        Assert.Equal("inactive", patched["state"]!.GetValue<string>());

        var before = (await Get(s, id)).ToJsonString();
        await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", """[{"op":"move","from":"/traits","path":"/x"}]""")).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", """[{"op":"replace","path":"/id","value":"00000000-0000-0000-0000-000000000000"}]""")).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", """[{"op":"remove","path":"/traits/nothing/here"}]""")).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", """[{"op":"replace","path":"/traits/email","value":"broken"}]""")).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", """[{"op":"replace","path":"/state","value":"weird"}]""")).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", """{"op":"add"}""")).Error(HttpStatusCode.BadRequest);
        Assert.Equal(before, (await Get(s, id)).ToJsonString());
    }

    /// <summary>
    /// Kratos's identity handler patch: ApplyJSONPatch's failures are 400 "An error occured when applying the JSON patch"
    /// with ory/x's and evanphx/json-patch v5's words as the message (deny-list /id, /stateChangedAt, /credentials,
    /// /credentials/oidc/** as lower-cased globs; only add, remove, replace), an invalid state its own reason; an unknown
    /// identity is 404 whatever the body; and nothing changes.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Json_patch_errors_carry_kratos_reason_and_message_and_change_nothing(string db)
    {
        const string Failed = "An error occured when applying the JSON patch";
        var s = await fixture.Get(db);
        var id = (await Create(s, HttpAssertions.UniqueEmail("patcherr")))["id"]!.GetValue<string>();
        var before = (await Get(s, id)).ToJsonString();
        (string Patch, string Reason, string Message)[] cases =
        [
            ("not json", Failed, "invalid state detected"),
            ("", Failed, "invalid state detected"),
            ("""[{"op":"test","path":"/traits/email","value":"x"}]""", Failed, "unsupported operation: test"),
            ("""[{"op":"remove","path":"/metadata_public"},{"op":"move","from":"/traits","path":"/x"}]""", Failed, "unsupported operation: move"),
            ("""[{"path":"/traits","op":"frob"}]""", Failed, """invalid operation {"op":"frob","path":"/traits"}: unsupported operation"""),
            ("""[{"op":"add","path":"/traits/x"}]""", Failed, """invalid operation {"op":"add","path":"/traits/x"}: failed to decode 'value': operation, missing value field: missing value"""),
            ("""[{"op":"remove"}]""", Failed, """invalid operation {"op":"remove"}: failed to decode 'path': operation missing path field: missing value"""),
            ("""[{"op":"replace","path":"/ID","value":"00000000-0000-0000-0000-000000000000"}]""", Failed, "patch includes denied path: /ID"),
            ("""[{"op":"replace","path":"/credentials","value":{}}]""", Failed, "patch includes denied path: /credentials"),
            ("""[{"op":"add","path":"/credentials/oidc/config/providers/0/organization","value":"x"}]""", Failed,
                "patch includes denied path: /credentials/oidc/config/providers/0/organization"),
            ("""[{"op":"remove","path":"/traits/nothing/here"}]""", Failed, "remove operation does not apply: doc is missing path: \"/traits/nothing/here\": missing value"),
            ("""[{"op":"remove","path":"/traits/nothing"}]""", Failed, "error in remove for path: '/traits/nothing': unable to remove nonexistent key: nothing: missing value"),
            ("""[{"op":"replace","path":"/verifiable_addresses/5","value":{}}]""", Failed, "replace operation does not apply: doc is missing key: /verifiable_addresses/5: missing value"),
            ("""[{"op":"add","path":"/verifiable_addresses/9","value":{}}]""", Failed, "error in add for path: '/verifiable_addresses/9': Unable to access invalid index: 9: invalid index referenced"),
            ("""[{"op":"replace","path":"/metadata_public","value":{"a":1}},{"op":"replace","path":"/state","value":"weird"}]""",
                "The supplied state ('weird') was not valid. Valid states are ('active', 'inactive').", "identity state is not valid"),
        ];
        foreach (var (patch, reason, message) in cases)
        {
            var error = await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", patch)).Error(HttpStatusCode.BadRequest);
            Assert.Equal((reason, message), (error["reason"]?.GetValue<string>(), error["message"]!.GetValue<string>()));
        }
        Assert.Equal(before, (await Get(s, id)).ToJsonString());
        // The identity is looked up first, as Kratos does: an unknown one is 404 whatever the body.
        await (await s.AdminWithKey.PatchJson($"/admin/identities/{Guid.NewGuid()}", "not json")).Error(HttpStatusCode.NotFound);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Listing_pages_with_keyset_tokens_and_link_header(string db)
    {
        var s = await fixture.Get(db);
        for (var i = 0; i < 5; i++) await Create(s, HttpAssertions.UniqueEmail("page"));
        var seen = new HashSet<string>();
        string? next = "/admin/identities?page_size=2";
        var pages = 0;
        while (next is not null)
        {
            var response = await s.AdminWithKey.GetAsync(next);
            var page = (await response.Json(HttpStatusCode.OK)).AsArray();
            Assert.True(page.Count <= 2);
            foreach (var i in page) Assert.True(seen.Add(i!["id"]!.GetValue<string>()));
            var link = response.Headers.GetValues("Link").Single();
            Assert.Contains("rel=\"first\"", link);
            Assert.Contains("page_token=00000000-0000-0000-0000-000000000000", link);
            next = link.Split(',').Where(l => l.Contains("rel=\"next\"")).Select(l => l[(l.IndexOf('<') + 1)..l.IndexOf('>')]).FirstOrDefault();
            pages++;
        }
        Assert.True(seen.Count >= 5);
        Assert.True(pages >= 3);
        await (await s.AdminWithKey.GetAsync("/admin/identities?page_token=garbage")).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.GetAsync("/admin/identities?page_size=abc")).Error(HttpStatusCode.BadRequest);
    }

    /// <summary>The <c>Link</c> header as rel → (page, per_page), checking each link keeps the path and carries only those two.</summary>
    private static Dictionary<string, (int Page, int PerPage)> LegacyLinks(HttpResponseMessage response, string expectedPathAndOtherQuery = "")
    {
        var links = new Dictionary<string, (int, int)>();
        foreach (var part in response.Headers.GetValues("Link").Single().Split(','))
        {
            var url = new Uri(part[(part.IndexOf('<') + 1)..part.IndexOf('>')]);
            Assert.Equal("/admin/identities", url.AbsolutePath);
            var q = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(url.Query);
            Assert.Equal(expectedPathAndOtherQuery, string.Join('&', q.Where(kv => kv.Key is not ("page" or "per_page")).Select(kv => kv.Key + "=" + kv.Value)));
            links.Add(part[(part.IndexOf("rel=\"", StringComparison.Ordinal) + 5)..^1], (int.Parse(q["page"]!, System.Globalization.CultureInfo.InvariantCulture), int.Parse(q["per_page"]!, System.Globalization.CultureInfo.InvariantCulture)));
        }
        return links;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Listing_with_legacy_page_and_per_page_answers_pages_from_0_with_a_total_and_kratos_links(string db)
    {
        var s = await fixture.Get(db);
        for (var i = 0; i < 5; i++) await Create(s, HttpAssertions.UniqueEmail("legacy"));
        var all = new List<string>();
        for (string? next = "/admin/identities?page_size=500"; next is not null;)
        {
            var response = await s.AdminWithKey.GetAsync(next);
            all.AddRange((await response.Json(HttpStatusCode.OK)).AsArray().Select(i => i!["id"]!.GetValue<string>()));
            next = response.Headers.GetValues("Link").Single().Split(',').Where(l => l.Contains("rel=\"next\"")).Select(l => l[(l.IndexOf('<') + 1)..l.IndexOf('>')]).FirstOrDefault();
        }
        var total = all.Count;
        var lastPage = (total - 1) / 2;

        async Task<(List<string> Ids, Dictionary<string, (int Page, int PerPage)> Links, HttpResponseMessage Response)> Page(string query, string other = "")
        {
            var response = await s.AdminWithKey.GetAsync("/admin/identities?" + query);
            var ids = (await response.Json(HttpStatusCode.OK)).AsArray().Select(i => i!["id"]!.GetValue<string>()).ToList();
            return (ids, LegacyLinks(response, other), response);
        }

        // page is 0-based; the first page has no "first", the last no "next"/"last" (ory/x pagepagination).
        var first = await Page("page=0&per_page=2");
        Assert.Equal(all.Take(2), first.Ids);
        Assert.Equal(total.ToString(System.Globalization.CultureInfo.InvariantCulture), first.Response.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal(new Dictionary<string, (int, int)> { ["next"] = (1, 2), ["last"] = (lastPage, 2) }, first.Links);
        var middle = await Page("page=1&per_page=2");
        Assert.Equal(all.Skip(2).Take(2), middle.Ids);
        Assert.Equal(new Dictionary<string, (int, int)> { ["first"] = (0, 2), ["next"] = (2, 2), ["prev"] = (0, 2), ["last"] = (lastPage, 2) }, middle.Links);
        var last = await Page($"page={lastPage}&per_page=2");
        Assert.Equal(all.Skip(lastPage * 2), last.Ids);
        Assert.Equal(new Dictionary<string, (int, int)> { ["first"] = (0, 2), ["prev"] = (lastPage - 1, 2) }, last.Links);
        var beyond = await Page($"page={lastPage + 3}&per_page=2");
        Assert.Empty(beyond.Ids);
        Assert.Equal(last.Links, beyond.Links);
        // Unparsable or out-of-range numbers fall back as Go's parser leaves them: page 0, per_page 250 (at most 500, at least 1).
        Assert.Equal(all.Take(250), (await Page("page=abc&per_page=x")).Ids);
        Assert.Equal(all.Take(1), (await Page("page=-4&per_page=0")).Ids);
        Assert.Equal(all.Skip(1).Take(1), (await Page("page=%2B1&per_page=-9")).Ids);
        // Other parameters stay in the links; filters apply before the offset (ids too).
        var filtered = await Page($"ids={all[0]}&ids={all[1]}&ids={all[2]}&page=1&per_page=2", $"ids={all[0]},{all[1]},{all[2]}");
        Assert.Equal([all[2]], filtered.Ids);
        // A credentials_identifier lookup counts its own page; one that fits a page links "first" with per_page = total.
        var email = (await Get(s, all[^1]))["traits"]!["email"]!.GetValue<string>();
        var lookup = await Page($"credentials_identifier={Uri.EscapeDataString(email)}&page=0&per_page=2", $"credentials_identifier={email}");
        Assert.Equal([all[^1]], lookup.Ids);
        Assert.Equal("1", lookup.Response.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal(new Dictionary<string, (int, int)> { ["first"] = (0, 1) }, lookup.Links);
        var none = await Page("credentials_identifier=nobody-here%40example.com&page=0&per_page=2", "credentials_identifier=nobody-here@example.com");
        Assert.Empty(none.Ids);
        Assert.Equal("0", none.Response.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal(new Dictionary<string, (int, int)> { ["first"] = (0, 2), ["next"] = (1, 2), ["prev"] = (-1, 2) }, none.Links);

        // page_token or page_size means keyset pages, whatever page says; per_page alone is page_size.
        var keyset = await s.AdminWithKey.GetAsync("/admin/identities?page=1&page_size=2");
        Assert.Equal(all.Take(2), (await keyset.Json(HttpStatusCode.OK)).AsArray().Select(i => i!["id"]!.GetValue<string>()));
        Assert.False(keyset.Headers.Contains("X-Total-Count"));
        var perPageOnly = await s.AdminWithKey.GetAsync("/admin/identities?per_page=2");
        Assert.Equal(all.Take(2), (await perPageOnly.Json(HttpStatusCode.OK)).AsArray().Select(i => i!["id"]!.GetValue<string>()));
        Assert.False(perPageOnly.Headers.Contains("X-Total-Count"));

        // Enumerating past 1000 items this way is refused.
        await (await s.AdminWithKey.GetAsync("/admin/identities?page=2&per_page=500")).Json(HttpStatusCode.OK);
        foreach (var query in new[] { "page=3&per_page=500", "page=1001", "page=5", "page=9223372036854775807&per_page=2" })
        {
            var refused = await (await s.AdminWithKey.GetAsync("/admin/identities?" + query)).Error(HttpStatusCode.BadRequest);
            Assert.Equal("Legacy pagination is not supported for enumerating over 1000 items. Please switch to using page_token and page_size.", refused["reason"]!.GetValue<string>());
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Listing_filters_by_identifier_ids_and_similarity(string db)
    {
        var s = await fixture.Get(db);
        var tag = Guid.NewGuid().ToString("N")[..10];
        var a = await Create(s, $"Alice-{tag}@Example.com");
        var b = await Create(s, $"alina-{tag}@example.com");
        var exact = (await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier=ALICE-{tag}@example.com")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal(a["id"]!.GetValue<string>(), Assert.Single(exact)!["id"]!.GetValue<string>());
        Assert.NotNull(exact[0]!["credentials"]);
        var ids = (await (await s.AdminWithKey.GetAsync($"/admin/identities?ids={a["id"]}&ids={b["id"]}")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal(2, ids.Count);
        var similar = (await (await s.AdminWithKey.GetAsync($"/admin/identities?preview_credentials_identifier_similar=ali")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Contains(similar, i => i!["id"]!.GetValue<string>() == b["id"]!.GetValue<string>());
        var combined = await (await s.AdminWithKey.GetAsync($"/admin/identities?ids={a["id"]}&credentials_identifier=x")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("You cannot combine multiple filters in this API", combined["reason"]!.GetValue<string>());
        await (await s.AdminWithKey.GetAsync("/admin/identities?ids=not-a-uuid")).Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Listing_takes_up_to_500_ids_in_the_query_and_refuses_501(string db)
    {
        var s = await fixture.Get(db);
        var a = await Create(s, HttpAssertions.UniqueEmail("ids500"));
        var b = await Create(s, HttpAssertions.UniqueEmail("ids500"));
        // 500 ids are ~20 KB of query: more than Kestrel's default 8 KB request line, within Go's 1 MB (Kratos).
        var ids = new List<string> { a["id"]!.GetValue<string>(), b["id"]!.GetValue<string>() };
        ids.AddRange(Enumerable.Range(0, 498).Select(_ => Guid.NewGuid().ToString()));
        var found = (await (await s.AdminWithKey.GetAsync("/admin/identities?" + string.Join('&', ids.Select(i => "ids=" + i)))).Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal(ids.Take(2).Order(StringComparer.Ordinal), found.Select(i => i!["id"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        ids.Add(Guid.NewGuid().ToString());
        var tooMany = await (await s.AdminWithKey.GetAsync("/admin/identities?" + string.Join('&', ids.Select(i => "ids=" + i)))).Error(HttpStatusCode.BadRequest);
        Assert.Equal("The number of ids to filter must not exceed 500.", tooMany["reason"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Lookup_by_identifier_finds_every_holder_shows_each_as_get_does_and_pages(string db)
    {
        var s = await fixture.Get(db);
        var handle = $"Handle-{Guid.NewGuid():N}";
        // A holds the handle as a (normalised, lower-cased) password identifier; B holds it verbatim as a passkey user
        // handle, next to a password and an oidc credential of its own. The lookup matches both spellings.
        var a = await (await s.AdminWithKey.PostJson("/admin/identities", $$$$$"""
            {"schema_id":"customer","traits":{"username":"{{{{{handle}}}}}"},"credentials":{"password":{"config":{"password":"a long secret phrase"}}}}
            """)).Json(HttpStatusCode.Created);
        var b = await Create(s, HttpAssertions.UniqueEmail("holder"), $$$$$"""
            ,"credentials":{"password":{"config":{"password":"a long secret phrase"}},
              "passkey":{"config":{"user_handle":"{{{{{handle}}}}}","credentials":[{"id":"AQID","public_key":"AQID","attestation_type":"none"}]}},
              "oidc":{"config":{"providers":[{"provider":"github","subject":"{{{{{handle}}}}}"}]}}}
            """);
        // Pages follow id order (UUIDv7, but two creations may share a millisecond).
        string[] ids = [.. new[] { a["id"]!.GetValue<string>(), b["id"]!.GetValue<string>() }.Order(StringComparer.Ordinal)];

        // Both, in id order, each byte for byte what GET /admin/identities/{id} answers (credentials with their
        // identifiers, no configs).
        var response = await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={handle}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var list = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            Assert.Equal(ids, list.RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()));
            foreach (var (element, id) in list.RootElement.EnumerateArray().Zip(ids))
                Assert.Equal(await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Content.ReadAsStringAsync(), element.GetRawText());
            Assert.Equal(4, list.RootElement.EnumerateArray().Sum(e => e.GetProperty("credentials").EnumerateObject().Count()));
        }

        var first = await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={handle}&page_size=1");
        Assert.Equal(ids[0], Assert.Single((await first.Json(HttpStatusCode.OK)).AsArray())!["id"]!.GetValue<string>());
        var next = first.Headers.GetValues("Link").Single().Split(',').Where(l => l.Contains("rel=\"next\"")).Select(l => l[(l.IndexOf('<') + 1)..l.IndexOf('>')]).Single();
        Assert.Contains($"page_token={ids[0]}", next);
        var second = await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={handle}&page_size=1&page_token={ids[0]}");
        Assert.Equal(ids[1], Assert.Single((await second.Json(HttpStatusCode.OK)).AsArray())!["id"]!.GetValue<string>());
        Assert.DoesNotContain("rel=\"next\"", second.Headers.GetValues("Link").Single());
        Assert.Empty((await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={handle}&page_token={ids[1]}")).Json(HttpStatusCode.OK)).AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Batch_creates_items_whole_or_reports_per_item_errors(string db)
    {
        var s = await fixture.Get(db);
        var taken = HttpAssertions.UniqueEmail("taken");
        await Create(s, taken);
        var fresh = HttpAssertions.UniqueEmail("fresh");
        var patchId = Guid.NewGuid();
        var body = $$$$$"""
            {"identities":[
              {"create":{"traits":{"email":"{{{{{fresh}}}}}"},"credentials":{"password":{"config":{"hashed_password":"$2a$04$6Nay1TmvaLaxmHTsy96BHeGzoSxNJ2kEDMH/ZOw3QsItxz8FU/VD6"}}}},"patch_id":"{{{{{patchId}}}}}"},
              {"create":{"traits":{"email":"{{{{{taken}}}}}"}}},
              {"create":{"traits":{"email":"invalid"}}},
              {"create":{"traits":{"email":"{{{{{fresh}}}}}"}}}
            ]}
            """;
        var result = (await (await s.AdminWithKey.PatchJson("/admin/identities", body)).Json(HttpStatusCode.OK))["identities"]!.AsArray();
        Assert.Equal(4, result.Count);
        Assert.Equal("create", result[0]!["action"]!.GetValue<string>());
        Assert.Equal(patchId.ToString(), result[0]!["patch_id"]!.GetValue<string>());
        Assert.Equal("error", result[1]!["action"]!.GetValue<string>());
        Assert.Equal(409, result[1]!["error"]!["code"]!.GetValue<int>());
        Assert.Equal(400, result[2]!["error"]!["code"]!.GetValue<int>());
        Assert.Equal(409, result[3]!["error"]!["code"]!.GetValue<int>());
        var created = await Get(s, result[0]!["identity"]!.GetValue<string>(), "?include_credential=password");
        Assert.StartsWith("$2a$04$", created["credentials"]!["password"]!["config"]!["hashed_password"]!.GetValue<string>());

        var tooMany = new JsonObject { ["identities"] = new JsonArray([.. Enumerable.Range(0, 1001).Select(_ => (JsonNode)new JsonObject { ["create"] = new JsonObject() })]) };
        await (await s.AdminWithKey.PatchJson("/admin/identities", tooMany.ToJsonString())).Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Batch_import_stores_an_identity_exactly_as_a_single_create_does(string db)
    {
        // The batch path writes rows itself (multi-row inserts), the single create through SaveChanges:
        // both must read back the same, and the batch-made identity must stay updatable.
        var s = await fixture.Get(db);
        string Body(string email, string external) => $$$$$"""
            {"schema_id":"default","state":"inactive","external_id":"{{{{{external}}}}}",
             "traits":{"email":"{{{{{email}}}}}"},"metadata_public":{"a":[1,"x"]},"metadata_admin":{"b":true},
             "verifiable_addresses":[{"value":"{{{{{email}}}}}","via":"email","verified":true,"status":"completed","verified_at":"2024-05-06T07:08:09.123456Z"}],
             "credentials":{"password":{"config":{"hashed_password":"$2a$04$6Nay1TmvaLaxmHTsy96BHeGzoSxNJ2kEDMH/ZOw3QsItxz8FU/VD6"}},
                            "oidc":{"config":{"providers":[{"provider":"github","subject":"{{{{{external}}}}}"}]}}}}
            """;
        var (singleEmail, batchEmail) = (HttpAssertions.UniqueEmail("single"), HttpAssertions.UniqueEmail("batch"));
        var (singleExternal, batchExternal) = (Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("N"));
        var single = (await (await s.AdminWithKey.PostJson("/admin/identities", Body(singleEmail, singleExternal))).Json(HttpStatusCode.Created))["id"]!.GetValue<string>();
        var batch = (await (await s.AdminWithKey.PatchJson("/admin/identities", "{\"identities\":[{\"create\":" + Body(batchEmail, batchExternal) + "}]}")).Json(HttpStatusCode.OK))["identities"]![0]!["identity"]!.GetValue<string>();

        const string include = "?include_credential=password&include_credential=oidc";
        string Normalized(JsonObject identity, string id, string email, string external)
        {
            var text = identity.ToJsonString().Replace(id, "ID", StringComparison.Ordinal).Replace(email, "EMAIL", StringComparison.Ordinal).Replace(external, "EXT", StringComparison.Ordinal);
            // Times and row ids differ between two creations; everything else must not.
            text = System.Text.RegularExpressions.Regex.Replace(text, "\"(created_at|updated_at|state_changed_at)\":\"[^\"]*\"", "\"$1\":\"T\"");
            return System.Text.RegularExpressions.Regex.Replace(text, "\"id\":\"[0-9a-f-]{36}\"", "\"id\":\"ROW\"");
        }
        var a = Normalized(await Get(s, single, include), single, singleEmail, singleExternal);
        var b = Normalized(await Get(s, batch, include), batch, batchEmail, batchExternal);
        Assert.Equal(a, b);
        Assert.Contains("2024-05-06T07:08:09.123456Z", b, StringComparison.Ordinal);

        var found = (await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(batchEmail)}")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal(batch, Assert.Single(found)!["id"]!.GetValue<string>());
        var updated = await (await s.AdminWithKey.PutJson($"/admin/identities/{batch}", $$$"""{"schema_id":"default","state":"active","traits":{"email":"{{{batchEmail}}}"}}""")).Json(HttpStatusCode.OK);
        Assert.Equal("active", updated["state"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Deleting_the_last_password_is_refused_and_unknown_types_are_errors(string db)
    {
        var s = await fixture.Get(db);
        var id = (await Create(s, HttpAssertions.UniqueEmail("cred"), ""","credentials":{"password":{"config":{"password":"correct horse battery"}},"oidc":{"config":{"providers":[{"provider":"github","subject":"123"}]}}}"""))["id"]!.GetValue<string>();
        await (await s.AdminWithKey.DeleteAsync($"/admin/identities/{id}/credentials/oidc")).Error(HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/identities/{id}/credentials/oidc?identifier=github:123")).StatusCode);
        var last = await (await s.AdminWithKey.DeleteAsync($"/admin/identities/{id}/credentials/password")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("You cannot remove the last first factor credential.", last["reason"]!.GetValue<string>());
        await (await s.AdminWithKey.DeleteAsync($"/admin/identities/{id}/credentials/totp")).Error(HttpStatusCode.NotFound);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Deleting_a_credential_type_the_identity_lacks_is_404_before_asking_whether_the_type_can_be_deleted(string db)
    {
        var s = await fixture.Get(db);
        var id = (await Create(s, HttpAssertions.UniqueEmail("lacks"), ""","credentials":{"password":{"config":{"password":"correct horse battery"}}}"""))["id"]!.GetValue<string>();
        // Kratos (identity/handler.go deleteIdentityCredentials) looks the credential up first, for any type name.
        foreach (var type in new[] { "passkey", "code", "bogus", "deviceauthn" })
        {
            var missing = await (await s.AdminWithKey.DeleteAsync($"/admin/identities/{id}/credentials/{type}")).Error(HttpStatusCode.NotFound);
            Assert.Equal($"You tried to remove a {type} but this user have no {type} set up.", missing["reason"]!.GetValue<string>());
        }
        // A passkey the identity has is the 400, and stays.
        var withPasskey = (await Create(s, HttpAssertions.UniqueEmail("haspasskey"), ""","credentials":{"password":{"config":{"password":"correct horse battery"}},"passkey":{"config":{"user_handle":"aGFuZGxl","credentials":[{"id":"AQID","public_key":"AQID","attestation_type":"none","is_passwordless":true}]}}}"""))["id"]!.GetValue<string>();
        var before = (await Get(s, withPasskey, "?include_credential=passkey"))["credentials"]!["passkey"]!.ToJsonString();
        var refused = await (await s.AdminWithKey.DeleteAsync($"/admin/identities/{withPasskey}/credentials/passkey")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("Credentials type passkey cannot be deleted.", refused["reason"]!.GetValue<string>());
        Assert.Equal(before, (await Get(s, withPasskey, "?include_credential=passkey"))["credentials"]!["passkey"]!.ToJsonString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Deleting_webauthn_removes_the_second_factor_keys_and_the_credential_once_no_passwordless_key_is_left(string db)
    {
        var s = await fixture.Get(db);
        static string Key(string id, bool passwordless) => $$"""{"id":"{{id}}","public_key":"AQID","attestation_type":"none","is_passwordless":{{(passwordless ? "true" : "false")}}}""";
        var mfaOnly = (await Create(s, HttpAssertions.UniqueEmail("mfaonly"), $$$$""","credentials":{"password":{"config":{"password":"correct horse battery"}},"webauthn":{"config":{"user_handle":"aGFuZGxl","credentials":[{{{{Key("AQID", false)}}}},{{{{Key("BAUG", false)}}}}]}}}"""))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/identities/{mfaOnly}/credentials/webauthn")).StatusCode);
        // No passwordless key left: the credential goes, user handle and all (Kratos's DeleteCredentialsType).
        var after = await Get(s, mfaOnly, "?include_credential=webauthn");
        Assert.False(after["credentials"]!.AsObject().ContainsKey("webauthn"), after["credentials"]!.ToJsonString());
        Assert.True(after["credentials"]!.AsObject().ContainsKey("password"));
        await (await s.AdminWithKey.DeleteAsync($"/admin/identities/{mfaOnly}/credentials/webauthn")).Error(HttpStatusCode.NotFound);

        // A passwordless key stays, with the user handle; only the second-factor key goes.
        var mixed = (await Create(s, HttpAssertions.UniqueEmail("mixed"), $$$$""","credentials":{"password":{"config":{"password":"correct horse battery"}},"webauthn":{"config":{"user_handle":"aGFuZGxl","credentials":[{{{{Key("AQID", true)}}}},{{{{Key("BAUG", false)}}}}]}}}"""))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/identities/{mixed}/credentials/webauthn")).StatusCode);
        var kept = (await Get(s, mixed, "?include_credential=webauthn"))["credentials"]!["webauthn"]!["config"]!;
        Assert.Equal("aGFuZGxl", kept["user_handle"]!.GetValue<string>());
        Assert.Equal(["AQID"], kept["credentials"]!.AsArray().Select(k => k!["id"]!.GetValue<string>()));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Admin_api_requires_a_valid_key_on_both_listeners(string db)
    {
        var s = await fixture.Get(db);
        await (await s.Admin.GetAsync("/admin/identities")).Error(HttpStatusCode.Unauthorized);
        await (await s.Public.GetAsync("/admin/identities")).Error(HttpStatusCode.Unauthorized);
        using var wrong = new HttpClient { BaseAddress = new Uri(s.PublicUrl) };
        wrong.DefaultRequestHeaders.Authorization = new("Bearer", "gh_wrongwrongwrongwrong");
        await (await wrong.GetAsync("/admin/identities")).Error(HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await s.PublicWithKey.GetAsync("/admin/identities?page_size=1")).StatusCode);
        // Kratos's admin listener serves the paths with and without the /admin prefix.
        Assert.Equal(HttpStatusCode.OK, (await s.AdminWithKey.GetAsync("/identities?page_size=1")).StatusCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Health_version_and_schemas_are_served_on_both_listeners(string db)
    {
        var s = await fixture.Get(db);
        foreach (var client in new[] { s.Public, s.Admin })
        {
            Assert.Equal("ok", (await (await client.GetAsync("/health/alive")).Json(HttpStatusCode.OK))["status"]!.GetValue<string>());
            Assert.Equal("ok", (await (await client.GetAsync("/health/ready")).Json(HttpStatusCode.OK))["status"]!.GetValue<string>());
            Assert.StartsWith("v", (await (await client.GetAsync("/version")).Json(HttpStatusCode.OK))["version"]!.GetValue<string>());
            var schemas = (await (await client.GetAsync("/schemas")).Json(HttpStatusCode.OK)).AsArray();
            Assert.Contains(schemas, x => x!["id"]!.GetValue<string>() == "default");
            Assert.Equal("object", (await (await client.GetAsync("/schemas/default")).Json(HttpStatusCode.OK))["type"]!.GetValue<string>());
            Assert.Equal("object", (await (await client.GetAsync("/schemas/ZGVmYXVsdA")).Json(HttpStatusCode.OK))["type"]!.GetValue<string>());
            await (await client.GetAsync("/schemas/unknown")).Error(HttpStatusCode.NotFound);
        }
    }
}
