using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Hooks.HookFixture;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Hooks;

/// <summary>
/// A parsing web hook's answer changes the identity fields Kratos's <c>parseWebhookResponse</c> takes besides traits and
/// metadata — <c>state</c>, <c>external_id</c>, <c>schema_id</c>, <c>verifiable_addresses</c> (as Ory's webhook guide
/// shows, to mark an address verified) and <c>recovery_addresses</c> — before the identity is saved; an answer Gatehouse
/// cannot use fails the flow with 502 and writes nothing.
/// </summary>
public sealed class WebHookIdentityFieldTests(HookFixture fixture) : IClassFixture<HookFixture>
{
    private static HookConfig Parsing(string url) =>
        WebHook(new JsonObject { ["url"] = url, ["body"] = Base64(WebHookTests.EmailBody), ["response"] = new JsonObject { ["parse"] = true } });

    private static Task<HttpResponseMessage> Register(TestServer s, string email) => WebHookTests.Register(s, new JsonObject { ["email"] = email });

    private static Task<JsonArray> IdentitiesWith(TestServer s, string identifier) => WebHookTests.IdentitiesWith(s, identifier);

    private static HttpRequestMessage WithToken(HttpMethod method, string url, string token, JsonNode? body = null) => BuiltInHookTests.WithToken(method, url, token, body);

    private static string EmailIn(string body) => JsonNode.Parse(body)!["email"]!.GetValue<string>();

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Registration_hook_sets_state_external_id_and_marks_the_address_verified(string db)
    {
        var s = await fixture.Get(db, "fields", (o, r) =>
        {
            r.On("/fields", (req, _) =>
            {
                var email = EmailIn(req.Body);
                var answer = new JsonObject
                {
                    ["identity"] = new JsonObject
                    {
                        ["state"] = "inactive",
                        ["external_id"] = "crm-" + email,
                        // The address as the receiver spells it, verified; and one the traits do not give, which is dropped.
                        ["verifiable_addresses"] = new JsonArray(
                            new JsonObject { ["value"] = email.ToUpperInvariant(), ["via"] = "email", ["verified"] = true, ["status"] = "completed", ["verified_at"] = "2026-01-02T03:04:05Z" },
                            new JsonObject { ["value"] = "stray-" + email, ["via"] = "email", ["verified"] = true }),
                        ["recovery_addresses"] = new JsonArray(new JsonObject { ["value"] = email, ["via"] = "email" }),
                    },
                };
                return Task.FromResult((200, (string?)answer.ToJsonString()));
            });
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions { Hooks = [Parsing(r.BaseUrl + "/fields")] };
        });
        var email = HttpAssertions.UniqueEmail("fields");
        var done = await (await Register(s, email)).Json(HttpStatusCode.OK);
        Assert.Null(done["session_token"]);

        var stored = await (await s.AdminWithKey.GetAsync($"/admin/identities/{done["identity"]!["id"]}")).Json(HttpStatusCode.OK);
        foreach (var identity in new[] { done["identity"]!, stored })
        {
            Assert.Equal("inactive", identity["state"]!.GetValue<string>());
            Assert.Equal("crm-" + email, identity["external_id"]!.GetValue<string>());
            var address = Assert.Single(identity["verifiable_addresses"]!.AsArray())!;
            Assert.Equal(email, address["value"]!.GetValue<string>());
            Assert.True(address["verified"]!.GetValue<bool>());
            Assert.Equal("completed", address["status"]!.GetValue<string>());
            Assert.Equal("2026-01-02T03:04:05Z", address["verified_at"]!.GetValue<string>());
            Assert.Equal(email, Assert.Single(identity["recovery_addresses"]!.AsArray())!["value"]!.GetValue<string>());
        }
        Assert.Single(await IdentitiesWith(s, email));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Settings_hook_moves_the_identity_to_another_schema_and_removes_its_external_id(string db)
    {
        var s = await fixture.Get(db, "schema", (o, r) =>
        {
            r.On("/registered", (req, _) =>
                Task.FromResult((200, (string?)new JsonObject { ["identity"] = new JsonObject { ["external_id"] = "ext-" + EmailIn(req.Body) } }.ToJsonString())));
            r.On("/moved", (req, _) =>
            {
                var email = EmailIn(req.Body);
                var answer = new JsonObject
                {
                    ["identity"] = new JsonObject
                    {
                        ["schema_id"] = "customer",
                        ["traits"] = new JsonObject { ["username"] = "user-" + email.Split('@')[0], ["email"] = email },
                        ["external_id"] = null,
                    },
                };
                return Task.FromResult((200, (string?)answer.ToJsonString()));
            });
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions { Hooks = [Parsing(r.BaseUrl + "/registered"), Hook("session")] };
            o.Selfservice.Flows.Settings.After.Profile = new FlowAfterMethodOptions { Hooks = [Parsing(r.BaseUrl + "/moved")] };
        });
        var (email, token, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        Assert.Equal("ext-" + email, reg["identity"]!["external_id"]!.GetValue<string>());

        var flow = await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/self-service/settings/api", token))).Json(HttpStatusCode.OK);
        await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = email, ["name"] = new JsonObject { ["first"] = "Ada" } } }))).Json(HttpStatusCode.OK);

        var stored = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK);
        var username = "user-" + email.Split('@')[0];
        Assert.Equal("customer", stored["schema_id"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["username"] = username, ["email"] = email }, stored["traits"]), stored["traits"]!.ToJsonString());
        Assert.Null(stored["external_id"]);
        // The customer schema's password identifier is the username, and it gives no addresses.
        Assert.Equal(id, Assert.Single(await IdentitiesWith(s, username))!["id"]!.GetValue<string>());
        Assert.Empty(await IdentitiesWith(s, email));
        Assert.Null(stored["verifiable_addresses"]); // omitted when empty, as Kratos's omitempty
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_answer_that_is_no_usable_identity_fails_the_registration_with_502_and_writes_nothing(string db)
    {
        var answers = new Dictionary<string, (string Answer, string Reason)>
        {
            ["state"] = ("""{"identity":{"state":"frozen"}}""", "state \"frozen\"; valid states are active and inactive"),
            ["schema"] = ("""{"identity":{"schema_id":"no-such-schema"}}""", "schema_id \"no-such-schema\", which is not a configured identity schema"),
            ["external"] = ("""{"identity":{"external_id":5}}""", "identity.external_id must be a string"),
            ["list"] = ("""{"identity":{"verifiable_addresses":{"value":"a@example.com"}}}""", "identity.verifiable_addresses must be an array"),
            ["status"] = ("""{"identity":{"verifiable_addresses":[{"value":"a@example.com","via":"email","status":"done"}]}}""", "identity.verifiable_addresses[0].status must be pending, sent or completed"),
            ["via"] = ("""{"identity":{"recovery_addresses":[{"value":"a@example.com","via":"pigeon"}]}}""", "identity.recovery_addresses[0].via must be email or sms"),
        };
        var s = await fixture.Get(db, "unusable", (o, r) =>
        {
            // The case is the address's first label: "state-…@example.com" gets the "state" answer.
            r.On("/unusable", (req, _) => Task.FromResult((200, (string?)answers[EmailIn(req.Body).Split('-')[0]].Answer)));
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions { Hooks = [Parsing(r.BaseUrl + "/unusable"), Hook("session")] };
        });
        foreach (var (key, (_, reason)) in answers)
        {
            var email = HttpAssertions.UniqueEmail(key);
            var error = await (await Register(s, email)).Error(HttpStatusCode.BadGateway);
            Assert.Contains(reason, error["reason"]!.GetValue<string>());
            Assert.Empty(await IdentitiesWith(s, email));
        }

        // The traits a hook names are checked against the schema it names: the default schema's traits do not fit "customer".
        var schemaCheck = await fixture.Get(db, "schema-traits", (o, r) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks = [Parsing(r.On("/schema-traits", 200, """{"identity":{"schema_id":"customer"}}""")), Hook("session")],
        });
        var refused = HttpAssertions.UniqueEmail("schema-traits");
        var flow = await (await Register(schemaCheck, refused)).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000002L, MessageIds(flow, "traits.username"));
        Assert.Empty(await IdentitiesWith(schemaCheck, refused));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_inactive_registration_gets_no_session_and_a_taken_external_id_is_a_conflict(string db)
    {
        var s = await fixture.Get(db, "inactive", (o, r) =>
        {
            r.On("/inactive", (req, _) =>
            {
                var email = EmailIn(req.Body);
                var identity = email.StartsWith("inactive-", StringComparison.Ordinal)
                    ? new JsonObject { ["state"] = "inactive" }
                    : new JsonObject { ["external_id"] = "shared-external-id" };
                return Task.FromResult((200, (string?)new JsonObject { ["identity"] = identity }.ToJsonString()));
            });
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions { Hooks = [Parsing(r.BaseUrl + "/inactive"), Hook("session")] };
        });

        // As Kratos: the identity is saved, then the session hook refuses a disabled identity.
        var inactive = HttpAssertions.UniqueEmail("inactive");
        var refused = await (await Register(s, inactive)).Error(HttpStatusCode.BadRequest);
        Assert.Equal("identity_disabled", refused["id"]!.GetValue<string>());
        Assert.Equal("inactive", Assert.Single(await IdentitiesWith(s, inactive))!["state"]!.GetValue<string>());

        // The first registration takes the external id; the second cannot, and nothing of it is written.
        var first = HttpAssertions.UniqueEmail("taken");
        Assert.Equal("shared-external-id", (await (await Register(s, first)).Json(HttpStatusCode.OK))["identity"]!["external_id"]!.GetValue<string>());
        var second = HttpAssertions.UniqueEmail("taken");
        var conflict = await (await Register(s, second)).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000007L, MessageIds(conflict));
        Assert.Empty(await IdentitiesWith(s, second));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Identity_changes_from_a_before_hook_are_ignored_with_a_warning(string db)
    {
        var s = await fixture.Get(db, "before-parse", (o, r) => o.Selfservice.Flows.Login.Before.Hooks =
        [
            WebHook(new JsonObject
            {
                ["url"] = r.On("/before-parse", 200, """{"identity":{"traits":{"email":"x@example.com"},"state":"inactive"}}"""),
                ["body"] = Base64("function(ctx) { flow_id: ctx.flow.id }"),
                ["response"] = new JsonObject { ["parse"] = true },
            }),
        ]);
        var flow = await ApiFlow(s.Public, "login");
        Assert.Equal("choose_method", flow["state"]!.GetValue<string>());
        Assert.Contains(fixture.Logs.Lines, l => l.Contains("answered with identity changes, but the flow has no identity yet", StringComparison.Ordinal));
    }
}
