using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// A one-time e-mail code as the second factor (<c>selfservice.methods.code.mfa_enabled</c>): the aal2 login offers the
/// identity's code addresses, mails a code (read here from the mail delivered to a real SMTP server) and upgrades the
/// same session; foreign addresses, wrong and spent codes are refused and guesses are bounded.
/// </summary>
public sealed class CodeMfaTests(CodeMfaTests.Servers servers) : IClassFixture<CodeMfaTests.Servers>
{
    private const string Schema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": {
              "type": "string", "format": "email", "title": "E-Mail",
              "ory.sh/kratos": {
                "credentials": { "password": { "identifier": true }, "code": { "identifier": true, "via": "email" } },
                "verification": { "via": "email" }, "recovery": { "via": "email" }
              }
            }
          },
          "required": ["email"],
          "additionalProperties": false
        }
      }
    }
    """;

    public sealed class Servers : IAsyncDisposable
    {
        private readonly Dictionary<string, Task<CodeLoginTests.Harness>> _started = [];
        private readonly Lock _lock = new();

        public Task<CodeLoginTests.Harness> Get(string db)
        {
            lock (_lock)
            {
                if (!_started.TryGetValue(db, out var h)) _started[db] = h = StartAsync(db);
                return h;
            }
        }

        private static async Task<CodeLoginTests.Harness> StartAsync(string db)
        {
            var smtp = await SmtpTestServer.StartAsync();
            var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var server = await TestServer.StartAsync(db, o =>
            {
                FlowServerFixture.Configure(o);
                o.Identity.Schemas = [new IdentitySchemaEntry { Id = "default", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Schema)) }];
                o.Selfservice.Methods.Code.MfaEnabled = true;
                o.Selfservice.Methods.Code.Config.MaxSubmissions = 3;
                o.Selfservice.Methods.Code.Config.Lifespan = TimeSpan.FromMinutes(15);
                o.Courier.Smtp.ConnectionUri = smtp.ConnectionUri;
                o.Courier.Smtp.FromAddress = "accounts@gatehouse.test";
            }, s => s.AddSingleton<TimeProvider>(clock));
            return new CodeLoginTests.Harness { Server = server, Smtp = smtp, Clock = clock };
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var h in _started.Values)
            {
                if (h.IsCompletedSuccessfully) await h.Result.DisposeAsync();
            }
        }
    }

    private static Task<HttpResponseMessage> Send(TestServer s, HttpMethod method, string url, string token, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Session-Token", token);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return s.Public.SendAsync(request);
    }

    private static async Task<JsonNode> PasswordLogin(TestServer s, string email)
    {
        var flow = await ApiFlow(s.Public, "login");
        return await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword })).Json(HttpStatusCode.OK);
    }

    private static async Task<JsonNode> Aal2Flow(TestServer s, string token) =>
        await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);

    private static List<string> Names(JsonNode flow) => [.. flow["ui"]!["nodes"]!.AsArray().Select(n => n!["attributes"]!["name"]?.GetValue<string>() ?? "")];

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Password_then_a_mailed_code_upgrades_the_same_session_to_aal2(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var (email, _, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        var login = await PasswordLogin(s, email);
        var token = login["session_token"]!.GetValue<string>();
        // The code credential's address makes the identity aal2-capable: whoami wants the second factor.
        Assert.Equal("session_aal2_required", (await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Error(HttpStatusCode.Forbidden))["id"]!.GetValue<string>());

        // The code is the identity's only second factor and it has one address: Kratos's fast login (FastLogin2FA)
        // creates the aal2 flow with the code already sent, in sent_email, with the address as the hidden identifier.
        var sent = await Aal2Flow(s, token);
        Assert.Equal("sent_email", sent["state"]!.GetValue<string>());
        Assert.Equal("code", sent["active"]!.GetValue<string>());
        Assert.Contains(1010014L, MessageIds(sent));
        Assert.Null(Node(sent, "address"));
        Assert.Equal(["identifier", "method", "code", "method", "resend"], Names(sent).Where(n => n != "csrf_token"));
        var chosen = Node(sent, "identifier")!;
        Assert.Equal("hidden", chosen["attributes"]!["type"]!.GetValue<string>());
        Assert.Equal(email, chosen["attributes"]!["value"]!.GetValue<string>());
        var label = chosen["meta"]!["label"]!;
        Assert.True(JsonNode.DeepEquals(new JsonObject
        {
            ["id"] = 1010023, ["text"] = $"Send code to {email}", ["type"] = "info",
            ["context"] = new JsonObject { ["address"] = email, ["channel"] = "email" },
        }, label), label.ToJsonString());
        Assert.Equal(1070013, Node(sent, "code")!["meta"]!["label"]!["id"]!.GetValue<long>());
        var submit = $"/self-service/login?flow={sent["id"]}";

        // Resending to another address than the identity's own: 4010010, nothing mailed.
        var foreign = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["resend"] = "code", ["address"] = "someone-else@example.com" })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010010L, MessageIds(foreign));
        Assert.Equal(0, h.MailsTo("someone-else@example.com"));

        var code = await h.MailedCodeAsync(email);
        Assert.Matches("^[0-9]{6}$", code);

        var wrong = code == "000000" ? "111111" : "000000";
        Assert.Contains(4010008L, MessageIds(await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["code"] = wrong })).Json(HttpStatusCode.BadRequest)));
        var done = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["code"] = code, ["identifier"] = email })).Json(HttpStatusCode.OK);
        Assert.Equal(login["session"]!["id"]!.GetValue<string>(), done["session"]!["id"]!.GetValue<string>());
        var whoami = await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Json(HttpStatusCode.OK);
        Assert.Equal("aal2", whoami["authenticator_assurance_level"]!.GetValue<string>());
        Assert.Equal(["password:aal1", "code:aal2"], whoami["authentication_methods"]!.AsArray().Select(m => $"{m!["method"]}:{m["aal"]}"));

        // The address is verified now (receiving the code proves it), and the code does not work a second time.
        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK);
        Assert.True(identity["verifiable_addresses"]![0]!["verified"]!.GetValue<bool>());
        var other = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        var again = await Aal2Flow(s, other);
        await (await Send(s, HttpMethod.Post, $"/self-service/login?flow={again["id"]}", other, new JsonObject { ["method"] = "code", ["address"] = email })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010008L, MessageIds(await (await Send(s, HttpMethod.Post, $"/self-service/login?flow={again["id"]}", other, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.BadRequest)));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Guesses_are_bounded_and_resend_mails_a_new_code_that_replaces_the_old(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var (email, _, _) = await RegisterApi(s);
        var token = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        var flow = await Aal2Flow(s, token);
        var submit = $"/self-service/login?flow={flow["id"]}";
        await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["address"] = email })).Json(HttpStatusCode.BadRequest);
        var first = await h.MailedCodeAsync(email);

        var resent = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["resend"] = "code", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("sent_email", resent["state"]!.GetValue<string>());
        var second = await h.MailedCodeAsync(email);
        if (first != second)
            Assert.Contains(4010008L, MessageIds(await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["code"] = first })).Json(HttpStatusCode.BadRequest)));

        // max_submissions = 3: after three wrong guesses even the right code is refused.
        var wrong = second == "000000" ? "111111" : "000000";
        for (var i = 0; i < 3; i++)
            await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["code"] = wrong })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000001L], MessageIds(await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["code"] = second })).Json(HttpStatusCode.BadRequest)));
        Assert.Equal("session_aal2_required", (await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Error(HttpStatusCode.Forbidden))["id"]!.GetValue<string>());
    }

    /// <summary>
    /// Kratos's LoginCode.Validate: the right second-factor code past its lifespan (the flow itself still live) expires the
    /// flow — 410 self_service_flow_expired naming a new aal2 flow with 4010001 — while a wrong one stays 4010008.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_expired_second_factor_code_expires_the_flow(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        var (email, _, _) = await RegisterApi(s);
        var token = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        var flow = await Aal2Flow(s, token);
        var submit = $"/self-service/login?flow={flow["id"]}";
        var code = await h.MailedCodeAsync(email);
        h.Clock.Advance(TimeSpan.FromMinutes(16));

        var wrong = code == "000000" ? "111111" : "000000";
        var refused = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["code"] = wrong })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4010008L], MessageIds(refused));
        var expired = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.Gone);
        Assert.Equal("self_service_flow_expired", expired["error"]!["id"]!.GetValue<string>());
        Assert.Equal("The self-service flow expired 1.00 minutes ago, initialize a new one.", expired["error"]!["reason"]!.GetValue<string>());
        var next = await (await Send(s, HttpMethod.Get, $"/self-service/login/flows?id={expired["use_flow_id"]}", token)).Json(HttpStatusCode.OK);
        Assert.Equal("aal2", next["requested_aal"]!.GetValue<string>());
        Assert.Equal("choose_method", next["state"]!.GetValue<string>());
        Assert.Equal([4010001L], MessageIds(next));
        Assert.Equal("The login flow expired 1.00 minutes ago, please try again.", next["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
        Assert.Contains("address", Names(next));
        Assert.DoesNotContain("code", Names(next));
        Assert.Equal("session_aal2_required", (await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Error(HttpStatusCode.Forbidden))["id"]!.GetValue<string>());
    }

    /// <summary>An HTML browser clicks the address button (no <c>method</c> field, as Kratos's form posts it), then enters the code.</summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_browser_posts_the_address_button_then_the_code(string db)
    {
        var h = await servers.Get(db);
        var s = h.Server;
        using var browser = new Browser(s.PublicUrl);
        var email = HttpAssertions.UniqueEmail("code-mfa");
        var reg = await BrowserFlow(browser, "registration");
        await browser.PostForm($"/self-service/registration?flow={reg["id"]}",
            [new("csrf_token", Csrf(reg)), new("method", "password"), new("traits.email", email), new("password", GoodPassword)]);
        var aal2 = await BrowserFlow(browser, "login", "?aal=aal2");
        var posted = await browser.PostForm($"/self-service/login?flow={aal2["id"]}", [new("csrf_token", Csrf(aal2)), new("address", email)]);
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        var code = await h.MailedCodeAsync(email);
        var done = await browser.PostForm($"/self-service/login?flow={aal2["id"]}", [new("csrf_token", Csrf(aal2)), new("method", "code"), new("identifier", email), new("code", code)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Equal("aal2", (await (await browser.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK))["authenticator_assurance_level"]!.GetValue<string>());
    }

    private static async Task<JsonNode> BrowserFlow(Browser browser, string kind, string query = "")
    {
        var init = await browser.Client.GetAsync($"/self-service/{kind}/browser{query}");
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        var location = init.Headers.Location!.ToString();
        var id = location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        return await (await browser.Client.GetAsync($"/self-service/{kind}/flows?id={id}")).Json(HttpStatusCode.OK);
    }
}
