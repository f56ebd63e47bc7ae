using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Config;
using Gatehouse.Courier;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// Passwordless login and registration by a one-time e-mail code (<c>selfservice.methods.code.passwordless_enabled</c>),
/// with the code read from the mail the courier delivered to a real SMTP server, and a fake clock for expiry.
/// </summary>
public sealed partial class CodeLoginTests(CodeLoginTests.Servers servers) : IClassFixture<CodeLoginTests.Servers>
{
    private const string CodeSchema = """
    {
      "$id": "https://gatehouse.test/code.schema.json",
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": {
              "type": "string",
              "format": "email",
              "title": "E-Mail",
              "ory.sh/kratos": {
                "credentials": { "password": { "identifier": true }, "code": { "identifier": true, "via": "email" } },
                "verification": { "via": "email" },
                "recovery": { "via": "email" }
              }
            }
          },
          "required": ["email"],
          "additionalProperties": false
        }
      }
    }
    """;

    public sealed class Harness : IAsyncDisposable
    {
        public required TestServer Server { get; init; }
        public required SmtpTestServer Smtp { get; init; }
        public required FakeTimeProvider Clock { get; init; }

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

        public int MailsTo(string to) => Smtp.Messages.Count(m => m.To.Mailboxes.Any(b => string.Equals(b.Address, to, StringComparison.OrdinalIgnoreCase)));

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await Smtp.DisposeAsync();
        }
    }

    /// <summary>One server (and SMTP server, clock) per database for the class; each test uses its own addresses.</summary>
    public sealed class Servers : IAsyncDisposable
    {
        private readonly Dictionary<string, Task<Harness>> _started = [];
        private readonly Lock _lock = new();

        /// <summary>The class's server; <paramref name="profileFirst"/>: another one with the two-step (<c>profile_first</c>) registration.</summary>
        public Task<Harness> Get(string db, bool profileFirst = false) => Get(db, profileFirst ? "profile_first" : "unified");

        /// <summary>
        /// A server of one variant: <c>unified</c>, <c>profile_first</c> (two-step registration), <c>identifier_first</c> (the
        /// login style), <c>identifier_first_mitigated</c> (and <c>security.account_enumeration.mitigate</c>) or
        /// <c>refresh_choose_address</c> (<c>feature_flags.refresh_login_choose_address</c>).
        /// </summary>
        public Task<Harness> Get(string db, string variant)
        {
            lock (_lock)
            {
                var key = db + "/" + variant;
                if (!_started.TryGetValue(key, out var h)) _started[key] = h = StartAsync(db, variant);
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

    [GeneratedRegex("\\b[0-9]{6}\\b")]
    private static partial Regex SixDigits();

    private static async Task<Harness> StartAsync(string db, string variant)
    {
        var smtp = await SmtpTestServer.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var server = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Identity.Schemas = [.. o.Identity.Schemas, new IdentitySchemaEntry { Id = "code", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(CodeSchema)) }];
            o.Identity.DefaultSchemaId = "code";
            o.Selfservice.Methods.Code.PasswordlessEnabled = true;
            o.Selfservice.Methods.Code.Config.Lifespan = TimeSpan.FromMinutes(15);
            o.Selfservice.Flows.Registration.After.Code = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
            o.Selfservice.Flows.Verification.Enabled = true;
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Courier.Smtp.ConnectionUri = smtp.ConnectionUri;
            o.Courier.Smtp.FromAddress = "accounts@gatehouse.test";
            o.Selfservice.Methods.Code.Config.MaxSubmissions = 3;
            o.Selfservice.Flows.Login.Lifespan = TimeSpan.FromHours(2);
            switch (variant)
            {
                case "unified": break;
                case "profile_first": o.Selfservice.Flows.Registration.Style = "profile_first"; break;
                case "identifier_first": o.Selfservice.Flows.Login.Style = "identifier_first"; break;
                case "identifier_first_mitigated":
                    o.Selfservice.Flows.Login.Style = "identifier_first";
                    o.Security.AccountEnumeration.Mitigate = true;
                    break;
                case "refresh_choose_address": o.FeatureFlags.RefreshLoginChooseAddress = true; break;
                default: throw new ArgumentException($"unknown variant {variant}", nameof(variant));
            }
        }, s => s.AddSingleton<TimeProvider>(clock));
        return new Harness { Server = server, Smtp = smtp, Clock = clock };
    }

    internal static Task<HttpResponseMessage> Submit(TestServer s, JsonNode flow, JsonObject body) =>
        s.Public.PostJson($"/self-service/{(flow["ui"]!["action"]!.GetValue<string>().Contains("/login", StringComparison.Ordinal) ? "login" : "registration")}?flow={flow["id"]}", body);

    /// <summary>Registers by code through the API flow; returns the email and the success body.</summary>
    internal static async Task<(string Email, JsonNode Body)> RegisterByCodeAsync(Harness h)
    {
        var email = HttpAssertions.UniqueEmail("code");
        var flow = await ApiFlow(h.Server.Public, "registration");
        var sent = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("sent_email", sent["state"]!.GetValue<string>());
        var code = await h.MailedCodeAsync(email);
        var done = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["traits"] = new JsonObject { ["email"] = email }, ["code"] = code })).Json(HttpStatusCode.OK);
        return (email, done);
    }

    internal static List<(string? Group, string? Name, string? Type, string? Value)> Nodes(JsonNode flow) =>
        [.. flow["ui"]!["nodes"]!.AsArray().Select(n => (
            n!["group"]?.GetValue<string>(),
            n["attributes"]!["name"]?.GetValue<string>(),
            n["attributes"]!["type"]?.GetValue<string>(),
            n["attributes"]!["value"] is JsonValue v ? v.ToString() : null))];

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Login_form_offers_the_code_method_next_to_one_identifier_field(string db)
    {
        var h = await servers.Get(db);
        var flow = await ApiFlow(h.Server.Public, "login");
        var nodes = Nodes(flow);
        Assert.Single(nodes, n => n.Name == "identifier");
        var code = flow["ui"]!["nodes"]!.AsArray().Single(n => n!["group"]!.GetValue<string>() == "code")!;
        Assert.Equal("submit", code["attributes"]!["type"]!.GetValue<string>());
        Assert.Equal("code", code["attributes"]!["value"]!.GetValue<string>());
        Assert.Equal(1010015L, code["meta"]!["label"]!["id"]!.GetValue<long>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Registration_by_code_creates_the_identity_with_a_code_credential_a_verified_address_and_a_session(string db)
    {
        var h = await servers.Get(db);
        var email = HttpAssertions.UniqueEmail("reg");
        var flow = await ApiFlow(h.Server.Public, "registration");
        Assert.Contains(Nodes(flow), n => n is { Group: "code", Name: "method", Type: "submit", Value: "code" });

        var sent = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("sent_email", sent["state"]!.GetValue<string>());
        Assert.Contains(1040005L, MessageIds(sent));
        var nodes = Nodes(sent);
        Assert.Contains(nodes, n => n is { Name: "traits.email", Type: "hidden" } && n.Value == email);
        Assert.Contains(nodes, n => n is { Group: "code", Name: "code", Type: "text" });
        Assert.Contains(nodes, n => n is { Group: "code", Name: "resend", Type: "submit", Value: "code" });
        Assert.DoesNotContain(nodes, n => n.Name == "password");
        var code = await h.MailedCodeAsync(email);
        Assert.Matches("^[0-9]{6}$", code);

        var wrong = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["traits"] = new JsonObject { ["email"] = email }, ["code"] = code == "000000" ? "111111" : "000000" })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4040003L, MessageIds(wrong));
        // Other traits than the ones the code was sent for are refused.
        var other = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["traits"] = new JsonObject { ["email"] = "someone-else@example.com" }, ["code"] = code })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000036L, MessageIds(other));

        var done = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["traits"] = new JsonObject { ["email"] = email }, ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.False(string.IsNullOrEmpty(done["session_token"]?.GetValue<string>()));
        Assert.Equal("code", done["session"]!["authentication_methods"]![0]!["method"]!.GetValue<string>());
        var id = done["identity"]!["id"]!.GetValue<string>();
        var identity = await (await h.Server.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=code")).Json(HttpStatusCode.OK);
        var credential = identity["credentials"]!["code"]!;
        Assert.Equal(email, credential["identifiers"]![0]!.GetValue<string>());
        Assert.Equal("email", credential["config"]!["addresses"]![0]!["channel"]!.GetValue<string>());
        Assert.True(identity["verifiable_addresses"]![0]!["verified"]!.GetValue<bool>());
        Assert.Equal("completed", identity["verifiable_addresses"]![0]!["status"]!.GetValue<string>());
        // As in Kratos, the admin API does not delete a code credential; nothing changes.
        var delete = await (await h.Server.AdminWithKey.DeleteAsync($"/admin/identities/{id}/credentials/code")).Json(HttpStatusCode.BadRequest);
        Assert.Equal("Credentials type code cannot be deleted.", delete["error"]!["reason"]!.GetValue<string>());
        var after = await (await h.Server.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=code")).Json(HttpStatusCode.OK);
        Assert.Equal(identity["credentials"]!["code"]!.ToJsonString(), after["credentials"]!["code"]!.ToJsonString());
        // The address is proved by the code: no verification mail follows.
        await ActivatorUtilities.CreateInstance<CourierWorker>(h.Server.Services).ProcessBatchAsync(CancellationToken.None);
        Assert.Equal(1, h.MailsTo(email));
    }

    /// <summary>
    /// Two-step registration (<c>profile_first</c>): Kratos's <c>populateEmailSentFlow</c> ends the code form with a back
    /// button (<c>screen=credential-selection</c>, profile group, 1040008 "Back") after Resend; the profile step's
    /// <c>screen=previous</c> button is gone. Posting it (with the form's hidden <c>method=code</c>, as a browser does) shows
    /// the credential selection again, with the traits, in <c>choose_method</c> (the profile strategy's
    /// <c>showCredentialsSelection</c>).
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Two_step_code_registration_ends_the_code_form_with_a_back_button_to_the_credential_selection(string db)
    {
        var h = await servers.Get(db, profileFirst: true);
        var email = HttpAssertions.UniqueEmail("reg2");
        var traits = new JsonObject { ["email"] = email };
        var flow = await ApiFlow(h.Server.Public, "registration");
        var selection = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "profile", ["traits"] = traits.DeepClone() })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(Nodes(selection), n => n is { Group: "profile", Name: "screen", Type: "submit", Value: "previous" });

        var sent = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["traits"] = traits.DeepClone() })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("sent_email", sent["state"]!.GetValue<string>());
        Assert.Equal(
            [("default", "traits.email", "hidden", email), ("code", "method", "hidden", "code"), ("code", "code", "text", null), ("code", "method", "submit", "code"),
             ("code", "resend", "submit", "code"), ("profile", "screen", "submit", "credential-selection")],
            Nodes(sent));
        var back = sent["ui"]!["nodes"]!.AsArray()[^1]!;
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["id"] = 1040008, ["text"] = "Back", ["type"] = "info" }, back["meta"]!["label"]), back.ToJsonString());
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["name"] = "screen", ["type"] = "submit", ["value"] = "credential-selection", ["disabled"] = false, ["node_type"] = "input" },
            back["attributes"]), back.ToJsonString());

        var again = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["screen"] = "credential-selection", ["traits"] = traits.DeepClone() })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("choose_method", again["state"]!.GetValue<string>());
        Assert.Null(again["active"]);
        Assert.Equal(Nodes(selection), Nodes(again));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Login_by_code_mails_a_code_answers_400_sent_email_and_signs_in_with_aal1_code(string db)
    {
        var h = await servers.Get(db);
        var (email, registered) = await RegisterByCodeAsync(h);
        var flow = await ApiFlow(h.Server.Public, "login");

        var sent = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("sent_email", sent["state"]!.GetValue<string>());
        Assert.Equal("code", sent["active"]!.GetValue<string>());
        Assert.Equal([1010014L], MessageIds(sent));
        Assert.Equal(
            [("default", "identifier", "hidden", email), ("code", "method", "hidden", "code"), ("code", "code", "text", null), ("code", "method", "submit", "code"), ("code", "resend", "submit", "code")],
            Nodes(sent));
        var code = await h.MailedCodeAsync(email);

        var wrong = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = code == "000000" ? "111111" : "000000" })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4010008L], MessageIds(wrong));
        Assert.Equal("sent_email", wrong["state"]!.GetValue<string>());

        var done = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal(registered["identity"]!["id"]!.GetValue<string>(), done["session"]!["identity"]!["id"]!.GetValue<string>());
        Assert.Equal("aal1", done["session"]!["authenticator_assurance_level"]!.GetValue<string>());
        Assert.Equal("code", done["session"]!["authentication_methods"]![0]!["method"]!.GetValue<string>());
        Assert.Equal("aal1", done["session"]!["authentication_methods"]![0]!["aal"]!.GetValue<string>());

        // Single use: a second flow cannot use the same code.
        var again = await ApiFlow(h.Server.Public, "login");
        await (await Submit(h.Server, again, new JsonObject { ["method"] = "code", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        var reused = await (await Submit(h.Server, again, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = code })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010008L, MessageIds(reused));
    }

    /// <summary>
    /// Kratos's code login reads JSON as a form (<c>HTTPDecoderJSONFollowsFormFormat</c>): each member becomes its text
    /// (a number its digits, an array its JSON), null is left out. So a numeric identifier is looked up as text (4000035:
    /// no such user, nothing mailed), a wrong code sent as a number or an array is a wrong code (4010008), a null code is
    /// missing (4000002), and the right code as a number signs in.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Code_fields_are_read_as_kratos_reads_json_as_a_form(string db)
    {
        var h = await servers.Get(db);
        var (email, _) = await RegisterByCodeAsync(h);
        var flow = await ApiFlow(h.Server.Public, "login");
        var numeric = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = 5 })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000035L], MessageIds(numeric));
        Assert.Equal(1, h.MailsTo(email)); // the registration's only
        await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        var code = await h.MailedCodeAsync(email);
        var wrong = code == "999999" ? 999998 : 999999;
        Assert.Equal([4010008L], MessageIds(await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = wrong })).Json(HttpStatusCode.BadRequest)));
        Assert.Equal([4010008L], MessageIds(await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = new JsonArray(code) })).Json(HttpStatusCode.BadRequest)));
        var nulled = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = null })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000002L], MessageIds(nulled, "code"));
        // A number cannot carry a leading zero: such a code goes as the string it is.
        JsonNode asNumber = code.StartsWith('0') ? code : int.Parse(code, System.Globalization.CultureInfo.InvariantCulture);
        await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = asNumber })).Json(HttpStatusCode.OK);
        // A null identifier and password in a password login: both left out, so the login schema's required fails on each.
        var password = await ApiFlow(h.Server.Public, "login");
        var nothing = await (await Submit(h.Server, password, new JsonObject { ["method"] = "password", ["identifier"] = null, ["password"] = null })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000002L], MessageIds(nothing, "identifier"));
        Assert.Equal([4000002L], MessageIds(nothing, "password"));
    }

    /// <summary>
    /// Kratos's LoginCode.Validate: a wrong code is 4010008 whether or not the live one expired; the right code past its
    /// lifespan (the flow itself still live) expires the flow — 410 self_service_flow_expired, counted from the code's
    /// expiry, naming a new flow with a fresh form and 4010001.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_login_code_expires_with_the_configured_lifespan(string db)
    {
        var h = await servers.Get(db);
        var (email, _) = await RegisterByCodeAsync(h);
        // Kratos's PrepareReplacementForExpiredFlow makes the new flow FromOldFlow: the old request_url, so its return_to.
        var flow = (await (await h.Server.Public.GetAsync("/self-service/login/api?return_to=http://app.example.com/after")).Json(HttpStatusCode.OK)).AsObject();
        await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        var code = await h.MailedCodeAsync(email);
        h.Clock.Advance(TimeSpan.FromMinutes(16));
        var wrong = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = code == "000000" ? "111111" : "000000" })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4010008L], MessageIds(wrong));
        Assert.Equal("sent_email", wrong["state"]!.GetValue<string>());

        var late = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = code })).Json(HttpStatusCode.Gone);
        Assert.Equal("self_service_flow_expired", late["error"]!["id"]!.GetValue<string>());
        Assert.Equal("The self-service flow expired 1.00 minutes ago, initialize a new one.", late["error"]!["reason"]!.GetValue<string>());
        // flow.NewFlowExpiredError: herodot's error text "self-service flow expired" is the message; no details.
        Assert.Equal("self-service flow expired", late["error"]!["message"]!.GetValue<string>());
        Assert.Null(late["error"]!["details"]);
        Assert.True(late["since"]!.GetValue<long>() > 0);
        var next = await (await h.Server.Public.GetAsync($"/self-service/login/flows?id={late["use_flow_id"]}")).Json(HttpStatusCode.OK);
        Assert.NotEqual(flow["id"]!.GetValue<string>(), next["id"]!.GetValue<string>());
        Assert.Equal("http://app.example.com/after", next["return_to"]!.GetValue<string>());
        Assert.Equal(flow["request_url"]!.GetValue<string>(), next["request_url"]!.GetValue<string>());
        Assert.Equal("choose_method", next["state"]!.GetValue<string>());
        Assert.Equal([4010001L], MessageIds(next));
        Assert.Equal("The login flow expired 1.00 minutes ago, please try again.", next["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(late["expired_at"]!.GetValue<string>(), next["ui"]!["messages"]![0]!["context"]!["expired_at"]!.GetValue<string>());
        // A fresh form: the identifier to fill in, no code field.
        Assert.DoesNotContain(Nodes(next), n => n.Name == "code");
        Assert.Contains(Nodes(next), n => n.Name == "identifier" && n.Type != "hidden");
        // The expired code did not sign in, and is not used up by the refusal either: it is still refused as expired.
        await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = code })).Json(HttpStatusCode.Gone);
    }

    /// <summary>Kratos's RegistrationCode.Validate: the right registration code past its lifespan expires the flow (4040001).</summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_registration_code_past_its_lifespan_expires_the_flow(string db)
    {
        var h = await servers.Get(db);
        var email = HttpAssertions.UniqueEmail("code");
        var flow = await ApiFlow(h.Server.Public, "registration");
        var traits = new JsonObject { ["email"] = email };
        await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["traits"] = traits.DeepClone() })).Json(HttpStatusCode.BadRequest);
        var code = await h.MailedCodeAsync(email);
        h.Clock.Advance(TimeSpan.FromMinutes(16));
        var late = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["traits"] = traits.DeepClone(), ["code"] = code })).Json(HttpStatusCode.Gone);
        Assert.Equal("self_service_flow_expired", late["error"]!["id"]!.GetValue<string>());
        var next = await (await h.Server.Public.GetAsync($"/self-service/registration/flows?id={late["use_flow_id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal([4040001L], MessageIds(next));
        Assert.Equal("The registration flow expired 1.00 minutes ago, please try again.", next["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
        // No identity was made.
        Assert.Empty((await (await h.Server.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(email)}")).Json(HttpStatusCode.OK)).AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Resend_mails_a_new_code_and_the_old_one_stops_working(string db)
    {
        var h = await servers.Get(db);
        var (email, _) = await RegisterByCodeAsync(h);
        var flow = await ApiFlow(h.Server.Public, "login");
        await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        var first = await h.MailedCodeAsync(email);
        var resent = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["resend"] = "code" })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("sent_email", resent["state"]!.GetValue<string>());
        var second = await h.MailedCodeAsync(email);
        if (first != second)
        {
            var old = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = first })).Json(HttpStatusCode.BadRequest);
            Assert.Contains(4010008L, MessageIds(old));
        }
        await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = second })).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Wrong_codes_are_bounded_by_max_submissions_then_even_the_right_code_fails(string db)
    {
        var h = await servers.Get(db);
        var (email, _) = await RegisterByCodeAsync(h);
        var flow = await ApiFlow(h.Server.Public, "login");
        await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        var code = await h.MailedCodeAsync(email);
        var wrong = code == "000000" ? "111111" : "000000";
        // Concurrent wrong guesses: the conditional update lets at most max_submissions of them be compared.
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = wrong })));
        // Kratos's ErrCodeSubmittedTooOften (persistence/sql/persister_code.go): a herodot 400, so 4000001 with its reason.
        var right = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = code })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000001L], MessageIds(right));
        Assert.Equal("The request was submitted too often. Please request another code.", right["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_unknown_address_gets_Kratos_message_4000035_and_no_mail(string db)
    {
        var h = await servers.Get(db);
        var ghost = HttpAssertions.UniqueEmail("ghost");
        var flow = await ApiFlow(h.Server.Public, "login");
        var answer = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = ghost })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("choose_method", answer["state"]!.GetValue<string>());
        Assert.Equal([4000035L], MessageIds(answer));
        var worker = ActivatorUtilities.CreateInstance<CourierWorker>(h.Server.Services);
        await worker.ProcessBatchAsync(CancellationToken.None);
        Assert.Equal(0, h.MailsTo(ghost));
    }

    /// <summary>
    /// A code login verifies the address it was sent to (as Kratos) with an update the change tracker does not see; the
    /// identity's other sessions, whose whoami answers are cached, see it verified at once all the same.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_code_login_that_verifies_the_address_shows_it_verified_to_the_identitys_other_sessions(string db)
    {
        var h = await servers.Get(db);
        var email = HttpAssertions.UniqueEmail("codeverify");
        await (await h.Server.AdminWithKey.PostJson("/admin/identities", new JsonObject
        {
            ["schema_id"] = "code",
            ["traits"] = new JsonObject { ["email"] = email },
            ["credentials"] = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = "a long and unusual passphrase" } } },
        })).Json(HttpStatusCode.Created);
        var byPassword = await ApiFlow(h.Server.Public, "login");
        var first = (await (await Submit(h.Server, byPassword, new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = "a long and unusual passphrase" }))
            .Json(HttpStatusCode.OK))["session_token"]!.GetValue<string>();
        async Task<bool> VerifiedFor(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
            request.Headers.Add("X-Session-Token", token);
            var whoami = await (await h.Server.Public.SendAsync(request)).Json(HttpStatusCode.OK);
            return whoami["identity"]!["verifiable_addresses"]![0]!["verified"]!.GetValue<bool>();
        }
        Assert.False(await VerifiedFor(first));
        Assert.False(await VerifiedFor(first)); // answered from the cache

        var byCode = await ApiFlow(h.Server.Public, "login");
        await (await Submit(h.Server, byCode, new JsonObject { ["method"] = "code", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        var code = await h.MailedCodeAsync(email);
        var done = await (await Submit(h.Server, byCode, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.True(done["session"]!["identity"]!["verifiable_addresses"]![0]!["verified"]!.GetValue<bool>());
        Assert.True(await VerifiedFor(done["session_token"]!.GetValue<string>()));
        Assert.True(await VerifiedFor(first));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_code_sent_for_one_identifier_cannot_sign_in_another(string db)
    {
        var h = await servers.Get(db);
        var (email, _) = await RegisterByCodeAsync(h);
        var (other, _) = await RegisterByCodeAsync(h);
        var flow = await ApiFlow(h.Server.Public, "login");
        await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        var code = await h.MailedCodeAsync(email);
        var swapped = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = other, ["code"] = code })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010008L, MessageIds(swapped));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Browser_login_by_code_redirects_to_the_ui_and_sets_the_session_cookie(string db)
    {
        var h = await servers.Get(db);
        var (email, _) = await RegisterByCodeAsync(h);
        using var browser = new Browser(h.Server.PublicUrl);
        browser.Client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("de");
        var init = await browser.Client.GetAsync("/self-service/login/browser");
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        var flowId = System.Web.HttpUtility.ParseQueryString(init.Headers.Location!.Query)["flow"];
        // The built-in page offers the code method, in German, without JavaScript.
        var page = await (await browser.Client.GetAsync(init.Headers.Location)).Content.ReadAsStringAsync();
        Assert.Contains("Anmeldecode senden", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
        var flow = await (await browser.Client.GetAsync($"/self-service/login/flows?id={flowId}")).Json(HttpStatusCode.OK);
        var form = new Dictionary<string, string> { ["csrf_token"] = Csrf(flow), ["method"] = "code", ["identifier"] = email };
        var sent = await browser.Client.PostAsync($"/self-service/login?flow={flowId}", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.SeeOther, sent.StatusCode);
        var entry = await (await browser.Client.GetAsync(sent.Headers.Location)).Content.ReadAsStringAsync();
        // Kratos's populateEmailSentFlow (selfservice/strategy/code/strategy.go) keeps the identifier only, adds the code
        // fields and then sets the CSRF token again: in a browser flow it comes last (the form is not sorted after).
        var sentFlow = await (await browser.Client.GetAsync($"/self-service/login/flows?id={flowId}")).Json(HttpStatusCode.OK);
        Assert.Equal(
            [("default", "identifier", "hidden"), ("code", "method", "hidden"), ("code", "code", "text"), ("code", "method", "submit"), ("code", "resend", "submit"), ("default", "csrf_token", "hidden")],
            Nodes(sentFlow).Select(n => (n.Group, n.Name, n.Type)));
        Assert.Contains("Anmeldecode", entry, StringComparison.Ordinal);
        Assert.Contains("Code erneut senden", entry, StringComparison.Ordinal);
        Assert.Contains("name=\"resend\"", entry, StringComparison.Ordinal);
        Assert.Contains("name=\"code\"", entry, StringComparison.Ordinal);
        Assert.Contains("Ein Code wurde an die angegebene Adresse gesendet", entry, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", entry, StringComparison.OrdinalIgnoreCase);
        var code = await h.MailedCodeAsync(email);
        form["code"] = code;
        var done = await browser.Client.PostAsync($"/self-service/login?flow={flowId}", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.NotNull(browser.Cookie("ory_kratos_session"));
    }

    [Fact]
    public void Passwordless_and_mfa_together_is_a_config_error_naming_both_keys()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-code-config");
        try
        {
            var file = Path.Combine(dir.FullName, "gatehouse.yml");
            File.WriteAllText(file, "dsn: memory\nselfservice:\n  methods:\n    code:\n      passwordless_enabled: true\n      mfa_enabled: true\n");
            var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load([file], new Dictionary<string, string?>(), dev: false));
            Assert.Contains("passwordless_enabled", e.Message, StringComparison.Ordinal);
            Assert.Contains("mfa_enabled", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
