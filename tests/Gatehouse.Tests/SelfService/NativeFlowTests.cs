using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

public sealed class NativeFlowTests(FlowServerFixture fixture) : IClassFixture<FlowServerFixture>
{
    private static async Task<HttpResponseMessage> SubmitLogin(TestServer s, string identifier, string password, HttpClient? client = null)
    {
        client ??= s.Public;
        var flow = await ApiFlow(client, "login");
        return await client.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = identifier, ["password"] = password });
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Api_registration_returns_identity_session_and_token_that_whoami_accepts(string db)
    {
        var s = await fixture.Get(db);
        var (email, token, body) = await RegisterApi(s);
        Assert.Equal(email.ToLowerInvariant(), body["identity"]!["verifiable_addresses"]![0]!["value"]!.GetValue<string>());
        Assert.Null(body["identity"]!["credentials"]);
        Assert.StartsWith("ory_st_", token);
        Assert.Equal("set_ory_session_token", body["continue_with"]![0]!["action"]!.GetValue<string>());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        request.Headers.Add("X-Session-Token", token);
        var whoami = await (await s.Public.SendAsync(request)).Json(HttpStatusCode.OK);
        Assert.Equal(body["identity"]!["id"]!.GetValue<string>(), whoami["identity"]!["id"]!.GetValue<string>());
        Assert.Equal("password", whoami["authentication_methods"]![0]!["method"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Api_flow_has_kratos_shape_and_password_nodes(string db)
    {
        var s = await fixture.Get(db);
        var login = await ApiFlow(s.Public, "login");
        Assert.Equal("api", login["type"]!.GetValue<string>());
        Assert.Equal("choose_method", login["state"]!.GetValue<string>());
        Assert.False(login["refresh"]!.GetValue<bool>());
        Assert.Equal("aal1", login["requested_aal"]!.GetValue<string>());
        Assert.Equal($"{s.PublicUrl}/self-service/login?flow={login["id"]}", login["ui"]!["action"]!.GetValue<string>());
        Assert.Null(Node(login, "csrf_token"));
        Assert.Equal(1010022, Node(login, "method")!["meta"]!["label"]!["id"]!.GetValue<long>());
        Assert.Equal("current-password", Node(login, "password")!["attributes"]!["autocomplete"]!.GetValue<string>());

        var registration = await ApiFlow(s.Public, "registration");
        var names = registration["ui"]!["nodes"]!.AsArray().Select(n => n!["attributes"]!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["traits.email", "password", "traits.name.first", "traits.name.last", "method"], names);
        Assert.Equal("email", Node(registration, "traits.email")!["attributes"]!["type"]!.GetValue<string>());
        Assert.Equal("E-Mail", Node(registration, "traits.email")!["meta"]!["label"]!["text"]!.GetValue<string>());
        Assert.Equal(1070002, Node(registration, "traits.email")!["meta"]!["label"]!["id"]!.GetValue<long>());
        var fetched = await (await s.Public.GetAsync($"/self-service/registration/flows?id={registration["id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal(registration["id"]!.GetValue<string>(), fetched["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Registration_validation_errors_come_back_on_the_nodes_and_write_nothing(string db)
    {
        var s = await fixture.Get(db);
        async Task<JsonNode> Submit(string email, string password)
        {
            var flow = await ApiFlow(s.Public, "registration");
            return await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
                new JsonObject { ["method"] = "password", ["password"] = password, ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.BadRequest);
        }
        Assert.Contains(4000040L, MessageIds(await Submit("not-an-email", GoodPassword), "traits.email"));
        Assert.Contains(4000032L, MessageIds(await Submit(HttpAssertions.UniqueEmail(), "short"), "password"));
        Assert.Contains(4000034L, MessageIds(await Submit(HttpAssertions.UniqueEmail(), "password123"), "password"));
        var email = HttpAssertions.UniqueEmail("similar");
        Assert.Contains(4000031L, MessageIds(await Submit(email, email + "1"), "password"));
        var missing = await Submit("", "");
        Assert.Contains(4000002L, MessageIds(missing, "password"));
        var (taken, _, _) = await RegisterApi(s);
        var dup = await Submit(taken, GoodPassword);
        Assert.Contains(4000007L, MessageIds(dup));
        Assert.Equal(taken, Node(dup, "traits.email")!["attributes"]!["value"]!.GetValue<string>());
        var list = await (await s.AdminWithKey.GetAsync("/admin/identities?credentials_identifier=not-an-email")).Json(HttpStatusCode.OK);
        Assert.Empty(list.AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Login_succeeds_and_wrong_password_or_unknown_identifier_give_the_same_message(string db)
    {
        var s = await fixture.Get(db);
        var (email, _, _) = await RegisterApi(s);
        var ok = await (await SubmitLogin(s, email.ToUpperInvariant(), GoodPassword)).Json(HttpStatusCode.OK);
        Assert.StartsWith("ory_st_", ok["session_token"]!.GetValue<string>());
        Assert.Equal("aal1", ok["session"]!["authenticator_assurance_level"]!.GetValue<string>());

        var wrong = await (await SubmitLogin(s, email, "not-the-password")).Json(HttpStatusCode.BadRequest);
        var unknown = await (await SubmitLogin(s, "nobody-" + email, "not-the-password")).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000006L], MessageIds(wrong));
        Assert.Equal(wrong["ui"]!["messages"]!.ToJsonString(), unknown["ui"]!["messages"]!.ToJsonString());
        Assert.Equal(email, Node(wrong, "identifier")!["attributes"]!["value"]!.GetValue<string>());
        Assert.Null(Node(wrong, "password")!["attributes"]!["value"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Imported_hashes_log_in_and_are_upgraded_to_the_configured_hasher(string db)
    {
        var s = await fixture.Get(db);
        var email = HttpAssertions.UniqueEmail("imported");
        // {SSHA} of "secret-imported-pw" with salt "salt1234".
        var ssha = "{SSHA}" + Convert.ToBase64String([.. System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes("secret-imported-pwsalt1234")), .. System.Text.Encoding.UTF8.GetBytes("salt1234")]);
        var created = await (await s.AdminWithKey.PostJson("/admin/identities", new JsonObject
        {
            ["traits"] = new JsonObject { ["email"] = email },
            ["credentials"] = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["hashed_password"] = ssha } } },
        })).Json(HttpStatusCode.Created);
        await (await SubmitLogin(s, email, "secret-imported-pw")).Json(HttpStatusCode.OK);
        var after = await (await s.AdminWithKey.GetAsync($"/admin/identities/{created["id"]}?include_credential=password")).Json(HttpStatusCode.OK);
        Assert.StartsWith("$2a$", after["credentials"]!["password"]!["config"]!["hashed_password"]!.GetValue<string>());
        await (await SubmitLogin(s, email, "secret-imported-pw")).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_pbkdf2_hash_whose_l_differs_from_its_length_imports_and_logs_in_as_in_kratos(string db)
    {
        var s = await fixture.Get(db);
        var email = HttpAssertions.UniqueEmail("pbkdf2");
        // Kratos's own import test hash (identity/handler_test.go): l=128 over a 16-byte hash, password "123456".
        await (await s.AdminWithKey.PostJson("/admin/identities", new JsonObject
        {
            ["traits"] = new JsonObject { ["email"] = email },
            ["credentials"] = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["hashed_password"] = "$pbkdf2-sha256$i=1000,l=128$e8/arsEf4cvQihdNgqj0Nw$5xQQKNTyeTHx2Ld5/JDE7A" } } },
        })).Json(HttpStatusCode.Created);
        var wrong = await (await SubmitLogin(s, email, "1234567")).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000006L], MessageIds(wrong));
        await (await SubmitLogin(s, email, "123456")).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Inactive_identities_cannot_sign_in_and_their_sessions_stop_working(string db)
    {
        var s = await fixture.Get(db);
        var (email, token, body) = await RegisterApi(s);
        var id = body["identity"]!["id"]!.GetValue<string>();
        await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", """[{"op":"replace","path":"/state","value":"inactive"}]""")).Json(HttpStatusCode.OK);
        var denied = await (await SubmitLogin(s, email, GoodPassword)).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010011L, MessageIds(denied));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        request.Headers.Add("X-Session-Token", token);
        await (await s.Public.SendAsync(request)).Error(HttpStatusCode.Unauthorized);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Logged_in_api_clients_get_session_already_available(string db)
    {
        var s = await fixture.Get(db);
        var (_, token, _) = await RegisterApi(s);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/self-service/login/api");
        request.Headers.Add("X-Session-Token", token);
        var error = await (await s.Public.SendAsync(request)).Error(HttpStatusCode.BadRequest);
        Assert.Equal("session_already_available", error["id"]!.GetValue<string>());
        using var refresh = new HttpRequestMessage(HttpMethod.Get, "/self-service/login/api?refresh=true");
        refresh.Headers.Add("X-Session-Token", token);
        var flow = await (await s.Public.SendAsync(refresh)).Json(HttpStatusCode.OK);
        Assert.True(flow["refresh"]!.GetValue<bool>());
        Assert.Contains(1010003L, MessageIds(flow));
        Assert.Equal("hidden", Node(flow, "identifier")!["attributes"]!["type"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_refresh_login_answers_the_same_session_with_its_token(string db)
    {
        var s = await fixture.Get(db);
        var (email, token, registered) = await RegisterApi(s);
        using var init = new HttpRequestMessage(HttpMethod.Get, "/self-service/login/api?refresh=true");
        init.Headers.Add("X-Session-Token", token);
        var flow = await (await s.Public.SendAsync(init)).Json(HttpStatusCode.OK);
        using var submit = new HttpRequestMessage(HttpMethod.Post, $"/self-service/login?flow={flow["id"]}")
        {
            Content = JsonContent.Create(new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword }),
        };
        submit.Headers.Add("X-Session-Token", token);
        var done = await (await s.Public.SendAsync(submit)).Json(HttpStatusCode.OK);
        // Kratos's APIFlowResponse: the refreshed session, with the token it already had (an app stores session_token).
        Assert.Equal(registered["session"]!["id"]!.GetValue<string>(), done["session"]!["id"]!.GetValue<string>());
        Assert.Equal(token, done["session_token"]!.GetValue<string>());
        Assert.Equal(2, done["session"]!["authentication_methods"]!.AsArray().Count);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_login_submitted_with_a_session_is_refused_with_the_flow_and_signs_no_one_in(string db)
    {
        var s = await fixture.Get(db);
        var (_, tokenA, regA) = await RegisterApi(s);
        var (emailB, _, regB) = await RegisterApi(s);
        var sessionsOfB = async () => (await (await s.AdminWithKey.GetAsync($"/admin/identities/{regB["identity"]!["id"]}/sessions")).Json(HttpStatusCode.OK)).AsArray().Count;
        var before = await sessionsOfB();
        using var signedIn = new HttpClient { BaseAddress = new Uri(s.PublicUrl) };
        signedIn.DefaultRequestHeaders.Add("X-Session-Token", tokenA);
        // A flow made before signing in, submitted afterwards (Kratos's updateLoginFlow: ErrAlreadyLoggedIn).
        var flow = await ApiFlow(s.Public, "login");
        var refused = await (await signedIn.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = emailB, ["password"] = GoodPassword })).Json(HttpStatusCode.BadRequest);
        Assert.Equal(flow["id"]!.GetValue<string>(), refused["id"]!.GetValue<string>());
        const string Reason = "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?";
        var expected = new JsonArray(new JsonObject { ["id"] = 4000001, ["text"] = Reason, ["type"] = "error", ["context"] = new JsonObject { ["reason"] = Reason } });
        Assert.True(JsonNode.DeepEquals(expected, refused["ui"]!["messages"]), refused["ui"]!["messages"]!.ToJsonString());
        Assert.Null(refused["session_token"]);
        Assert.Equal(before, await sessionsOfB());
        var whoami = await (await signedIn.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK);
        Assert.Equal(regA["identity"]!["id"]!.GetValue<string>(), whoami["identity"]!["id"]!.GetValue<string>());
        // The refusal comes first, whatever the body: a wrong password or an unknown method changes nothing either.
        var wrong = await (await signedIn.PostJson($"/self-service/login?flow={flow["id"]}", """{"method":"telepathy"}""")).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000001L], MessageIds(wrong));
        // Without the session the same flow signs in.
        var ok = await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = emailB, ["password"] = GoodPassword })).Json(HttpStatusCode.OK);
        Assert.StartsWith("ory_st_", ok["session_token"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Bad_flow_ids_methods_and_bodies_get_clear_errors(string db)
    {
        var s = await fixture.Get(db);
        await (await s.Public.PostJson("/self-service/login?flow=nope", "{}")).Error(HttpStatusCode.BadRequest);
        await (await s.Public.PostJson("/self-service/login", "{}")).Error(HttpStatusCode.BadRequest);
        await (await s.Public.PostJson($"/self-service/login?flow={Guid.NewGuid()}", "{}")).Error(HttpStatusCode.NotFound);
        await (await s.Public.GetAsync($"/self-service/login/flows?id={Guid.NewGuid()}")).Error(HttpStatusCode.NotFound);
        var registration = await ApiFlow(s.Public, "registration");
        await (await s.Public.PostJson($"/self-service/login?flow={registration["id"]}", """{"method":"password"}""")).Error(HttpStatusCode.NotFound);
        var login = await ApiFlow(s.Public, "login");
        var wrongMethod = await (await s.Public.PostJson($"/self-service/login?flow={login["id"]}", """{"method":"telepathy"}""")).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010002L, MessageIds(wrongMethod));
        await (await s.Public.PostJson($"/self-service/login?flow={login["id"]}", "{broken")).Error(HttpStatusCode.BadRequest);
        await (await s.Public.PostJson($"/self-service/login?flow={login["id"]}", "[1,2]")).Error(HttpStatusCode.BadRequest);
        await (await s.Public.GetAsync("/self-service/login/api?aal=aal9")).Error(HttpStatusCode.BadRequest);
        var aal2 = await (await s.Public.GetAsync("/self-service/login/api?aal=aal2")).Error(HttpStatusCode.Unauthorized);
        Assert.Equal("session_aal1_required", aal2["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Expired_flows_answer_410_with_a_new_flow_to_use(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Selfservice.Flows.Login.Lifespan = TimeSpan.FromMinutes(10);
        }, services => services.AddSingleton<TimeProvider>(clock));
        var flow = await ApiFlow(s.Public, "login");
        clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        var response = await s.Public.PostJson($"/self-service/login?flow={flow["id"]}", """{"method":"password","identifier":"a@b.co","password":"x"}""");
        var body = await response.Json(HttpStatusCode.Gone);
        Assert.Equal("self_service_flow_expired", body["error"]!["id"]!.GetValue<string>());
        var next = body["use_flow_id"]!.GetValue<string>();
        Assert.NotEqual(flow["id"]!.GetValue<string>(), next);
        Assert.True(body["since"]!.GetValue<long>() > 0);
        var fetched = await (await s.Public.GetAsync($"/self-service/login/flows?id={flow["id"]}")).Error(HttpStatusCode.Gone);
        Assert.NotNull(fetched["details"]!["api"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_410_replacement_of_an_expired_login_registration_or_settings_flow_carries_kratos_expired_message_with_its_context(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Selfservice.Flows.Verification.Enabled = true;
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Selfservice.Flows.Login.Lifespan = o.Selfservice.Flows.Registration.Lifespan = o.Selfservice.Flows.Settings.Lifespan =
                o.Selfservice.Flows.Recovery.Lifespan = o.Selfservice.Flows.Verification.Lifespan = TimeSpan.FromMinutes(10);
        }, services => services.AddSingleton<TimeProvider>(clock));
        var (email, token, _) = await RegisterApi(s);
        using var signedIn = new HttpClient { BaseAddress = new Uri(s.PublicUrl) };
        signedIn.DefaultRequestHeaders.Add("X-Session-Token", token);
        var submits = new (string Kind, long Message, HttpClient Client, JsonObject Body)[]
        {
            ("login", 4010001, s.Public, new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword }),
            ("registration", 4040001, s.Public, new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("late") } }),
            ("settings", 4050001, signedIn, new JsonObject { ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = email } }),
            // Recovery (4060005) and verification (4070005) answer an expired flow with a 303 instead (their error
            // handlers): RecoveryVerificationRetryTests.
        };
        var started = new List<JsonObject>();
        foreach (var (kind, _, client, _) in submits) started.Add(await ApiFlow(client, kind));
        clock.Advance(TimeSpan.FromMinutes(11.5));
        for (var i = 0; i < submits.Length; i++)
        {
            var (kind, message, client, body) = submits[i];
            var expired = await (await client.PostJson($"/self-service/{kind}?flow={started[i]["id"]}", body)).Json(HttpStatusCode.Gone);
            var next = await (await client.GetAsync($"/self-service/{kind}/flows?id={expired["use_flow_id"]}")).Json(HttpStatusCode.OK);
            var expiredAt = started[i]["expires_at"]!.GetValue<string>();
            var expected = new JsonObject
            {
                ["id"] = message,
                ["text"] = $"The {kind} flow expired 1.50 minutes ago, please try again.",
                ["type"] = "error",
                ["context"] = new JsonObject { ["expired_at"] = expiredAt, ["expired_at_unix"] = DateTimeOffset.Parse(expiredAt, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds() },
            };
            Assert.Equal(new JsonArray(expected).ToJsonString(), next["ui"]!["messages"]!.ToJsonString());
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Profile_first_registration_asks_for_traits_then_the_password(string db)
    {
        var s = await fixture.Get(db, "profile_first", o => o.Selfservice.Flows.Registration.Style = "profile_first");
        var flow = await ApiFlow(s.Public, "registration");
        Assert.Null(Node(flow, "password"));
        Assert.Equal("profile", Node(flow, "method")!["attributes"]!["value"]!.GetValue<string>());
        var email = HttpAssertions.UniqueEmail("twostep");
        var bad = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}", """{"method":"profile","traits":{"email":"nope"}}""")).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000040L, MessageIds(bad, "traits.email"));
        var step2 = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.BadRequest);
        // Kratos's showCredentialsSelection: JSON clients get 400 with the flow, which names no active method.
        Assert.Null(step2["active"]);
        Assert.Equal("choose_method", step2["state"]!.GetValue<string>());
        Assert.Equal("hidden", Node(step2, "traits.email")!["attributes"]!["type"]!.GetValue<string>());
        Assert.NotNull(Node(step2, "password"));
        Assert.Equal("previous", Node(step2, "screen")!["attributes"]!["value"]!.GetValue<string>());
        // As Kratos's password strategy, the credentials step registers the traits it is sent (the form sends the
        // accepted ones back as hidden fields): without them the submit is validated as {}, and the form it answers
        // with is still the credentials step, its hidden fields keeping the accepted values.
        var missing = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000002L, MessageIds(missing, "traits.email"));
        Assert.Equal("hidden", Node(missing, "traits.email")!["attributes"]!["type"]!.GetValue<string>());
        Assert.Equal(email, Node(missing, "traits.email")!["attributes"]!["value"]!.GetValue<string>());
        Assert.NotNull(Node(missing, "screen"));
        var invalid = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = "nope" } })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000040L, MessageIds(invalid, "traits.email"));
        Assert.Equal("nope", Node(invalid, "traits.email")!["attributes"]!["value"]!.GetValue<string>());
        Assert.Empty((await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(email)}")).Json(HttpStatusCode.OK)).AsArray());
        // A set other than the one the profile step accepted is validated and registered, as Kratos does.
        var other = HttpAssertions.UniqueEmail("twostep-other");
        var done = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = other } })).Json(HttpStatusCode.OK);
        Assert.Equal(other.ToLowerInvariant(), done["identity"]!["traits"]!["email"]!.GetValue<string>().ToLowerInvariant());
        await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = other } })).Error(HttpStatusCode.BadRequest);
    }

    /// <summary>
    /// The profile step is the form's way, not a precondition: Kratos's password strategy registers from one submit of
    /// traits and password under profile_first too (its Register checks only that the method is enabled and named), which
    /// is how a native app registers with one updateRegistrationFlow call, as Ory's documentation shows.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Profile_first_registration_also_takes_the_traits_and_the_password_in_one_submit(string db)
    {
        var s = await fixture.Get(db, "profile_first", o => o.Selfservice.Flows.Registration.Style = "profile_first");
        var email = HttpAssertions.UniqueEmail("onestep");

        // Refused input changes nothing: a bad address (on its node), then a password the policy refuses.
        var flow = await ApiFlow(s.Public, "registration");
        var badAddress = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            """{"method":"password","password":"correct-horse-battery-staple-42","traits":{"email":"nope"}}""")).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000040L, MessageIds(badAddress, "traits.email"));
        var shortPassword = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = "short", ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.BadRequest);
        // On a password node of its own, as Kratos's AddMessage adds one for a field the first form does not show.
        Assert.Contains(4000032L, MessageIds(shortPassword, "password"));
        var none = await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(email)}")).Json(HttpStatusCode.OK);
        Assert.Empty(none.AsArray());

        var done = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.OK);
        Assert.Equal(email, done["identity"]!["traits"]!["email"]!.GetValue<string>());
        var token = done["session_token"]!.GetValue<string>();
        var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        whoami.Headers.Add("X-Session-Token", token);
        var session = await (await s.Public.SendAsync(whoami)).Json(HttpStatusCode.OK);
        Assert.Equal(done["identity"]!["id"]!.GetValue<string>(), session["identity"]!["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_the_session_hook_registration_creates_no_session(string db)
    {
        var s = await fixture.Get(db, "nohook", o => o.Selfservice.Flows.Registration.After.Password = null);
        var flow = await ApiFlow(s.Public, "registration");
        var body = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("nohook") } })).Json(HttpStatusCode.OK);
        Assert.NotNull(body["identity"]);
        Assert.Null(body["session"]);
        Assert.Null(body["session_token"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Self_service_routes_on_the_admin_listener_redirect_to_the_public_one(string db)
    {
        var s = await fixture.Get(db);
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.AdminUrl) };
        var response = await client.GetAsync("/self-service/login/api?refresh=true");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal($"{s.PublicUrl}/self-service/login/api?refresh=true", response.Headers.Location!.ToString());
    }
}
