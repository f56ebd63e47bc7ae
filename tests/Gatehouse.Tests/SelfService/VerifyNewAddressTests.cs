using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Config;
using Gatehouse.Courier;
using Gatehouse.Persistence;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// The <c>verify_new_address</c> settings hook, as Kratos's <c>hook.VerifyNewAddress</c> and
/// <c>settings.HookExecutor.ApplyPendingTraitsChange</c> (post-v26.2): a profile change of a verifiable address is held
/// back until the new address is verified with the code mailed to it; then it is applied, the address verified — unless
/// the traits changed meanwhile or the session that proposed it is gone. The codes are read from a real SMTP server.
/// </summary>
public sealed partial class VerifyNewAddressTests(VerifyNewAddressTests.Servers servers) : IClassFixture<VerifyNewAddressTests.Servers>
{
    private const string Schema = """
        {
          "$id": "https://example.com/verify-new-address.schema.json",
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "properties": {
            "traits": {
              "type": "object",
              "properties": {
                "email": {
                  "type": "string", "format": "email",
                  "ory.sh/kratos": { "credentials": { "password": { "identifier": true } }, "verification": { "via": "email" } }
                },
                "backup": {
                  "type": "string", "format": "email",
                  "ory.sh/kratos": { "verification": { "via": "email" } }
                },
                "phone": {
                  "type": "string", "format": "tel",
                  "ory.sh/kratos": { "verification": { "via": "sms" } }
                },
                "name": { "type": "string" }
              },
              "required": ["email"]
            }
          }
        }
        """;

    /// <summary>The SMS provider's request: the recipient and the verification code.</summary>
    private const string SmsBody = """
        function(ctx) { to: ctx.recipient, code: ctx.template_data.verification_code }
        """;

    public sealed class Harness : IAsyncDisposable
    {
        public required TestServer Server { get; init; }
        public required SmtpTestServer Smtp { get; init; }
        public required FakeTimeProvider Clock { get; init; }
        public required HookReceiver Sms { get; init; }

        /// <summary>Delivers the queued mails and returns the path and query of the verification link in the newest one to <paramref name="to"/>.</summary>
        public async Task<string> MailedLinkAsync(string to)
        {
            var before = Smtp.Messages.Count;
            var worker = ActivatorUtilities.CreateInstance<CourierWorker>(Server.Services);
            await worker.ProcessBatchAsync(CancellationToken.None);
            await Smtp.WaitForAsync(before + 1, TimeSpan.FromSeconds(10));
            var mail = Smtp.Messages.Last(m => m.To.Mailboxes.Any(b => string.Equals(b.Address, to, StringComparison.OrdinalIgnoreCase)));
            return VerificationLink().Match(mail.TextBody ?? "").Value;
        }

        /// <summary>Delivers the queued text messages through the courier's HTTP channel and returns the code sent to <paramref name="phone"/>.</summary>
        public async Task<string> TextedCodeAsync(string phone)
        {
            var worker = ActivatorUtilities.CreateInstance<CourierWorker>(Server.Services);
            await worker.ProcessBatchAsync(CancellationToken.None);
            var hit = await Sms.WaitForAsync("/sms", r => JsonNode.Parse(r.Body) is JsonObject o && (string?)o["to"] == phone, TimeSpan.FromSeconds(10));
            return JsonNode.Parse(hit.Body)!["code"]!.GetValue<string>();
        }

        /// <summary>Delivers the queued mails through the courier's SMTP sender and returns the code in the newest one to <paramref name="to"/>.</summary>
        public async Task<string> MailedCodeAsync(string to)
        {
            var before = Smtp.Messages.Count;
            var worker = ActivatorUtilities.CreateInstance<CourierWorker>(Server.Services);
            await worker.ProcessBatchAsync(CancellationToken.None);
            await Smtp.WaitForAsync(before + 1, TimeSpan.FromSeconds(10));
            var mail = Smtp.Messages.Last(m => m.To.Mailboxes.Any(b => string.Equals(b.Address, to, StringComparison.OrdinalIgnoreCase)));
            return SixDigits().Match(mail.TextBody ?? "").Value;
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await Smtp.DisposeAsync();
            await Sms.DisposeAsync();
        }
    }

    /// <summary>One server per database and hook setting for the class (with its SMTP server and clock); each test uses its own addresses.</summary>
    public sealed class Servers : IAsyncDisposable
    {
        private readonly Dictionary<string, Task<Harness>> _started = [];
        private readonly Lock _lock = new();

        /// <summary>The class's server; <paramref name="hook"/> false: without the hook; <paramref name="link"/>: verification by link, and a web hook after the profile change.</summary>
        public Task<Harness> Get(string db, bool hook = true, bool link = false)
        {
            lock (_lock)
            {
                var key = $"{db}/{hook}/{link}";
                if (!_started.TryGetValue(key, out var h)) _started[key] = h = StartAsync(db, hook, link);
                return h;
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var h in _started.Values)
            {
                if (h.IsCompletedSuccessfully) await h.Result.DisposeAsync();
            }
        }
    }

    [GeneratedRegex("/self-service/verification\\?flow=[0-9a-f-]+&token=[A-Za-z0-9_-]+")]
    private static partial Regex VerificationLink();

    [GeneratedRegex("\\b[0-9]{6}\\b")]
    private static partial Regex SixDigits();

    private static async Task<Harness> StartAsync(string db, bool hook, bool link)
    {
        var smtp = await SmtpTestServer.StartAsync();
        var sms = await HookReceiver.StartAsync();
        var smsUrl = sms.On("/sms", 201, "{}");
        var profileHookUrl = sms.On("/profile-changed", 200, "{}");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var server = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Identity.Schemas = [new IdentitySchemaEntry { Id = "default", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Schema)) }];
            o.Identity.DefaultSchemaId = "default";
            o.Selfservice.Flows.Verification.Enabled = true;
            o.Selfservice.Methods.Code.Config.Lifespan = TimeSpan.FromMinutes(15);
            o.Courier.Smtp.ConnectionUri = smtp.ConnectionUri;
            o.Courier.Smtp.FromAddress = "accounts@gatehouse.test";
            o.Courier.Channels =
            [
                new CourierChannelOptions
                {
                    Id = "sms",
                    Type = "http",
                    RequestConfig = new JsonObject
                    {
                        ["url"] = smsUrl,
                        ["method"] = "POST",
                        ["body"] = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(SmsBody)),
                    },
                },
            ];
            if (hook) o.Selfservice.Flows.Settings.After.Profile = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "verify_new_address" }] };
            if (link)
            {
                o.Selfservice.Flows.Verification.Use = "link";
                o.Selfservice.Methods.Link.Enabled = true;
                o.Selfservice.Flows.Settings.After.Profile!.Hooks.Add(new HookConfig
                {
                    Hook = "web_hook",
                    Config = new JsonObject
                    {
                        ["url"] = profileHookUrl,
                        ["method"] = "POST",
                        ["body"] = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes("function(ctx) { identity_id: ctx.identity.id, email: ctx.identity.traits.email, flow_id: ctx.flow.id }")),
                    },
                });
                o.Selfservice.Flows.Settings.After.Profile!.Hooks.Add(new HookConfig { Hook = "notify_previous_addresses" });
            }
        }, s => s.AddSingleton<TimeProvider>(clock));
        return new Harness { Server = server, Smtp = smtp, Clock = clock, Sms = sms };
    }

    private sealed record Account(string Id, string Email, string Token);

    private static async Task<Account> Register(TestServer s, string prefix)
    {
        var (email, token, body) = await RegisterApi(s, HttpAssertions.UniqueEmail(prefix));
        return new Account(body["identity"]!["id"]!.GetValue<string>(), email, token);
    }

    /// <summary>Opens an API settings flow for the account and submits <paramref name="traits"/> with the profile method.</summary>
    private static async Task<(JsonObject Flow, HttpResponseMessage Response)> ChangeProfile(TestServer s, Account a, JsonObject traits)
    {
        using var init = new HttpRequestMessage(HttpMethod.Get, "/self-service/settings/api");
        init.Headers.Add("X-Session-Token", a.Token);
        var flow = (await (await s.Public.SendAsync(init)).Json(HttpStatusCode.OK)).AsObject();
        using var submit = new HttpRequestMessage(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}")
        {
            Content = new StringContent(new JsonObject { ["method"] = "profile", ["traits"] = traits }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        submit.Headers.Add("X-Session-Token", a.Token);
        submit.Headers.Accept.ParseAdd("application/json");
        return (flow, await s.Public.SendAsync(submit));
    }

    private static async Task<JsonObject> Identity(TestServer s, string id) =>
        (await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK)).AsObject();

    private static string Email(JsonObject identity) => identity["traits"]!["email"]!.GetValue<string>();

    private static JsonObject? Address(JsonObject identity, string value) =>
        identity["verifiable_addresses"]!.AsArray().FirstOrDefault(a => a!["value"]!.GetValue<string>() == value)?.AsObject();

    private static async Task<int> PendingChanges(TestServer s, string identityId, string status = "pending")
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var id = Guid.Parse(identityId);
        return await db.PendingTraitsChanges.CountAsync(p => p.IdentityId == id && p.Status == status);
    }

    /// <summary>Changes the account's email to a new one; asserts the deferral answer and returns the new address and the verification flow's id.</summary>
    private static async Task<(string NewEmail, string VerificationFlowId)> Defer(Harness h, Account a, string prefix)
    {
        var newEmail = HttpAssertions.UniqueEmail(prefix);
        var (_, response) = await ChangeProfile(h.Server, a, new JsonObject { ["email"] = newEmail });
        var body = await response.Json(HttpStatusCode.OK);
        var items = body["continue_with"]!.AsArray();
        var show = Assert.Single(items)!;
        Assert.Equal("show_verification_ui", show["action"]!.GetValue<string>());
        Assert.Equal(newEmail, show["flow"]!["verifiable_address"]!.GetValue<string>());
        return (newEmail, show["flow"]!["id"]!.GetValue<string>());
    }

    /// <summary>How many <c>verifiable_address_changed</c> notices were queued for <paramref name="to"/>.</summary>
    private static async Task<int> ChangeNotices(TestServer s, string to)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        return await db.CourierMessages.CountAsync(m => m.Recipient == to && m.TemplateType == "verifiable_address_changed");
    }

    private static Task<HttpResponseMessage> SubmitCode(TestServer s, string flowId, string code) =>
        s.Public.SubmitJson($"/self-service/verification?flow={flowId}", new JsonObject { ["method"] = "code", ["code"] = code });

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_changed_email_is_held_back_until_the_code_mailed_to_it_is_used_then_applied_and_verified(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var a = await Register(s, "vna-old");
        var oldMailsBefore = await MailCount(s, a.Email); // the registration's verification mail
        var (newEmail, flowId) = await Defer(h, a, "vna-new");

        // Nothing of the change is saved yet.
        var unchanged = await Identity(s, a.Id);
        Assert.Equal(a.Email, Email(unchanged));
        Assert.Null(Address(unchanged, newEmail));
        Assert.Equal(1, await PendingChanges(s, a.Id));

        // The verification flow waits for the code sent to the NEW address (Kratos: sent_email, 1080003, a resend button).
        var vflow = await (await s.Public.GetAsync($"/self-service/verification/flows?id={flowId}")).Json(HttpStatusCode.OK);
        Assert.Equal("api", vflow["type"]!.GetValue<string>());
        Assert.Equal("sent_email", vflow["state"]!.GetValue<string>());
        Assert.Contains(1080003L, MessageIds(vflow));
        Assert.Equal(newEmail, Node(vflow, "email")!["attributes"]!["value"]!.GetValue<string>());
        var code = await h.MailedCodeAsync(newEmail);
        Assert.Matches("^[0-9]{6}$", code);
        Assert.Equal(oldMailsBefore, await MailCount(s, a.Email));

        var done = await (await SubmitCode(s, flowId, code)).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", done["state"]!.GetValue<string>());
        Assert.Equal([1080002L], MessageIds(done));

        var changed = await Identity(s, a.Id);
        Assert.Equal(newEmail, Email(changed));
        var address = Address(changed, newEmail)!;
        Assert.True(address["verified"]!.GetValue<bool>());
        Assert.Equal("completed", address["status"]!.GetValue<string>());
        Assert.NotNull(address["verified_at"]);
        Assert.Null(Address(changed, a.Email));
        Assert.Equal(0, await PendingChanges(s, a.Id));
        Assert.Equal(1, await PendingChanges(s, a.Id, "completed"));

        // The new address is the password identifier now.
        var login = await ApiFlow(s.Public, "login");
        await (await s.Public.PostJson($"/self-service/login?flow={login["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = newEmail, ["password"] = GoodPassword })).Json(HttpStatusCode.OK);

        // The code is spent: using it again changes nothing more (the passed flow is replaced, Kratos's 4070002).
        var again = await (await SubmitCode(s, flowId, code)).Error(HttpStatusCode.Gone);
        Assert.Equal("self_service_flow_replaced", again["id"]!.GetValue<string>());
        Assert.Equal(newEmail, Email(await Identity(s, a.Id)));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Changing_two_addresses_at_once_is_refused_with_4050002_and_changes_nothing(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var a = await Register(s, "vna-two");
        var newEmail = HttpAssertions.UniqueEmail("vna-two-new");
        var backup = HttpAssertions.UniqueEmail("vna-two-backup");
        var (_, response) = await ChangeProfile(s, a, new JsonObject { ["email"] = newEmail, ["backup"] = backup });
        // Kratos writes the flow with the message as a plain 200.
        var body = await response.Json(HttpStatusCode.OK);
        Assert.Equal([4050002L], MessageIds(body));
        Assert.Null(body["continue_with"]);
        Assert.Equal(a.Email, Email(await Identity(s, a.Id)));
        Assert.Equal(0, await PendingChanges(s, a.Id));
        Assert.Equal(0, await MailCount(s, newEmail));
        Assert.Equal(0, await MailCount(s, backup));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_address_of_another_identity_is_refused_with_4000007_and_changes_nothing(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var other = await Register(s, "vna-owner");
        var a = await Register(s, "vna-thief");
        var (_, response) = await ChangeProfile(s, a, new JsonObject { ["email"] = other.Email });
        var body = await response.Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000007L], MessageIds(body));
        Assert.Equal(a.Email, Email(await Identity(s, a.Id)));
        Assert.Equal(other.Email, Email(await Identity(s, other.Id)));
        Assert.Equal(0, await PendingChanges(s, a.Id));
        // The owner gets no code for someone else's change (only its own registration's verification mail).
        Assert.Equal(1, await MailCount(s, other.Email));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_session_that_is_not_privileged_must_sign_in_again_and_nothing_is_sent(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var a = await Register(s, "vna-old-session");
        h.Clock.Advance(TimeSpan.FromHours(2)); // past privileged_session_max_age (1h), within the session's lifespan
        var newEmail = HttpAssertions.UniqueEmail("vna-old-session-new");
        var (_, response) = await ChangeProfile(s, a, new JsonObject { ["email"] = newEmail });
        var error = await response.Error(HttpStatusCode.Forbidden);
        Assert.Equal("session_refresh_required", error["id"]!.GetValue<string>());
        Assert.Equal(a.Email, Email(await Identity(s, a.Id)));
        Assert.Equal(0, await PendingChanges(s, a.Id));
        Assert.Equal(0, await MailCount(s, newEmail));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Traits_changed_meanwhile_keep_the_pending_change_from_being_applied(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var a = await Register(s, "vna-drift");
        var (newEmail, flowId) = await Defer(h, a, "vna-drift-new");
        var code = await h.MailedCodeAsync(newEmail);
        // An administrator changes the identity in between.
        await (await s.AdminWithKey.PutJson($"/admin/identities/{a.Id}",
            new JsonObject { ["schema_id"] = "default", ["state"] = "active", ["traits"] = new JsonObject { ["email"] = a.Email, ["name"] = "Changed" } }.ToJsonString())).Json(HttpStatusCode.OK);

        var answer = await (await SubmitCode(s, flowId, code)).Json(HttpStatusCode.OK);
        Assert.Equal([4070006L], MessageIds(answer));
        Assert.Equal("sent_email", answer["state"]!.GetValue<string>());
        var identity = await Identity(s, a.Id);
        Assert.Equal(a.Email, Email(identity));
        Assert.Equal("Changed", identity["traits"]!["name"]!.GetValue<string>());
        Assert.Null(Address(identity, newEmail));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_revoked_session_keeps_the_pending_change_from_being_applied(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var a = await Register(s, "vna-revoked");
        var (newEmail, flowId) = await Defer(h, a, "vna-revoked-new");
        var code = await h.MailedCodeAsync(newEmail);
        using var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        whoami.Headers.Add("X-Session-Token", a.Token);
        var sessionId = (await (await s.Public.SendAsync(whoami)).Json(HttpStatusCode.OK))["id"]!.GetValue<string>();
        var revoked = await s.AdminWithKey.DeleteAsync($"/admin/sessions/{sessionId}");
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);

        var answer = await (await SubmitCode(s, flowId, code)).Json(HttpStatusCode.OK);
        Assert.Equal([4070006L], MessageIds(answer));
        var identity = await Identity(s, a.Id);
        Assert.Equal(a.Email, Email(identity));
        Assert.Null(Address(identity, newEmail));
        Assert.Equal(1, await PendingChanges(s, a.Id));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_code_past_its_lifespan_applies_nothing(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var a = await Register(s, "vna-late");
        var (newEmail, flowId) = await Defer(h, a, "vna-late-new");
        var code = await h.MailedCodeAsync(newEmail);
        h.Clock.Advance(TimeSpan.FromMinutes(20)); // the code lives 15 minutes

        // Answered as an expired flow (Kratos's VerificationCode.Validate); the new flow it names verifies nothing pending.
        var late = await (await SubmitCode(s, flowId, code)).Error(HttpStatusCode.Gone);
        Assert.Equal("self_service_flow_expired", late["id"]!.GetValue<string>());
        var identity = await Identity(s, a.Id);
        Assert.Equal(a.Email, Email(identity));
        Assert.Null(Address(identity, newEmail));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Resending_mails_a_new_code_to_the_new_address_which_applies_the_change(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var a = await Register(s, "vna-resend");
        var (newEmail, flowId) = await Defer(h, a, "vna-resend-new");
        Assert.Matches("^[0-9]{6}$", await h.MailedCodeAsync(newEmail));

        var resent = await (await s.Public.SubmitJson($"/self-service/verification?flow={flowId}",
            new JsonObject { ["method"] = "code", ["email"] = newEmail })).Json(HttpStatusCode.OK);
        Assert.Equal("sent_email", resent["state"]!.GetValue<string>());
        Assert.Equal(2, await MailCount(s, newEmail));
        var second = await h.MailedCodeAsync(newEmail);
        Assert.Matches("^[0-9]{6}$", second);

        var done = await (await SubmitCode(s, flowId, second)).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", done["state"]!.GetValue<string>());
        var identity = await Identity(s, a.Id);
        Assert.Equal(newEmail, Email(identity));
        Assert.True(Address(identity, newEmail)!["verified"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_change_of_other_traits_is_saved_at_once_with_the_hook(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var a = await Register(s, "vna-name");
        var (_, response) = await ChangeProfile(s, a, new JsonObject { ["email"] = a.Email, ["name"] = "Ada" });
        var body = await response.Json(HttpStatusCode.OK);
        Assert.Equal("success", body["state"]!.GetValue<string>());
        Assert.Equal("Ada", (await Identity(s, a.Id))["traits"]!["name"]!.GetValue<string>());
        Assert.Equal(0, await PendingChanges(s, a.Id));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_the_hook_a_changed_email_is_saved_at_once_and_then_verified(string db)
    {
        var h = await servers.Get(db, hook: false);
        var s = h.Server;
        var a = await Register(s, "vna-nohook");
        var newEmail = HttpAssertions.UniqueEmail("vna-nohook-new");
        var (_, response) = await ChangeProfile(s, a, new JsonObject { ["email"] = newEmail });
        var body = await response.Json(HttpStatusCode.OK);
        Assert.Equal("success", body["state"]!.GetValue<string>());
        var identity = await Identity(s, a.Id);
        Assert.Equal(newEmail, Email(identity));
        Assert.False(Address(identity, newEmail)!["verified"]!.GetValue<bool>());
        Assert.Equal(0, await PendingChanges(s, a.Id));
        Assert.Equal(1, await MailCount(s, newEmail));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_address_claimed_by_another_identity_before_the_code_is_used_is_refused_with_4000007(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var a = await Register(s, "vna-race");
        var (newEmail, flowId) = await Defer(h, a, "vna-race-new");
        var code = await h.MailedCodeAsync(newEmail);
        await RegisterApi(s, newEmail);

        var answer = await (await SubmitCode(s, flowId, code)).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000007L], MessageIds(answer));
        var identity = await Identity(s, a.Id);
        Assert.Equal(a.Email, Email(identity));
        Assert.Null(Address(identity, newEmail));

        // A resend is refused as well, and mails nothing more to the address.
        var mails = await MailCount(s, newEmail);
        var resend = await (await s.Public.SubmitJson($"/self-service/verification?flow={flowId}",
            new JsonObject { ["method"] = "code", ["email"] = newEmail })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000007L], MessageIds(resend));
        Assert.Equal(mails, await MailCount(s, newEmail));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_browser_is_sent_to_the_verification_ui_and_its_identity_is_unchanged(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var email = HttpAssertions.UniqueEmail("vna-browser");
        var reg = await (await browser.Client.GetAsync("/self-service/registration/browser")).Json(HttpStatusCode.OK);
        var registered = await (await browser.Client.PostJson($"/self-service/registration?flow={reg["id"]}",
            new JsonObject { ["csrf_token"] = Csrf(reg), ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.OK);
        var id = registered["identity"]!["id"]!.GetValue<string>();
        var flow = await (await browser.Client.GetAsync("/self-service/settings/browser")).Json(HttpStatusCode.OK);
        var newEmail = HttpAssertions.UniqueEmail("vna-browser-new");
        using var submit = new HttpRequestMessage(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}")
        {
            Content = new FormUrlEncodedContent([new("csrf_token", Csrf(flow)), new("method", "profile"), new("traits.email", newEmail)]),
        };
        submit.Headers.Accept.ParseAdd("text/html");
        var response = await browser.Client.SendAsync(submit);
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith($"{s.PublicUrl}/ui/verification?flow=", location, StringComparison.Ordinal);
        var verificationId = location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        var vflow = await (await browser.Client.GetAsync($"/self-service/verification/flows?id={verificationId}")).Json(HttpStatusCode.OK);
        Assert.Equal("browser", vflow["type"]!.GetValue<string>());
        Assert.Equal("sent_email", vflow["state"]!.GetValue<string>());
        Assert.Equal(email, Email(await Identity(s, id)));
        Assert.Equal(1, await PendingChanges(s, id));
        Assert.Equal(1, await MailCount(s, newEmail));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_new_phone_number_is_verified_by_a_texted_code_before_it_is_saved(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var a = await Register(s, "vna-phone");
        var phone = "+4915112" + Random.Shared.Next(100000, 999999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (_, response) = await ChangeProfile(s, a, new JsonObject { ["email"] = a.Email, ["phone"] = phone });
        var body = await response.Json(HttpStatusCode.OK);
        var show = Assert.Single(body["continue_with"]!.AsArray())!;
        Assert.Equal(phone, show["flow"]!["verifiable_address"]!.GetValue<string>());
        var flowId = show["flow"]!["id"]!.GetValue<string>();
        Assert.Null((await Identity(s, a.Id))["traits"]!["phone"]);

        var vflow = await (await s.Public.GetAsync($"/self-service/verification/flows?id={flowId}")).Json(HttpStatusCode.OK);
        Assert.Equal([1080004L], MessageIds(vflow));
        var code = await h.TextedCodeAsync(phone);
        var done = await (await SubmitCode(s, flowId, code)).Json(HttpStatusCode.OK);
        Assert.Equal([1080005L], MessageIds(done));
        var identity = await Identity(s, a.Id);
        Assert.Equal(phone, identity["traits"]!["phone"]!.GetValue<string>());
        var address = Address(identity, phone)!;
        Assert.Equal("sms", address["via"]!.GetValue<string>());
        Assert.True(address["verified"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_the_link_method_the_opened_link_applies_the_change_and_the_profile_hooks_run_then(string db)
    {
        var h = await servers.Get(db, link: true);
        var s = h.Server;
        var a = await Register(s, "vna-link");
        var (newEmail, flowId) = await Defer(h, a, "vna-link-new");
        var vflow = await (await s.Public.GetAsync($"/self-service/verification/flows?id={flowId}")).Json(HttpStatusCode.OK);
        Assert.Equal([1080001L], MessageIds(vflow));
        // Nothing saved, so the profile's post-persist hooks have not run: no web hook call, no notice to the old address.
        Assert.DoesNotContain(h.Sms.Received("/profile-changed"), r => r.Body.Contains(a.Id, StringComparison.Ordinal));
        Assert.Equal(0, await ChangeNotices(s, a.Email));

        var link = await h.MailedLinkAsync(newEmail);
        Assert.Contains($"flow={flowId}", link, StringComparison.Ordinal);
        using var browser = new Browser(s.PublicUrl);
        var opened = await browser.Client.GetAsync(link);
        Assert.Equal(HttpStatusCode.SeeOther, opened.StatusCode);
        var done = await (await s.Public.GetAsync($"/self-service/verification/flows?id={flowId}")).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", done["state"]!.GetValue<string>());

        var identity = await Identity(s, a.Id);
        Assert.Equal(newEmail, Email(identity));
        Assert.True(Address(identity, newEmail)!["verified"]!.GetValue<bool>());
        var called = await h.Sms.WaitForAsync("/profile-changed", r => r.Body.Contains(a.Id, StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        var payload = JsonNode.Parse(called.Body)!;
        Assert.Equal(newEmail, payload["email"]!.GetValue<string>());
        Assert.NotEqual(flowId, payload["flow_id"]!.GetValue<string>()); // the settings flow the change came from
        // notify_previous_addresses sees the identity as it was before the change: the old address is told.
        Assert.Equal(1, await ChangeNotices(s, a.Email));
        Assert.Equal(0, await ChangeNotices(s, newEmail));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_the_link_method_a_revoked_session_keeps_the_change_from_being_applied_with_4070001(string db)
    {
        var h = await servers.Get(db, link: true);
        var s = h.Server;
        var a = await Register(s, "vna-link-revoked");
        var (newEmail, flowId) = await Defer(h, a, "vna-link-revoked-new");
        var link = await h.MailedLinkAsync(newEmail);
        using var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        whoami.Headers.Add("X-Session-Token", a.Token);
        var sessionId = (await (await s.Public.SendAsync(whoami)).Json(HttpStatusCode.OK))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/sessions/{sessionId}")).StatusCode);

        using var browser = new Browser(s.PublicUrl);
        Assert.Equal(HttpStatusCode.SeeOther, (await browser.Client.GetAsync(link)).StatusCode);
        var flow = await (await s.Public.GetAsync($"/self-service/verification/flows?id={flowId}")).Json(HttpStatusCode.OK);
        Assert.Equal([4070001L], MessageIds(flow));
        Assert.Equal(a.Email, Email(await Identity(s, a.Id)));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_newer_change_replaces_the_pending_one_whose_code_then_verifies_nothing(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var a = await Register(s, "vna-twice");
        var (firstEmail, firstFlow) = await Defer(h, a, "vna-twice-first");
        var firstCode = await h.MailedCodeAsync(firstEmail);
        var (secondEmail, secondFlow) = await Defer(h, a, "vna-twice-second");
        Assert.Equal(1, await PendingChanges(s, a.Id));

        var stale = await (await SubmitCode(s, firstFlow, firstCode)).Json(HttpStatusCode.OK);
        Assert.Equal([4070006L], MessageIds(stale));
        Assert.Equal("sent_email", stale["state"]!.GetValue<string>());
        Assert.Equal(a.Email, Email(await Identity(s, a.Id)));

        var done = await (await SubmitCode(s, secondFlow, await h.MailedCodeAsync(secondEmail))).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", done["state"]!.GetValue<string>());
        var identity = await Identity(s, a.Id);
        Assert.Equal(secondEmail, Email(identity));
        Assert.Null(Address(identity, firstEmail));
    }
}
