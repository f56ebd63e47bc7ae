using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

public sealed class VerificationRecoveryTests(FlowServerFixture fixture) : IClassFixture<FlowServerFixture>
{
    private static Task<TestServer> Server(FlowServerFixture f, string db) => f.Get(db, "verify-recover", o =>
    {
        o.Selfservice.Flows.Verification.Enabled = true;
        o.Selfservice.Flows.Recovery.Enabled = true;
        // As Kratos's quickstart: without show_verification_ui no registration answer names the verification flow.
        o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks = [new HookConfig { Hook = "session" }, new HookConfig { Hook = "show_verification_ui" }],
        };
    });

    /// <summary>The newest queued mail to an address, with its template data (codes and links), read from the outbox.</summary>
    private static async Task<(string Template, JsonObject Data)?> LastMail(TestServer s, string to)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var m = await db.CourierMessages.AsNoTracking().Where(x => x.Recipient == to.ToLowerInvariant()).OrderByDescending(x => x.CreatedAt).FirstOrDefaultAsync();
        return m is null ? null : (m.TemplateType, JsonNode.Parse(m.TemplateData ?? "{}")!.AsObject());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Registration_mails_a_verification_code_and_using_it_verifies_the_address(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, body) = await RegisterApi(s);
        var show = body["continue_with"]!.AsArray().First(c => c!["action"]!.GetValue<string>() == "show_verification_ui")!;
        var flowId = show["flow"]!["id"]!.GetValue<string>();
        var mail = await LastMail(s, email);
        Assert.Equal("verification_code_valid", mail!.Value.Template);
        var code = mail.Value.Data["verification_code"]!.GetValue<string>();
        Assert.Matches("^[0-9]{6}$", code);

        var wrong = await (await s.Public.SubmitJson($"/self-service/verification?flow={flowId}", new JsonObject { ["method"] = "code", ["code"] = code == "000000" ? "111111" : "000000" })).Json(HttpStatusCode.OK);
        Assert.Contains(4070006L, MessageIds(wrong));
        var done = await (await s.Public.SubmitJson($"/self-service/verification?flow={flowId}", new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", done["state"]!.GetValue<string>());
        Assert.Contains(1080002L, MessageIds(done));
        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{body["identity"]!["id"]}")).Json(HttpStatusCode.OK);
        var address = identity["verifiable_addresses"]![0]!;
        Assert.True(address["verified"]!.GetValue<bool>());
        Assert.Equal("completed", address["status"]!.GetValue<string>());
        Assert.NotNull(address["verified_at"]);
        // Single use: the same code again is refused — the passed flow is replaced (Kratos's code Verify on
        // passed_challenge: retryVerificationFlowWithMessage, 410 self_service_flow_replaced for JSON clients).
        var again = await (await s.Public.PostJson($"/self-service/verification?flow={flowId}", new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.Gone);
        Assert.Equal("self_service_flow_replaced", again["error"]!["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Verification_answers_the_same_for_unknown_addresses_and_sends_nothing(string db)
    {
        var s = await Server(fixture, db);
        var (known, _, _) = await RegisterApi(s);
        var unknown = HttpAssertions.UniqueEmail("ghost");
        async Task<JsonNode> Ask(string email)
        {
            var flow = await ApiFlow(s.Public, "verification");
            return await (await s.Public.SubmitJson($"/self-service/verification?flow={flow["id"]}", new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        }
        var a = await Ask(known);
        var b = await Ask(unknown);
        Assert.Equal("sent_email", a["state"]!.GetValue<string>());
        Assert.Equal(a["state"]!.ToJsonString(), b["state"]!.ToJsonString());
        Assert.Equal(a["ui"]!["messages"]!.ToJsonString(), b["ui"]!["messages"]!.ToJsonString());
        Assert.Equal(0, await MailCount(s, unknown));
        Assert.Equal(2, await MailCount(s, known));
    }

    /// <summary>
    /// Kratos's recoveryIssueSession without use_continue_with_transitions (its test "should recover an account" for API
    /// flows expects browser_location_change_required): a JSON submit of the right code, on an API flow too, signs in and
    /// answers 422 naming the settings UI; a form submit is sent there (303). No answer hands over a session token.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Api_recovery_by_code_answers_422_to_the_settings_ui_as_kratos_does_by_default(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, reg) = await RegisterApi(s);
        var flow = await ApiFlow(s.Public, "recovery");
        Assert.Equal("choose_method", flow["state"]!.GetValue<string>());
        var sent = await (await s.Public.PostJson($"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        Assert.Contains(1060003L, MessageIds(sent));
        var mail = await LastMail(s, email);
        Assert.Equal("recovery_code_valid", mail!.Value.Template);
        var code = mail.Value.Data["recovery_code"]!.GetValue<string>();
        var done = await (await s.Public.PostJson($"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("browser_location_change_required", done["error"]!["id"]!.GetValue<string>());
        var settingsUrl = done["redirect_browser_to"]!.GetValue<string>();
        Assert.Contains("/ui/settings?flow=", settingsUrl);
        Assert.DoesNotContain("ory_st_", done.ToJsonString(), StringComparison.Ordinal);

        var fetched = await (await s.Public.GetAsync($"/self-service/recovery/flows?id={flow["id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", fetched["state"]!.GetValue<string>());
        Assert.Null(fetched["continue_with"]);
        // The settings flow for the recovered identity, carrying 1060001, is of the recovery flow's type.
        var settingsId = settingsUrl[(settingsUrl.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        var sessions = (await (await s.AdminWithKey.GetAsync($"/admin/identities/{reg["identity"]!["id"]}/sessions")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Contains(sessions, x => x!["authentication_methods"]![0]!["method"]!.GetValue<string>() == "code_recovery");
        Assert.False(string.IsNullOrEmpty(settingsId));

        // A form post (no JSON asked for) is redirected to the settings UI instead.
        var form = await ApiFlow(s.Public, "recovery");
        await (await s.Public.PostJson($"/self-service/recovery?flow={form["id"]}", new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var formCode = (await LastMail(s, email))!.Value.Data["recovery_code"]!.GetValue<string>();
        using var browser = new Browser(s.PublicUrl);
        var posted = await browser.Client.PostAsync($"/self-service/recovery?flow={form["id"]}",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["method"] = "code", ["code"] = formCode }));
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.Contains("/ui/settings?flow=", posted.Headers.Location!.ToString());
        // An API flow's session is not put in a cookie.
        Assert.Null(browser.Cookie("ory_kratos_session"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Spa_recovery_by_code_answers_422_and_keeps_the_session_cookie_it_set(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, reg) = await RegisterApi(s);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await spa.Client.GetAsync("/self-service/recovery/browser")).Json(HttpStatusCode.OK);
        var action = $"/self-service/recovery?flow={flow["id"]}";
        await (await spa.Client.PostJson(action, new JsonObject { ["method"] = "code", ["email"] = email, ["csrf_token"] = Csrf(flow) })).Json(HttpStatusCode.OK);
        var code = (await LastMail(s, email))!.Value.Data["recovery_code"]!.GetValue<string>();

        var done = await (await spa.Client.PostJson(action, new JsonObject { ["method"] = "code", ["code"] = code, ["csrf_token"] = Csrf(flow) })).Json(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("browser_location_change_required", done["error"]!["id"]!.GetValue<string>());
        Assert.Contains("/ui/settings?flow=", done["redirect_browser_to"]!.GetValue<string>());
        // The SPA follows redirect_browser_to signed in: the error answer carries the recovery session's cookie.
        Assert.NotNull(spa.Cookie("ory_kratos_session"));
        var whoami = await (await spa.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK);
        Assert.Equal(reg["identity"]!["id"]!.GetValue<string>(), whoami["identity"]!["id"]!.GetValue<string>());
        Assert.Equal("code_recovery", whoami["authentication_methods"]![0]!["method"]!.GetValue<string>());
    }

    /// <summary>
    /// Kratos's code recovery (<c>strategy_recovery.go</c>; its test "should not break ui if empty code is submitted") takes
    /// any submit without an <c>email</c> on a flow that sent a code as a code — none is a wrong one, 4060006 on the flow,
    /// not "Property email is missing" — and a submit with an <c>email</c> (the resend button) as a resend, even when the
    /// code field comes along. Verification does not: there a submit with neither is 4000002 on the <c>email</c> node.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_sent_recovery_code_flow_takes_a_submit_without_email_as_a_code_and_one_with_email_as_a_resend(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, _) = await RegisterApi(s);
        var flow = await ApiFlow(s.Public, "recovery");
        var submit = $"/self-service/recovery?flow={flow["id"]}";
        await (await s.Public.PostJson(submit, new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var code = (await LastMail(s, email))!.Value.Data["recovery_code"]!.GetValue<string>();

        foreach (var body in new[] { new JsonObject { ["method"] = "code" }, new JsonObject { ["method"] = "code", ["code"] = "" }, new JsonObject() })
        {
            var answer = await (await s.Public.PostJson(submit, body)).Json(HttpStatusCode.OK);
            Assert.Equal(flow["id"]!.GetValue<string>(), answer["id"]!.GetValue<string>());
            Assert.Equal("sent_email", answer["state"]!.GetValue<string>());
            Assert.Equal([4060006L], MessageIds(answer));
            Assert.DoesNotContain(answer["ui"]!["nodes"]!.AsArray(), n => n!["messages"]!.AsArray().Count > 0);
        }

        var mails = await MailCount(s, email);
        var resent = await (await s.Public.PostJson(submit, new JsonObject { ["method"] = "code", ["email"] = email, ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal("sent_email", resent["state"]!.GetValue<string>());
        Assert.Equal([1060003L], MessageIds(resent));
        Assert.Equal(mails + 1, await MailCount(s, email));
        var fresh = (await LastMail(s, email))!.Value.Data["recovery_code"]!.GetValue<string>();
        if (fresh != code)
        {
            var old = await (await s.Public.PostJson(submit, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.OK);
            Assert.Equal([4060006L], MessageIds(old));
        }

        var verification = await ApiFlow(s.Public, "verification");
        var vsubmit = $"/self-service/verification?flow={verification["id"]}";
        await (await s.Public.SubmitJson(vsubmit, new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var missing = await (await s.Public.PostJson(vsubmit, new JsonObject { ["method"] = "code" })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000002L], MessageIds(missing, "email"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Recovery_codes_allow_limited_attempts(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, _) = await RegisterApi(s);
        var flow = await ApiFlow(s.Public, "recovery");
        await (await s.Public.PostJson($"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var code = (await LastMail(s, email))!.Value.Data["recovery_code"]!.GetValue<string>();
        var wrong = code == "123456" ? "654321" : "123456";
        for (var i = 0; i < 5; i++)
        {
            var attempt = await (await s.Public.PostJson($"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["method"] = "code", ["code"] = wrong })).Json(HttpStatusCode.OK);
            Assert.Contains(4060006L, MessageIds(attempt));
        }
        // After five wrong guesses even the right code no longer works: as Kratos's retryRecoveryFlow, the client is sent
        // (303, followed here) to a new flow carrying 4000001.
        var late = await (await s.Public.PostJson($"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.NotEqual(flow["id"]!.GetValue<string>(), late["id"]!.GetValue<string>());
        Assert.Equal([4000001L], MessageIds(late));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Admin_recovery_code_and_link_work_and_validate_input(string db)
    {
        var s = await Server(fixture, db);
        var (_, _, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        var created = await (await s.AdminWithKey.PostJson("/admin/recovery/code", new JsonObject { ["identity_id"] = id, ["expires_in"] = "15m", ["flow_type"] = "api" })).Json(HttpStatusCode.Created);
        var link = created["recovery_link"]!.GetValue<string>();
        var flowId = link[(link.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        var done = await (await s.Public.PostJson($"/self-service/recovery?flow={flowId}", new JsonObject { ["method"] = "code", ["code"] = created["recovery_code"]!.GetValue<string>() })).Json(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("browser_location_change_required", done["error"]!["id"]!.GetValue<string>());

        var linkResponse = await (await s.AdminWithKey.PostJson("/admin/recovery/link", new JsonObject { ["identity_id"] = id })).Json(HttpStatusCode.OK);
        var recoveryLink = new Uri(linkResponse["recovery_link"]!.GetValue<string>());
        using var browser = new Browser(s.PublicUrl);
        var opened = await browser.Client.GetAsync(recoveryLink.PathAndQuery);
        Assert.Equal(HttpStatusCode.SeeOther, opened.StatusCode);
        Assert.Contains("/ui/settings?flow=", opened.Headers.Location!.ToString());
        Assert.NotNull(browser.Cookie("ory_kratos_session"));
        // A link works once.
        using var other = new Browser(s.PublicUrl);
        var reused = await other.Client.GetAsync(recoveryLink.PathAndQuery);
        Assert.NotEqual(HttpStatusCode.OK, reused.StatusCode);
        Assert.Null(other.Cookie("ory_kratos_session"));

        await (await s.AdminWithKey.PostJson("/admin/recovery/code", new JsonObject { ["identity_id"] = Guid.NewGuid().ToString() })).Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.PostJson("/admin/recovery/code", new JsonObject { ["identity_id"] = "nope" })).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PostJson("/admin/recovery/code", new JsonObject { ["identity_id"] = id, ["expires_in"] = "soon" })).Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PostJson("/admin/recovery/link", new JsonObject { ["identity_id"] = id, ["expires_in"] = "-1h" })).Error(HttpStatusCode.BadRequest);
        await (await s.Public.PostJson("/admin/recovery/code", new JsonObject { ["identity_id"] = id })).Error(HttpStatusCode.Unauthorized);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_admin_recovery_code_browser_flow_opens_in_the_first_browser_and_completes_there(string db)
    {
        var s = await Server(fixture, db);
        var (_, _, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        static string FlowIdOf(JsonNode created)
        {
            var link = created["recovery_link"]!.GetValue<string>();
            return link[(link.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        }

        // The app's UI fetches the flow with the browser's cookies (none yet): Kratos answers 200, not a CSRF error.
        var created = await (await s.AdminWithKey.PostJson("/admin/recovery/code", new JsonObject { ["identity_id"] = id })).Json(HttpStatusCode.Created);
        var flowId = FlowIdOf(created);
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await browser.Client.GetAsync($"/self-service/recovery/flows?id={flowId}")).Json(HttpStatusCode.OK);
        Assert.Equal("browser", flow["type"]!.GetValue<string>());
        var token = Csrf(flow);
        Assert.NotEmpty(token);
        // Fetching again with the cookie it got works; another browser is refused.
        await (await browser.Client.GetAsync($"/self-service/recovery/flows?id={flowId}")).Json(HttpStatusCode.OK);
        using var other = new Browser(s.PublicUrl, acceptJson: true);
        var foreign = await (await other.Client.GetAsync($"/self-service/recovery/flows?id={flowId}")).Error(HttpStatusCode.Forbidden);
        Assert.Equal("security_csrf_violation", foreign["id"]!.GetValue<string>());

        var done = await (await browser.Client.PostJson($"/self-service/recovery?flow={flowId}",
            new JsonObject { ["method"] = "code", ["code"] = created["recovery_code"]!.GetValue<string>(), ["csrf_token"] = token })).Json(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("browser_location_change_required", done["error"]!["id"]!.GetValue<string>());
        Assert.Contains("/ui/settings?flow=", done["redirect_browser_to"]!.GetValue<string>());
        Assert.NotNull(browser.Cookie("ory_kratos_session"));

        // A browser may also submit the code straight away, without opening the flow first: the code is the proof.
        var second = await (await s.AdminWithKey.PostJson("/admin/recovery/code", new JsonObject { ["identity_id"] = id })).Json(HttpStatusCode.Created);
        using var direct = new Browser(s.PublicUrl, acceptJson: true);
        var wrong = second["recovery_code"]!.GetValue<string>() == "000000" ? "111111" : "000000";
        var refused = await (await direct.Client.PostJson($"/self-service/recovery?flow={FlowIdOf(second)}", new JsonObject { ["method"] = "code", ["code"] = wrong })).Json(HttpStatusCode.OK);
        Assert.Contains(4060006L, MessageIds(refused));
        await (await direct.Client.PostJson($"/self-service/recovery?flow={FlowIdOf(second)}",
            new JsonObject { ["method"] = "code", ["code"] = second["recovery_code"]!.GetValue<string>(), ["csrf_token"] = Csrf(refused) }))
            .Json(HttpStatusCode.UnprocessableEntity);
        Assert.NotNull(direct.Cookie("ory_kratos_session"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Disabled_flows_and_logged_in_recovery_are_refused(string db)
    {
        var s = await fixture.Get(db);
        // JSON clients (the SDKs) get the envelope; Kratos forwards this error of browsers to the error UI (SelfServiceErrorTests).
        using var sdk = new Browser(s.PublicUrl, acceptJson: true);
        var disabled = await (await sdk.Client.GetAsync("/self-service/recovery/api")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("self_service_flow_disabled", disabled["id"]!.GetValue<string>());
        await (await sdk.Client.GetAsync("/self-service/verification/api")).Error(HttpStatusCode.BadRequest);
        var on = await Server(fixture, db);
        var (_, token, _) = await RegisterApi(on);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/self-service/recovery/api");
        request.Headers.Add("X-Session-Token", token);
        var already = await (await on.Public.SendAsync(request)).Error(HttpStatusCode.BadRequest);
        Assert.Equal("session_already_available", already["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Link_method_verifies_and_recovers_through_the_mailed_links(string db)
    {
        var s = await fixture.Get(db, "links", o =>
        {
            o.Selfservice.Flows.Verification.Enabled = true;
            o.Selfservice.Flows.Verification.Use = "link";
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Selfservice.Flows.Recovery.Use = "link";
            o.Selfservice.Methods.Link.Enabled = true;
        });
        var (email, _, reg) = await RegisterApi(s);
        var mail = await LastMail(s, email);
        Assert.Equal("verification_valid", mail!.Value.Template);
        var verifyUrl = new Uri(mail.Value.Data["verification_url"]!.GetValue<string>());
        using var browser = new Browser(s.PublicUrl);
        // The flow made after an API registration is an API flow: the link answers with the flow (HTML browser flows get a 303).
        var opened = await browser.Client.GetAsync(verifyUrl.PathAndQuery);
        Assert.True(opened.StatusCode is HttpStatusCode.OK or HttpStatusCode.SeeOther, $"unexpected {(int)opened.StatusCode}");
        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{reg["identity"]!["id"]}")).Json(HttpStatusCode.OK);
        Assert.True(identity["verifiable_addresses"]![0]!["verified"]!.GetValue<bool>());

        var flow = await ApiFlow(s.Public, "recovery");
        var sent = await (await s.Public.PostJson($"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["method"] = "link", ["email"] = email })).Json(HttpStatusCode.OK);
        Assert.Contains(1060002L, MessageIds(sent));
        var recovery = await LastMail(s, email);
        Assert.Equal("recovery_valid", recovery!.Value.Template);
        var recoverUrl = new Uri(recovery.Value.Data["recovery_url"]!.GetValue<string>());
        // Kratos's link method completes in the browser whatever the flow's type: a session cookie and a 303 to the settings UI.
        using var recovering = new Browser(s.PublicUrl, acceptJson: true);
        var done = await recovering.Client.GetAsync(recoverUrl.PathAndQuery);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Contains("/ui/settings?flow=", done.Headers.Location!.ToString());
        Assert.NotNull(recovering.Cookie("ory_kratos_session"));
        var settingsFlow = await (await recovering.Client.GetAsync($"/self-service/settings/flows?id={done.Headers.Location!.ToString().Split("flow=")[1]}")).Json(HttpStatusCode.OK);
        Assert.Equal("browser", settingsFlow["type"]!.GetValue<string>());
        Assert.Contains(1060001L, MessageIds(settingsFlow));
        // The link is single use: opened again, Kratos's link method sends the browser (303) to a new flow carrying 4060004.
        using var again = new Browser(s.PublicUrl);
        var reopened = await again.Client.GetAsync(recoverUrl.PathAndQuery);
        Assert.Equal(HttpStatusCode.SeeOther, reopened.StatusCode);
        Assert.Contains("/ui/recovery?flow=", reopened.Headers.Location!.ToString());
        Assert.DoesNotContain(flow["id"]!.GetValue<string>(), reopened.Headers.Location!.ToString());
    }
}
