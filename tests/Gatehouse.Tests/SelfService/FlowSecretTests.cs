using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// Secrets are answer-only: a session token handed out by a flow (<c>continue_with</c>, <c>session_token</c>), the
/// <c>transient_payload</c>, a code or a password never end up in a stored row (outside the courier's outbox, which mails
/// codes as Kratos's does), so fetching a finished flow by id or posting to it again reveals none of them.
/// </summary>
public sealed class FlowSecretTests(FlowServerFixture fixture) : IClassFixture<FlowServerFixture>
{
    private static Task<TestServer> Server(FlowServerFixture f, string db) => f.Get(db, "secrets", o =>
    {
        o.Selfservice.Flows.Verification.Enabled = true;
        o.Selfservice.Flows.Recovery.Enabled = true;
    });

    private static string Marker() => "transient-" + Guid.NewGuid().ToString("N");

    private static JsonObject Transient(string marker) => new() { ["secret"] = marker, ["nested"] = new JsonObject { ["also"] = marker } };

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_finished_login_flow_reveals_neither_its_session_token_nor_its_transient_payload(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, _) = await RegisterApi(s);
        var marker = Marker();
        var flow = await ApiFlow(s.Public, "login");
        var body = new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword };
        var withPayload = (JsonObject)body.DeepClone();
        withPayload["transient_payload"] = Transient(marker);
        var done = await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}", withPayload)).Json(HttpStatusCode.OK);
        var token = done["session_token"]!.GetValue<string>();

        await AssertNothingRevealed(s, "login", flow["id"]!.GetValue<string>(), body, null, token, marker, GoodPassword);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_finished_registration_flow_reveals_neither_its_session_token_nor_its_transient_payload(string db)
    {
        var s = await Server(fixture, db);
        var marker = Marker();
        var flow = await ApiFlow(s.Public, "registration");
        var body = new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("secret") } };
        var withPayload = (JsonObject)body.DeepClone();
        withPayload["transient_payload"] = Transient(marker);
        var done = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}", withPayload)).Json(HttpStatusCode.OK);
        var token = done["session_token"]!.GetValue<string>();

        await AssertNothingRevealed(s, "registration", flow["id"]!.GetValue<string>(), body, null, token, marker, GoodPassword);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_finished_settings_flow_reveals_neither_its_transient_payload_nor_the_new_password(string db)
    {
        var s = await Server(fixture, db);
        var (email, token, _) = await RegisterApi(s);
        var marker = Marker();
        const string newPassword = "a-brand-new-secret-passphrase-77";
        using var init = new HttpRequestMessage(HttpMethod.Get, "/self-service/settings/api");
        init.Headers.Add("X-Session-Token", token);
        var flow = await (await s.Public.SendAsync(init)).Json(HttpStatusCode.OK);
        var body = new JsonObject { ["method"] = "password", ["password"] = newPassword, ["transient_payload"] = Transient(marker) };
        using var submit = new HttpRequestMessage(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}")
        {
            Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        submit.Headers.Add("X-Session-Token", token);
        var done = await (await s.Public.SendAsync(submit)).Json(HttpStatusCode.OK);
        Assert.Equal("success", done["state"]!.GetValue<string>());

        var again = new JsonObject { ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = email } };
        await AssertNothingRevealed(s, "settings", flow["id"]!.GetValue<string>(), again, token, token, marker, newPassword);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_finished_recovery_flow_reveals_neither_the_session_token_it_issued_nor_its_code(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, _) = await RegisterApi(s);
        var marker = Marker();
        var flow = await ApiFlow(s.Public, "recovery");
        var id = flow["id"]!.GetValue<string>();
        await (await s.Public.PostJson($"/self-service/recovery?flow={id}", new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var code = (await LastMailData(s, email))["recovery_code"]!.GetValue<string>();
        // Kratos's default (no use_continue_with_transitions): 422 naming the settings UI, even for an API flow — no session
        // token in this answer either.
        using var post = new HttpRequestMessage(HttpMethod.Post, $"/self-service/recovery?flow={id}")
        {
            Content = new StringContent(new JsonObject { ["method"] = "code", ["code"] = code, ["transient_payload"] = Transient(marker) }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        var done = await s.Public.SendAsync(post);
        var doneText = await done.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, done.StatusCode);
        Assert.Equal("browser_location_change_required", JsonNode.Parse(doneText)!["error"]!["id"]!.GetValue<string>());
        Assert.DoesNotContain("ory_st_", doneText, StringComparison.Ordinal);

        await AssertNothingRevealed(s, "recovery", id, new JsonObject { ["method"] = "code", ["code"] = code }, null, "ory_st_", marker, code);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_finished_verification_flow_reveals_neither_its_code_nor_its_transient_payload(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, _) = await RegisterApi(s);
        var marker = Marker();
        var flow = await ApiFlow(s.Public, "verification");
        var id = flow["id"]!.GetValue<string>();
        await (await s.Public.SubmitJson($"/self-service/verification?flow={id}", new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var code = (await LastMailData(s, email))["verification_code"]!.GetValue<string>();
        var done = await (await s.Public.SubmitJson($"/self-service/verification?flow={id}",
            new JsonObject { ["method"] = "code", ["code"] = code, ["transient_payload"] = Transient(marker) })).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", done["state"]!.GetValue<string>());

        await AssertNothingRevealed(s, "verification", id, new JsonObject { ["method"] = "code", ["code"] = code }, null, marker, code);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_flow_made_when_a_mailed_link_finds_its_flow_expired_does_not_keep_the_links_secret(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Selfservice.Flows.Verification.Enabled = true;
        }, services => services.AddSingleton<TimeProvider>(clock));
        var expired = await ApiFlow(s.Public, "verification");
        clock.Advance(TimeSpan.FromHours(2));
        const string code = "424242";
        // Kratos's verification error handler: a new browser flow (the old one's request_url), the link's browser sent (303) to its UI.
        using var browser = new Browser(s.PublicUrl);
        var response = await browser.Client.GetAsync($"/self-service/verification?flow={expired["id"]}&code={code}&token=the-links-secret-token");
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var replacement = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(response.Headers.Location!.Query)["flow"].ToString();
        var fetched = await (await browser.Client.GetAsync($"/self-service/verification/flows?id={replacement}")).Json(HttpStatusCode.OK);
        Assert.DoesNotContain("the-links-secret-token", fetched.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(code, fetched["request_url"]!.GetValue<string>(), StringComparison.Ordinal);
        await AssertNotStored(s, "the-links-secret-token", code);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_error_forwarded_from_a_mailed_link_is_stored_without_the_links_secret(string db)
    {
        var s = await Server(fixture, db);
        using var browser = new Browser(s.PublicUrl);
        foreach (var kind in new[] { "recovery", "verification" })
        {
            var secret = "link-secret-" + Guid.NewGuid().ToString("N");
            var response = await browser.Client.GetAsync($"/self-service/{kind}?flow={Guid.NewGuid()}&token={secret}&code={secret}");
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
            var id = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(response.Headers.Location!.Query)["id"].ToString();
            var stored = await (await s.Public.GetAsync($"/self-service/errors?id={id}")).Json(HttpStatusCode.OK);
            Assert.Equal(404, stored["error"]!["code"]!.GetValue<int>());
            Assert.DoesNotContain(secret, stored.ToJsonString(), StringComparison.Ordinal);
            await AssertNotStored(s, secret);
        }
    }

    /// <summary>
    /// Fetches the flow by id (with the session token where the flow needs one), posts <paramref name="again"/> to it, and
    /// checks that neither answer nor any stored row (but the courier outbox) holds a secret.
    /// </summary>
    private static async Task AssertNothingRevealed(TestServer s, string kind, string id, JsonObject again, string? sessionToken, params string[] secrets)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"/self-service/{kind}/flows?id={id}");
        if (sessionToken is not null) get.Headers.Add("X-Session-Token", sessionToken);
        var fetched = await s.Public.SendAsync(get);
        var fetchedText = await fetched.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        var fetchedJson = JsonNode.Parse(fetchedText)!;
        Assert.Null(fetchedJson["transient_payload"]);
        Assert.DoesNotContain("set_ory_session_token", fetchedText, StringComparison.Ordinal);

        using var post = new HttpRequestMessage(HttpMethod.Post, $"/self-service/{kind}?flow={id}")
        {
            Content = new StringContent(again.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        if (sessionToken is not null) post.Headers.Add("X-Session-Token", sessionToken);
        var reposted = await s.Public.SendAsync(post);
        var repostedText = await reposted.Content.ReadAsStringAsync();
        Assert.True((int)reposted.StatusCode < 500, repostedText);
        Assert.DoesNotContain("set_ory_session_token", repostedText, StringComparison.Ordinal);

        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, fetchedText, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, repostedText, StringComparison.Ordinal);
        }
        await AssertNotStored(s, secrets);
    }

    /// <summary>No column of any row of any table but the courier's outbox contains one of <paramref name="secrets"/>.</summary>
    private static async Task AssertNotStored(TestServer s, params string[] secrets)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var tables = db.Model.GetEntityTypes().Select(t => t.GetTableName()).OfType<string>()
            .Where(t => t is not ("courier_messages" or "courier_dispatches")).Distinct().ToList();
        Assert.Contains("selfservice_flows", tables);
        Assert.Contains("selfservice_errors", tables);
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        try
        {
            foreach (var table in tables)
            {
                await using DbCommand command = connection.CreateCommand();
                command.CommandText = $"SELECT * FROM \"{table}\"";
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    for (var i = 0; i < reader.FieldCount; i++)
                    {
                        if (reader.IsDBNull(i)) continue;
                        var value = reader.GetValue(i) switch
                        {
                            byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
                            var v => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
                        };
                        // Ids, times and numbers are no secrets' hiding places, but may contain a 6-digit code by chance.
                        if (Guid.TryParse(value, out _) || DateTime.TryParse(value, CultureInfo.InvariantCulture, out _) || value.All(c => char.IsAsciiDigit(c) || c is '.' or '-')) continue;
                        foreach (var secret in secrets)
                            Assert.False(value.Contains(secret, StringComparison.Ordinal), $"{table}.{reader.GetName(i)} holds a secret: {value}");
                    }
                }
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

}
