using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Courier;
using Gatehouse.Persistence;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// One-time codes by SMS (<c>ory.sh/kratos.credentials.code: {identifier: true, via: sms}</c>) delivered through the
/// courier's HTTP channel (<c>courier.channels: [{id: sms, type: http, request_config}]</c>) to a real HTTP receiver on
/// loopback: passwordless sign-up and sign-in by phone, the code as a second factor with e-mail and SMS addresses,
/// <c>?via=</c> on aal2 flows, <c>missing_credential_fallback_enabled</c>, and a failing receiver retried.
/// </summary>
public sealed class CodeSmsTests(CodeSmsTests.Servers servers) : IClassFixture<CodeSmsTests.Servers>
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
                "verification": { "via": "email" }
              }
            },
            "phone": {
              "type": "string", "format": "tel", "title": "Phone",
              "ory.sh/kratos": {
                "credentials": { "password": { "identifier": true }, "code": { "identifier": true, "via": "sms" } }
              }
            }
          },
          "additionalProperties": false
        }
      }
    }
    """;

    /// <summary>An identity schema without a code identifier: only a verifiable e-mail address (for the fallback).</summary>
    private const string NoCodeSchema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": {
              "type": "string", "format": "email", "title": "E-Mail",
              "ory.sh/kratos": { "credentials": { "password": { "identifier": true } }, "verification": { "via": "email" } }
            }
          },
          "required": ["email"],
          "additionalProperties": false
        }
      }
    }
    """;

    /// <summary>The SMS provider's request body: what a Twilio-like API would take, plus what the test checks.</summary>
    private const string BodyTemplate = """
    function(ctx) {
      to: ctx.recipient,
      text: ctx.body,
      template_type: ctx.template_type,
      message_type: ctx.message_type,
      code: if "login_code" in ctx.template_data then ctx.template_data.login_code
            else if "registration_code" in ctx.template_data then ctx.template_data.registration_code
            else null,
      request_headers: ctx.request_headers,
    }
    """;

    public sealed class Harness : IAsyncDisposable
    {
        public required TestServer Server { get; init; }
        public required SmtpTestServer Smtp { get; init; }
        public required HookReceiver Receiver { get; init; }
        public required FakeTimeProvider Clock { get; init; }

        /// <summary>Runs one courier batch (the worker as the server builds it: SMTP for e-mail, the HTTP channel for SMS).</summary>
        public async Task DeliverAsync()
        {
            var worker = ActivatorUtilities.CreateInstance<CourierWorker>(Server.Services);
            await worker.ProcessBatchAsync(CancellationToken.None);
        }

        /// <summary>The newest SMS request the receiver got for <paramref name="phone"/>, as JSON.</summary>
        public async Task<(JsonObject Body, ReceivedHook Request)> SmsAsync(string phone, string templateType)
        {
            await DeliverAsync();
            var hit = await Receiver.WaitForAsync("/sms", r => JsonNode.Parse(r.Body) is JsonObject o && (string?)o["to"] == phone && (string?)o["template_type"] == templateType, TimeSpan.FromSeconds(10));
            var all = Receiver.Received("/sms").Where(r => JsonNode.Parse(r.Body) is JsonObject o && (string?)o["to"] == phone && (string?)o["template_type"] == templateType).ToList();
            var last = all.Count > 0 ? all[^1] : hit;
            return ((JsonObject)JsonNode.Parse(last.Body)!, last);
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await Smtp.DisposeAsync();
            await Receiver.DisposeAsync();
        }
    }

    /// <summary>Servers by database and mode: <c>passwordless</c>, <c>mfa</c>, <c>mfa-fallback</c>.</summary>
    public sealed class Servers : IAsyncDisposable
    {
        private readonly Dictionary<string, Task<Harness>> _started = [];
        private readonly Lock _lock = new();

        public Task<Harness> Get(string db, string mode)
        {
            lock (_lock)
            {
                if (!_started.TryGetValue(db + "/" + mode, out var h)) _started[db + "/" + mode] = h = StartAsync(db, mode);
                return h;
            }
        }

        private static async Task<Harness> StartAsync(string db, string mode)
        {
            var smtp = await SmtpTestServer.StartAsync();
            var receiver = await HookReceiver.StartAsync();
            var url = receiver.On("/sms", 201, "{\"sid\":\"SM1\"}");
            var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var server = await TestServer.StartAsync(db, o =>
            {
                FlowServerFixture.Configure(o);
                o.Identity.Schemas =
                [
                    new IdentitySchemaEntry { Id = "default", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Schema)) },
                    new IdentitySchemaEntry { Id = "nocode", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(NoCodeSchema)) },
                ];
                o.Selfservice.Methods.Code.PasswordlessEnabled = mode == "passwordless";
                o.Selfservice.Methods.Code.MfaEnabled = mode != "passwordless";
                o.Selfservice.Methods.Code.Config.MissingCredentialFallbackEnabled = mode == "mfa-fallback";
                o.Selfservice.Methods.Totp.Enabled = mode != "passwordless";
                o.Selfservice.Flows.Registration.After.Code = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
                o.Courier.Smtp.ConnectionUri = smtp.ConnectionUri;
                o.Courier.Smtp.FromAddress = "accounts@gatehouse.test";
                o.Courier.MessageRetries = 3;
                o.Courier.Channels =
                [
                    new CourierChannelOptions
                    {
                        Id = "sms",
                        Type = "http",
                        RequestConfig = new JsonObject
                        {
                            ["url"] = url,
                            ["method"] = "POST",
                            ["headers"] = new JsonObject { ["X-Provider-Account"] = "AC-test" },
                            ["body"] = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(BodyTemplate)),
                            ["auth"] = new JsonObject { ["type"] = "basic_auth", ["config"] = new JsonObject { ["user"] = "sms-user", ["password"] = "sms-secret" } },
                        },
                    },
                ];
            }, s => s.AddSingleton<TimeProvider>(clock));
            return new Harness { Server = server, Smtp = smtp, Receiver = receiver, Clock = clock };
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var h in _started.Values)
            {
                if (h.IsCompletedSuccessfully) await h.Result.DisposeAsync();
            }
        }
    }

    private static string UniquePhone() => "+49176" + RandomNumberGenerator.GetInt32(10_000_000, 99_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static Task<HttpResponseMessage> Send(TestServer s, HttpMethod method, string url, string token, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Session-Token", token);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return s.Public.SendAsync(request);
    }

    private static async Task<string> CreateIdentityAsync(TestServer s, JsonObject traits, string schema = "default", bool withTotp = false)
    {
        var credentials = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = GoodPassword } } };
        if (withTotp)
            credentials["totp"] = new JsonObject { ["config"] = new JsonObject { ["totp_url"] = "otpauth://totp/Acme:someone?algorithm=SHA1&digits=6&issuer=Acme&period=30&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" } };
        var created = await (await s.AdminWithKey.PostJson("/admin/identities", new JsonObject
        {
            ["schema_id"] = schema,
            ["traits"] = traits,
            ["credentials"] = credentials,
        })).Json(HttpStatusCode.Created);
        return created["id"]!.GetValue<string>();
    }

    private static async Task<string> PasswordLoginAsync(TestServer s, string identifier)
    {
        var flow = await ApiFlow(s.Public, "login");
        var done = await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = identifier, ["password"] = GoodPassword })).Json(HttpStatusCode.OK);
        return done["session_token"]!.GetValue<string>();
    }

    private static List<JsonObject> AddressNodes(JsonNode flow) =>
        [.. flow["ui"]!["nodes"]!.AsArray().OfType<JsonObject>().Where(n => n["attributes"]!["name"]?.GetValue<string>() == "address")];

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Sign_up_and_sign_in_by_phone_send_the_codes_through_the_http_channel(string db)
    {
        var h = await servers.Get(db, "passwordless");
        var s = h.Server;
        var phone = UniquePhone();

        // Sign-up with only a phone number: the registration code goes by SMS. A number that cannot be one gets the
        // format's 4000041 (Kratos adds the normaliser's Go error as a generic 4000001 beside it; see docs), and no code.
        var reg = await ApiFlow(s.Public, "registration");
        var regUrl = $"/self-service/registration?flow={reg["id"]}";
        var refused = await (await s.Public.PostJson(regUrl, new JsonObject { ["method"] = "code", ["traits"] = new JsonObject { ["phone"] = "12" } })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000041L], MessageIds(refused, "traits.phone"));
        Assert.Equal("choose_method", refused["state"]!.GetValue<string>());
        var sent = await (await s.Public.PostJson(regUrl, new JsonObject { ["method"] = "code", ["traits"] = new JsonObject { ["phone"] = phone } })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("sent_email", sent["state"]!.GetValue<string>());
        Assert.Contains(1040005L, MessageIds(sent));
        var (sms, request) = await h.SmsAsync(phone, "registration_code_valid");
        Assert.Equal("POST", request.Method);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("sms-user:sms-secret")), request.Headers["Authorization"]);
        Assert.Equal("AC-test", request.Headers["X-Provider-Account"]);
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.False(request.Headers.ContainsKey("Ory-Webhook-Request-ID"));
        Assert.Equal("sms", sms["message_type"]!.GetValue<string>());
        var regCode = sms["code"]!.GetValue<string>();
        Assert.Matches("^[0-9]{6}$", regCode);
        var text = sms["text"]!.GetValue<string>();
        Assert.Contains(regCode, text, StringComparison.Ordinal);
        // The WebOTP line browsers read: the flow's domain and the code.
        Assert.Contains($"@127.0.0.1 #{regCode}", text, StringComparison.Ordinal);
        var registered = await (await s.Public.PostJson(regUrl, new JsonObject { ["method"] = "code", ["traits"] = new JsonObject { ["phone"] = phone }, ["code"] = regCode })).Json(HttpStatusCode.OK);
        var id = registered["identity"]!["id"]!.GetValue<string>();
        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=code")).Json(HttpStatusCode.OK);
        Assert.Equal([phone], admin["credentials"]!["code"]!["identifiers"]!.AsArray().Select(i => i!.GetValue<string>()));
        Assert.Equal("sms", admin["credentials"]!["code"]!["config"]!["addresses"]![0]!["channel"]!.GetValue<string>());

        // Sign-in with the phone number: the login code goes by SMS; nothing is mailed.
        var login = await ApiFlow(s.Public, "login");
        var loginUrl = $"/self-service/login?flow={login["id"]}";
        var loginSent = await (await s.Public.PostJson(loginUrl, new JsonObject { ["method"] = "code", ["identifier"] = phone })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("sent_email", loginSent["state"]!.GetValue<string>());
        Assert.Contains(1010014L, MessageIds(loginSent));
        var (loginSms, _) = await h.SmsAsync(phone, "login_code_valid");
        var loginCode = loginSms["code"]!.GetValue<string>();
        Assert.Contains($"{loginCode} is your sign-in code", loginSms["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var done = await (await s.Public.PostJson(loginUrl, new JsonObject { ["method"] = "code", ["identifier"] = phone, ["code"] = loginCode })).Json(HttpStatusCode.OK);
        Assert.Equal(id, done["session"]!["identity"]!["id"]!.GetValue<string>());
        Assert.Equal(["code:aal1"], done["session"]!["authentication_methods"]!.AsArray().Select(m => $"{m!["method"]}:{m["aal"]}"));
        Assert.DoesNotContain(h.Smtp.Messages, m => m.To.ToString().Contains(phone, StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_code_sms_carries_the_users_allowlisted_request_headers_to_the_channel(string db)
    {
        // Kratos's code sender stores the request's headers (clients.web_hook.header_allowlist) with the login, registration
        // and recovery code messages; the HTTP channel hands them to its template as ctx.request_headers.
        var h = await servers.Get(db, "passwordless");
        var s = h.Server;
        var phone = UniquePhone();
        await CreateIdentityAsync(s, new JsonObject { ["phone"] = phone });
        var login = await ApiFlow(s.Public, "login");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/self-service/login?flow={login["id"]}")
        {
            Content = new StringContent(new JsonObject { ["method"] = "code", ["identifier"] = phone }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.UserAgent.ParseAdd("sms-app/1.0");
        request.Headers.TryAddWithoutValidation("sec-ch-ua-platform", "\"Android\"");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.9");
        request.Headers.TryAddWithoutValidation("X-Session-Token", "ory_st_not-a-real-token");
        using (var sent = await s.Public.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.BadRequest, sent.StatusCode);
        }
        var (sms, _) = await h.SmsAsync(phone, "login_code_valid");
        var headers = sms["request_headers"]!.AsObject();
        Assert.Equal(["sms-app/1.0"], headers["User-Agent"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["\"Android\""], headers["Sec-Ch-Ua-Platform"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.False(headers.ContainsKey("X-Forwarded-For"));
        Assert.False(headers.ContainsKey("X-Session-Token"));
        Assert.All(headers.Select(p => p.Key), n => Assert.Equal(Gatehouse.Http.Outbound.GoHeaderKey.Canonical(n), n));

        // The row keeps them for the worker, and the admin API never shows them (Kratos's json:"-").
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var stored = await scope.ServiceProvider.GetRequiredService<GatehouseDbContext>().CourierMessages.AsNoTracking().SingleAsync(m => m.Recipient == phone);
            Assert.Contains("sms-app/1.0", stored.RequestHeaders, StringComparison.Ordinal);
            var listed = await (await s.AdminWithKey.GetAsync($"/admin/courier/messages/{stored.Id}")).Json(HttpStatusCode.OK);
            Assert.DoesNotContain("sms-app/1.0", listed.ToJsonString(), StringComparison.Ordinal);
            Assert.Null(listed["request_headers"]);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_receiver_error_keeps_the_sms_queued_for_a_retry_and_the_next_attempt_delivers_it(string db)
    {
        var h = await servers.Get(db, "passwordless");
        var s = h.Server;
        var phone = UniquePhone();
        await CreateIdentityAsync(s, new JsonObject { ["phone"] = phone });
        h.Receiver.On("/sms", 503, "{\"error\":\"busy\"}");
        try
        {
            var login = await ApiFlow(s.Public, "login");
            await (await s.Public.PostJson($"/self-service/login?flow={login["id"]}", new JsonObject { ["method"] = "code", ["identifier"] = phone })).Json(HttpStatusCode.BadRequest);
            await h.DeliverAsync();
            await using (var scope = s.Services.CreateAsyncScope())
            {
                var db2 = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
                var message = await db2.CourierMessages.AsNoTracking().Include(m => m.Dispatches).SingleAsync(m => m.Recipient == phone);
                Assert.Equal(("sms", "sms", CourierMessageStatus.Queued, 1), (message.Type, message.Channel, message.Status, message.SendCount));
                Assert.Contains("status code 503", message.Dispatches.Single().Error, StringComparison.Ordinal);
                // The SMS text is stored like a mail body; the answer's body is not.
                Assert.DoesNotContain("busy", message.Dispatches.Single().Error ?? "", StringComparison.Ordinal);
            }
        }
        finally
        {
            h.Receiver.On("/sms", 201, "{\"sid\":\"SM1\"}");
        }
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        var (sms, _) = await h.SmsAsync(phone, "login_code_valid");
        Assert.Matches("^[0-9]{6}$", sms["code"]!.GetValue<string>());
        await using var check = s.Services.CreateAsyncScope();
        var sentMessage = await check.ServiceProvider.GetRequiredService<GatehouseDbContext>().CourierMessages.AsNoTracking().SingleAsync(m => m.Recipient == phone);
        Assert.Equal(CourierMessageStatus.Sent, sentMessage.Status);
    }

    /// <summary>
    /// The aal2 login offers every code address with its channel (Kratos's 1010023 label context); <c>?via=phone</c> keeps
    /// only the phone; the chosen SMS code upgrades the same session; a <c>via</c> naming no trait value is a 400.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_second_factor_offers_email_and_sms_addresses_and_via_picks_one(string db)
    {
        var h = await servers.Get(db, "mfa");
        var s = h.Server;
        var email = HttpAssertions.UniqueEmail("code-sms");
        var phone = UniquePhone();
        await CreateIdentityAsync(s, new JsonObject { ["email"] = email, ["phone"] = phone });
        var token = await PasswordLoginAsync(s, email);
        Assert.Equal("session_aal2_required", (await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Error(HttpStatusCode.Forbidden))["id"]!.GetValue<string>());

        var all = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
        var offered = AddressNodes(all).Select(n => (n["attributes"]!["value"]!.GetValue<string>(), n["meta"]!["label"]!["context"]!["channel"]!.GetValue<string>())).ToList();
        Assert.Equal([(email, "email"), (phone, "sms")], offered.OrderBy(o => o.Item2, StringComparer.Ordinal));
        Assert.True(JsonNode.DeepEquals(new JsonObject
        {
            ["id"] = 1010023, ["text"] = $"Send code to {phone}", ["type"] = "info",
            ["context"] = new JsonObject { ["address"] = phone, ["channel"] = "sms" },
        }, AddressNodes(all).Single(n => n["attributes"]!["value"]!.GetValue<string>() == phone)["meta"]!["label"]));

        // via=phone leaves one address and the code is the only second factor: Kratos's fast login sends the SMS at once.
        var viaPhone = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2&via=phone", token)).Json(HttpStatusCode.OK);
        Assert.Equal("sent_email", viaPhone["state"]!.GetValue<string>());
        Assert.Equal("code", viaPhone["active"]!.GetValue<string>());
        Assert.Empty(AddressNodes(viaPhone));
        Assert.Equal(phone, Node(viaPhone, "identifier")!["attributes"]!["value"]!.GetValue<string>());
        Assert.Equal("sms", Node(viaPhone, "identifier")!["meta"]!["label"]!["context"]!["channel"]!.GetValue<string>());
        var submit = $"/self-service/login?flow={viaPhone["id"]}";
        var (sms, _) = await h.SmsAsync(phone, "login_code_valid");
        var done = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["code"] = sms["code"]!.GetValue<string>() })).Json(HttpStatusCode.OK);
        Assert.Equal(["password:aal1", "code:aal2"], done["session"]!["authentication_methods"]!.AsArray().Select(m => $"{m!["method"]}:{m["aal"]}"));
        Assert.Equal("aal2", (await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Json(HttpStatusCode.OK))["authenticator_assurance_level"]!.GetValue<string>());

        // via names a trait without a value: 400 with Kratos's reason, no flow.
        var other = await PasswordLoginAsync(s, email);
        var missing = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2&via=nickname", other)).Error(HttpStatusCode.BadRequest);
        Assert.Equal("No value found for trait nickname in the current identity.", missing["reason"]!.GetValue<string>());
    }

    /// <summary>
    /// Kratos's <c>populateEmailSentFlow</c> (login): after one of several addresses is chosen, every address button stays
    /// where it was as a hidden <c>identifier</c> input with its own label, and only the first takes the chosen address as
    /// its value (<c>NewCodeUINodes</c> sets the first node of that name); a resend keeps the same form.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Choosing_one_of_several_addresses_keeps_every_address_as_a_hidden_identifier(string db)
    {
        var h = await servers.Get(db, "mfa");
        var s = h.Server;
        var email = HttpAssertions.UniqueEmail("code-several");
        var phone = UniquePhone();
        await CreateIdentityAsync(s, new JsonObject { ["email"] = email, ["phone"] = phone });
        var token = await PasswordLoginAsync(s, email);
        var choice = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
        var offered = AddressNodes(choice);
        Assert.Equal(2, offered.Count);
        // Choose the second button, so that the first node's value visibly changes.
        var chosen = offered[1]["attributes"]!["value"]!.GetValue<string>();
        var submit = $"/self-service/login?flow={choice["id"]}";
        var sent = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["address"] = chosen })).Json(HttpStatusCode.BadRequest);

        string Shape(JsonNode flow) => string.Join(" | ", flow["ui"]!["nodes"]!.AsArray().OfType<JsonObject>()
            .Where(n => n["attributes"]!["name"]?.GetValue<string>() != "csrf_token")
            .Select(n => $"{n["group"]} {n["attributes"]!["name"]} {n["attributes"]!["type"]} {n["attributes"]!["value"]} {n["meta"]!["label"]?["id"]} {n["meta"]!["label"]?["context"]?["address"]}"));
        var expected = string.Join(" | ",
            $"code identifier hidden {chosen} 1010023 {offered[0]["attributes"]!["value"]}",
            $"code identifier hidden {chosen} 1010023 {chosen}",
            "code method hidden code  ",
            "code code text  1070013 ",
            "code method submit code 1070009 ",
            "code resend submit code 1070008 ");
        Assert.Equal(expected, Shape(sent));
        Assert.Equal("sent_email", sent["state"]!.GetValue<string>());

        var resent = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["resend"] = "code", ["identifier"] = chosen })).Json(HttpStatusCode.BadRequest);
        Assert.Equal(expected, Shape(resent));
    }

    /// <summary>
    /// <c>missing_credential_fallback_enabled</c>: an identity whose schema marks no code identifier (no code credential) is
    /// offered its verifiable e-mail address for the second factor; without the option it is offered nothing.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_fallback_offers_verifiable_addresses_to_an_identity_without_a_code_credential(string db)
    {
        foreach (var (mode, expected) in new[] { ("mfa", false), ("mfa-fallback", true) })
        {
            var h = await servers.Get(db, mode);
            var s = h.Server;
            var email = HttpAssertions.UniqueEmail("code-fallback");
            var id = await CreateIdentityAsync(s, new JsonObject { ["email"] = email }, "nocode");
            Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["code"]);
            var token = await PasswordLoginAsync(s, email);
            var flow = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
            var submit = $"/self-service/login?flow={flow["id"]}";
            if (!expected)
            {
                Assert.Empty(AddressNodes(flow));
                var refused = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["address"] = email })).Json(HttpStatusCode.BadRequest);
                Assert.Contains(4010010L, MessageIds(refused));
                continue;
            }
            // One verifiable address and no other second factor: Kratos's fast login mails the code at once.
            Assert.Equal("sent_email", flow["state"]!.GetValue<string>());
            Assert.Equal(email, Node(flow, "identifier")!["attributes"]!["value"]!.GetValue<string>());
            var code = await MailedCodeAsync(h, email);
            var done = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.OK);
            Assert.Equal(["password:aal1", "code:aal2"], done["session"]!["authentication_methods"]!.AsArray().Select(m => $"{m!["method"]}:{m["aal"]}"));
        }
    }

    /// <summary>
    /// Kratos's fast login: an aal2 flow whose only way to the second factor is one code address is created in
    /// <c>sent_email</c> with the code sent (nodes and messages as Kratos's snapshot); a TOTP app beside it, or two
    /// addresses, leave the choice to the person.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_one_code_address_as_the_only_second_factor_the_aal2_flow_starts_with_the_code_sent(string db)
    {
        var h = await servers.Get(db, "mfa");
        var s = h.Server;
        var email = HttpAssertions.UniqueEmail("code-fast");
        await CreateIdentityAsync(s, new JsonObject { ["email"] = email });
        var token = await PasswordLoginAsync(s, email);
        var flow = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
        Assert.Equal(("sent_email", "code", "aal2"), (flow["state"]!.GetValue<string>(), flow["active"]!.GetValue<string>(), flow["requested_aal"]!.GetValue<string>()));
        Assert.Equal([1010014L], MessageIds(flow));
        var code = await MailedCodeAsync(h, email);
        var done = await (await Send(s, HttpMethod.Post, $"/self-service/login?flow={flow["id"]}", token, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal("aal2", done["session"]!["authenticator_assurance_level"]!.GetValue<string>());

        // With an authenticator app too, the person chooses: the address button, no code sent.
        var both = HttpAssertions.UniqueEmail("code-fast-totp");
        await CreateIdentityAsync(s, new JsonObject { ["email"] = both }, withTotp: true);
        var other = await PasswordLoginAsync(s, both);
        var choose = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", other)).Json(HttpStatusCode.OK);
        Assert.Equal("choose_method", choose["state"]!.GetValue<string>());
        Assert.Equal([both], AddressNodes(choose).Select(n => n["attributes"]!["value"]!.GetValue<string>()));
        Assert.NotNull(Node(choose, "totp_code"));
        await h.DeliverAsync();
        Assert.DoesNotContain(h.Smtp.Messages, m => m.To.Mailboxes.Any(b => b.Address == both));
    }

    /// <summary>
    /// The built-in texts follow the language the request prefers (German or English, as the built-in pages): a code
    /// asked for with <c>Accept-Language: de</c> is mailed and texted in German, without it in English.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Built_in_mail_and_sms_texts_follow_the_requests_language(string db)
    {
        var h = await servers.Get(db, "passwordless");
        var s = h.Server;
        var email = HttpAssertions.UniqueEmail("code-de");
        var phone = UniquePhone();
        await CreateIdentityAsync(s, new JsonObject { ["email"] = email, ["phone"] = phone });
        foreach (var (identifier, language) in new[] { (email, "de-DE,de;q=0.9,en;q=0.5"), (phone, "de"), (email, "fr, en;q=0.5") })
        {
            var flow = await ApiFlow(s.Public, "login");
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/self-service/login?flow={flow["id"]}")
            {
                Content = new StringContent(new JsonObject { ["method"] = "code", ["identifier"] = identifier }.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.AcceptLanguage.ParseAdd(language);
            await (await s.Public.SendAsync(request)).Json(HttpStatusCode.BadRequest);
        }
        await using var scope = s.Services.CreateAsyncScope();
        var messages = await scope.ServiceProvider.GetRequiredService<GatehouseDbContext>().CourierMessages.AsNoTracking()
            .Where(m => m.Recipient == email || m.Recipient == phone).OrderBy(m => m.CreatedAt).ThenBy(m => m.Id).ToListAsync();
        Assert.Equal(3, messages.Count);
        var code = JsonNode.Parse(messages[0].TemplateData!)!["login_code"]!.GetValue<string>();
        Assert.Equal("Anmeldung bei Ihrem Konto", messages[0].Subject);
        Assert.Equal($"Hallo,\n\nUm sich anzumelden, geben Sie diesen Code ein:\n\n{code}\n", messages[0].Body);
        var smsCode = JsonNode.Parse(messages[1].TemplateData!)!["login_code"]!.GetValue<string>();
        Assert.StartsWith($"{smsCode} ist Ihr Anmeldecode.", messages[1].Body, StringComparison.Ordinal);
        Assert.Equal("Login to your account", messages[2].Subject);
    }

    /// <summary>The fast-login flow's nodes equal Kratos's snapshot (…suite=mfa-case=verify_initial_payload_with_fast_login.json), the address aside.</summary>
    [Fact]
    public async Task The_fast_login_flow_matches_kratos_snapshot()
    {
        var snapshot = JsonNode.Parse(File.ReadAllText(Gatehouse.Tests.Schemas.ReferenceData.PathOrSkip("kratos", "methods", "snapshots", "code",
            "TestLoginCodeStrategy-test=Native_client-suite=mfa-case=verify_initial_payload_with_fast_login.json")))!;
        var h = await servers.Get(Db.Sqlite, "mfa");
        var email = HttpAssertions.UniqueEmail("code-fast-snap");
        await CreateIdentityAsync(h.Server, new JsonObject { ["email"] = email });
        var token = await PasswordLoginAsync(h.Server, email);
        var flow = await (await Send(h.Server, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
        var expected = snapshot["ui"]!["nodes"]!.DeepClone().AsArray();
        expected[0]!["attributes"]!["value"] = email;
        expected[0]!["meta"]!["label"]!["text"] = $"Send code to {email}";
        expected[0]!["meta"]!["label"]!["context"]!["address"] = email;
        Assert.True(JsonNode.DeepEquals(expected, flow["ui"]!["nodes"]), flow["ui"]!["nodes"]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(snapshot["ui"]!["messages"], flow["ui"]!["messages"]), flow["ui"]!["messages"]!.ToJsonString());
        foreach (var key in new[] { "active", "state", "requested_aal", "refresh", "type" })
            Assert.True(JsonNode.DeepEquals(snapshot[key], flow[key]), key);
    }

    private static async Task<string> MailedCodeAsync(Harness h, string email)
    {
        var before = h.Smtp.Messages.Count;
        await h.DeliverAsync();
        await h.Smtp.WaitForAsync(before + 1, TimeSpan.FromSeconds(10));
        var mail = h.Smtp.Messages.Last(m => m.To.Mailboxes.Any(b => string.Equals(b.Address, email, StringComparison.OrdinalIgnoreCase)));
        return System.Text.RegularExpressions.Regex.Match(mail.TextBody ?? "", "\\b[0-9]{6}\\b").Value;
    }
}
