using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Courier;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Courier.CourierFixtures;

namespace Gatehouse.Tests.Courier;

public sealed class CourierAdminApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Get_message_in_dev_mode_returns_kratos_message_shape_with_body_and_dispatches(string db)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var s = await StartAsync(db, smtp.ConnectionUri, dev: true);
        var queued = await QueueAsync(s, "verification_code_valid", "shape@example.com", new JsonObject { ["verification_code"] = "318273", ["verification_url"] = "https://app.example/v" });
        await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None);

        var m = (await (await s.AdminWithKey.GetAsync($"/admin/courier/messages/{queued.Id}")).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(
            ["id", "status", "type", "recipient", "body", "subject", "template_type", "channel", "send_count", "dispatches", "created_at", "updated_at"],
            m.Select(kv => kv.Key));
        Assert.Equal(queued.Id.ToString(), m["id"]!.GetValue<string>());
        Assert.Equal("sent", m["status"]!.GetValue<string>());
        Assert.Equal("email", m["type"]!.GetValue<string>());
        Assert.Equal("shape@example.com", m["recipient"]!.GetValue<string>());
        Assert.Contains("318273", m["body"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("Please verify your email address", m["subject"]!.GetValue<string>());
        Assert.Equal("verification_code_valid", m["template_type"]!.GetValue<string>());
        Assert.Equal(1, m["send_count"]!.GetValue<int>());
        var dispatch = Assert.Single(m["dispatches"]!.AsArray())!.AsObject();
        Assert.Equal(["id", "message_id", "status", "created_at", "updated_at"], dispatch.Select(kv => kv.Key));
        Assert.Equal(queued.Id.ToString(), dispatch["message_id"]!.GetValue<string>());
        Assert.Equal("success", dispatch["status"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", m["created_at"]!.GetValue<string>());
        var listed = Assert.Single((await (await s.AdminWithKey.GetAsync("/admin/courier/messages?recipient=shape%40example.com")).Json(HttpStatusCode.OK)).AsArray())!;
        Assert.Equal(m["body"]!.GetValue<string>(), listed["body"]!.GetValue<string>());
        Assert.Equal("Please verify your email address", listed["subject"]!.GetValue<string>());

        // The admin listener also serves it without the /admin prefix, and the public listener under /admin with a key.
        var unprefixed = await (await s.AdminWithKey.GetAsync($"/courier/messages/{queued.Id}")).Json(HttpStatusCode.OK);
        Assert.Equal(queued.Id.ToString(), unprefixed["id"]!.GetValue<string>());
        var viaPublic = await (await s.PublicWithKey.GetAsync($"/admin/courier/messages/{queued.Id}")).Json(HttpStatusCode.OK);
        Assert.Equal(queued.Id.ToString(), viaPublic["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Outside_dev_mode_body_and_subject_are_redacted_in_the_list_and_the_single_message(string db)
    {
        var s = await fixture.Get(db);
        Assert.False(s.Options.Dev);
        var recipient = $"redacted-{Guid.NewGuid():N}@example.com";
        var queued = await QueueAsync(s, "recovery_code_valid", recipient, new JsonObject { ["recovery_code"] = "942817" });
        Assert.Contains("942817", (await LoadAsync(s, queued.Id)).Body, StringComparison.Ordinal);

        var got = (await (await s.AdminWithKey.GetAsync($"/admin/courier/messages/{queued.Id}")).Json(HttpStatusCode.OK)).AsObject();
        var listed = Assert.Single((await (await s.AdminWithKey.GetAsync($"/admin/courier/messages?recipient={Uri.EscapeDataString(recipient)}")).Json(HttpStatusCode.OK)).AsArray())!.AsObject();
        foreach (var m in new[] { got, listed })
        {
            Assert.Equal("<redacted-unless-dev-mode>", m["body"]!.GetValue<string>());
            Assert.Equal("<redacted-unless-dev-mode>", m["subject"]!.GetValue<string>());
            // Everything else is shown as in dev mode, and no field carries the code.
            Assert.Equal(recipient, m["recipient"]!.GetValue<string>());
            Assert.Equal("recovery_code_valid", m["template_type"]!.GetValue<string>());
            Assert.DoesNotContain("942817", m.ToJsonString(), StringComparison.Ordinal);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Failed_dispatches_carry_their_error_as_json(string db)
    {
        await using var s = await StartAsync(db, $"smtp://127.0.0.1:{TestServer.FreePort()}/?disable_starttls=true");
        var queued = await QueueAsync(s, "recovery_code_valid", "err@example.com", new JsonObject { ["recovery_code"] = "000111" });
        await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None);
        var m = await (await s.AdminWithKey.GetAsync($"/admin/courier/messages/{queued.Id}")).Json(HttpStatusCode.OK);
        Assert.Equal("queued", m["status"]!.GetValue<string>());
        var dispatch = Assert.Single(m["dispatches"]!.AsArray())!;
        Assert.Equal("failed", dispatch["status"]!.GetValue<string>());
        Assert.Contains("Connection refused", dispatch["error"]!["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Get_message_answers_400_for_a_malformed_id_and_404_for_an_unknown_one_like_kratos(string db)
    {
        var s = await fixture.Get(db);
        var malformed = await (await s.AdminWithKey.GetAsync("/admin/courier/messages/not-a-uuid")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("uuid: incorrect UUID length 10 in string \"not-a-uuid\"", malformed["message"]!.GetValue<string>());
        var missing = await (await s.AdminWithKey.GetAsync($"/admin/courier/messages/{Guid.NewGuid()}")).Error(HttpStatusCode.NotFound);
        Assert.Equal("Unable to locate the resource", missing["message"]!.GetValue<string>());
        Assert.Equal("Not Found", missing["status"]!.GetValue<string>());
        // Kratos's snapshots carry only code, status and message for both errors.
        Assert.Equal(["code", "status", "message"], missing.Select(kv => kv.Key));
        Assert.Equal(["code", "status", "message"], malformed.Select(kv => kv.Key));
    }

    [Fact]
    public async Task The_courier_admin_api_needs_an_api_key()
    {
        var s = await fixture.Get(Db.Sqlite);
        var r = await s.Admin.GetAsync("/admin/courier/messages");
        await r.Error(HttpStatusCode.Unauthorized);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task List_filters_by_recipient_and_status_newest_first(string db)
    {
        var s = await fixture.Get(db);
        var recipient = $"list-{Guid.NewGuid():N}@example.com";
        var first = await QueueAsync(s, "login_code_valid", recipient, new JsonObject { ["login_code"] = "1" });
        var second = await QueueAsync(s, "login_code_valid", recipient, new JsonObject { ["login_code"] = "2" });
        await QueueAsync(s, "login_code_valid", "someone-else@example.com", new JsonObject { ["login_code"] = "3" });

        var list = (await (await s.AdminWithKey.GetAsync($"/admin/courier/messages?recipient={Uri.EscapeDataString(recipient)}")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal([second.Id.ToString(), first.Id.ToString()], list.Select(m => m!["id"]!.GetValue<string>()));

        var queued = (await (await s.AdminWithKey.GetAsync($"/admin/courier/messages?status=queued&recipient={Uri.EscapeDataString(recipient)}")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal(2, queued.Count);
        var sent = (await (await s.AdminWithKey.GetAsync($"/admin/courier/messages?status=sent&recipient={Uri.EscapeDataString(recipient)}")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Empty(sent);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task List_pages_with_opaque_tokens_in_the_link_header_until_the_last_page(string db)
    {
        var s = await fixture.Get(db);
        var recipient = $"paging-{Guid.NewGuid():N}@example.com";
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add((await QueueAsync(s, "registration_code_valid", recipient, new JsonObject { ["registration_code"] = $"{i}" })).Id.ToString());
        ids.Reverse();

        var seen = new List<string>();
        string? url = $"/admin/courier/messages?page_size=2&recipient={Uri.EscapeDataString(recipient)}";
        var pages = 0;
        while (url is not null)
        {
            var response = await s.AdminWithKey.GetAsync(url);
            var page = (await response.Json(HttpStatusCode.OK)).AsArray();
            seen.AddRange(page.Select(m => m!["id"]!.GetValue<string>()));
            pages++;
            var link = response.Headers.GetValues("Link").Single();
            Assert.Contains("rel=\"first\"", link, StringComparison.Ordinal);
            Assert.Contains("recipient=", link, StringComparison.Ordinal);
            var next = link.Split(',').FirstOrDefault(l => l.Contains("rel=\"next\"", StringComparison.Ordinal));
            url = next is null ? null : new Uri(next[(next.IndexOf('<') + 1)..next.IndexOf('>')]).PathAndQuery;
        }
        Assert.Equal(3, pages);
        Assert.Equal(ids, seen);
    }

    [Theory]
    [InlineData("/admin/courier/messages?page_token=bm90LWEtdG9rZW4", "The page token is invalid, do not craft your own page tokens")]
    [InlineData("/admin/courier/messages?page_token=%25%25%25", "The page token is invalid, do not craft your own page tokens")]
    [InlineData("/admin/courier/messages?status=delivered", "Invalid value \"delivered\" for parameter \"status\": expected one of queued, sent, processing, abandoned.")]
    [InlineData("/admin/courier/messages?page_size=0", "The page_size parameter must be a positive integer, got \"0\".")]
    public async Task List_rejects_bad_query_parameters_with_400(string url, string reason)
    {
        var s = await fixture.Get(Db.Sqlite);
        var error = await (await s.AdminWithKey.GetAsync(url)).Error(HttpStatusCode.BadRequest);
        Assert.Equal(reason, error["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_caps_page_size_at_1000()
    {
        var s = await fixture.Get(Db.Sqlite);
        var response = await s.AdminWithKey.GetAsync("/admin/courier/messages?page_size=5000");
        await response.Json(HttpStatusCode.OK);
        Assert.Contains("page_size=1000", response.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
    }
}
