using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.SelfService.Hooks;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Hooks.HookFixture;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// Kratos's password migration hook (<c>selfservice.methods.password.config.migrate_hook</c>): an identity imported with
/// <c>use_password_migration_hook</c> and no hash signs in by asking the old system, once.
/// </summary>
public sealed class PasswordMigrationHookTests(HookFixture fixture) : IClassFixture<HookFixture>
{
    private const string OldPassword = "the-old-systems-password-42";

    private static void Migrate(GatehouseOptions o, HookReceiver r, string path, JsonObject? extra = null)
    {
        var config = new JsonObject
        {
            ["url"] = r.On(path, (hook, _) =>
            {
                var sent = JsonNode.Parse(hook.Body)!;
                var password = (string?)sent["password"] ?? (string?)sent["pw"];
                return Task.FromResult(password == OldPassword ? (200, (string?)"""{"status":"password_match"}""") : (403, (string?)null));
            }),
            ["auth"] = new JsonObject { ["type"] = "api_key", ["config"] = new JsonObject { ["name"] = "X-Migrate-Key", ["value"] = "migrate-secret", ["in"] = "header" } },
        };
        foreach (var (k, v) in extra ?? []) config[k] = v?.DeepClone();
        o.Selfservice.Methods.Password.Config.MigrateHook = new PasswordMigrateHookOptions { Enabled = true, Config = config };
    }

    private static async Task<string> Import(TestServer s, string email)
    {
        var body = new JsonObject
        {
            ["schema_id"] = "default",
            ["traits"] = new JsonObject { ["email"] = email },
            ["credentials"] = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["use_password_migration_hook"] = true } } },
        };
        return (await (await s.AdminWithKey.PostJson("/admin/identities", body)).Json(HttpStatusCode.Created))["id"]!.GetValue<string>();
    }

    private static async Task<HttpResponseMessage> Login(TestServer s, string email, string password)
    {
        var flow = await ApiFlow(s.Public, "login");
        return await s.Public.PostJson($"/self-service/login?flow={flow["id"]}", new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = password });
    }

    private static async Task<string> StoredConfig(TestServer s, string id) =>
        (await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=password")).Json(HttpStatusCode.OK))["credentials"]!["password"]!["config"]!.ToJsonString();

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_old_system_is_asked_once_and_the_password_is_then_hashed_here(string db)
    {
        var s = await fixture.Get(db, "migrate", (o, r) => Migrate(o, r, "/migrate"));
        var receiver = await fixture.Receiver;
        var email = HttpAssertions.UniqueEmail("migrate");
        var id = await Import(s, email);
        Assert.Contains("use_password_migration_hook", await StoredConfig(s, id));

        var wrong = await (await Login(s, email, "not-the-password-1")).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000006L], MessageIds(wrong));
        var asked = Assert.Single(receiver.Received("/migrate"), h => h.Body.Contains(email, StringComparison.Ordinal));
        Assert.Equal(email, (string?)JsonNode.Parse(asked.Body)!["identifier"]);
        Assert.Equal("migrate-secret", asked.Headers["X-Migrate-Key"]);
        Assert.Contains("use_password_migration_hook", await StoredConfig(s, id));

        var ok = await (await Login(s, email, OldPassword)).Json(HttpStatusCode.OK);
        Assert.Equal(id, ok["session"]!["identity"]!["id"]!.GetValue<string>());
        var stored = await StoredConfig(s, id);
        Assert.DoesNotContain("use_password_migration_hook", stored);
        Assert.DoesNotContain(OldPassword, stored);
        Assert.Contains("hashed_password", stored);
        var calls = receiver.Received("/migrate").Count(h => h.Body.Contains(email, StringComparison.Ordinal));
        Assert.Equal(2, calls);

        // From now on the hash answers, without the old system.
        await (await Login(s, email, OldPassword)).Json(HttpStatusCode.OK);
        Assert.Equal([4000006L], MessageIds(await (await Login(s, email, "not-the-password-1")).Json(HttpStatusCode.BadRequest)));
        Assert.Equal(calls, receiver.Received("/migrate").Count(h => h.Body.Contains(email, StringComparison.Ordinal)));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_body_template_sees_the_identifier_password_and_identity(string db)
    {
        var template = Base64("function(ctx) { user: ctx.identifier, pw: ctx.password, id: ctx.identity.id, flow: ctx.flow.id }");
        var s = await fixture.Get(db, "migrate-template", (o, r) => Migrate(o, r, "/migrate-template", new JsonObject { ["body"] = template }));
        var receiver = await fixture.Receiver;
        var email = HttpAssertions.UniqueEmail("migratetpl");
        var id = await Import(s, email);
        await (await Login(s, email, OldPassword)).Json(HttpStatusCode.OK);
        var sent = JsonNode.Parse(Assert.Single(receiver.Received("/migrate-template"), h => h.Body.Contains(email, StringComparison.Ordinal)).Body)!;
        Assert.Equal(email, (string?)sent["user"]);
        Assert.Equal(OldPassword, (string?)sent["pw"]);
        Assert.Equal(id, (string?)sent["id"]);
        Assert.False(string.IsNullOrEmpty((string?)sent["flow"]));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_failing_old_system_is_a_502_and_changes_nothing(string db)
    {
        var s = await fixture.Get(db, "migrate-broken", (o, r) =>
        {
            o.Selfservice.Methods.Password.Config.MigrateHook = new PasswordMigrateHookOptions
            {
                Enabled = true,
                Config = new JsonObject { ["url"] = r.On("/migrate-broken", 500, "{}") },
            };
        });
        var email = HttpAssertions.UniqueEmail("migratebroken");
        var id = await Import(s, email);
        var before = await StoredConfig(s, id);
        var error = await (await Login(s, email, OldPassword)).Error(HttpStatusCode.BadGateway);
        Assert.Equal("A third-party upstream service responded improperly. Please try again later.", error["reason"]!.GetValue<string>());
        Assert.Equal(before, await StoredConfig(s, id));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_answer_other_than_password_match_is_wrong_credentials(string db)
    {
        var s = await fixture.Get(db, "migrate-nomatch", (o, r) =>
        {
            o.Selfservice.Methods.Password.Config.MigrateHook = new PasswordMigrateHookOptions
            {
                Enabled = true,
                Config = new JsonObject { ["url"] = r.On("/migrate-nomatch", 200, """{"status":"no_match"}""") },
            };
        });
        var email = HttpAssertions.UniqueEmail("migratenomatch");
        var id = await Import(s, email);
        Assert.Equal([4000006L], MessageIds(await (await Login(s, email, OldPassword)).Json(HttpStatusCode.BadRequest)));
        Assert.Contains("use_password_migration_hook", await StoredConfig(s, id));
    }

    [Fact]
    public async Task Without_an_enabled_hook_a_migrating_identity_cannot_sign_in()
    {
        var s = await fixture.Get(Db.Sqlite, "migrate-off", (_, _) => { });
        var email = HttpAssertions.UniqueEmail("migrateoff");
        await Import(s, email);
        var error = await (await Login(s, email, OldPassword)).Error(HttpStatusCode.InternalServerError);
        Assert.Equal("Password migration hook is not enabled but password migration is requested.", error["reason"]!.GetValue<string>());
    }

    [Fact]
    public void An_enabled_hook_needs_a_url()
    {
        var o = new GatehouseOptions();
        o.Selfservice.Methods.Password.Config.MigrateHook = new PasswordMigrateHookOptions { Enabled = true };
        Assert.Contains("migrate_hook.config", Assert.Throws<ConfigException>(() => HookConfigValidator.Validate(o)).Message);
        o.Selfservice.Methods.Password.Config.MigrateHook = new PasswordMigrateHookOptions { Enabled = true, Config = new JsonObject { ["url"] = "not a url" } };
        Assert.Contains("migrate_hook.config.url", Assert.Throws<ConfigException>(() => HookConfigValidator.Validate(o)).Message);
    }
}
