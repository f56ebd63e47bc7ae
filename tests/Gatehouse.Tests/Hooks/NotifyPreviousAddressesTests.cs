using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Courier;
using Gatehouse.SelfService.Hooks;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.SelfService;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Hooks;

/// <summary>
/// <c>notify_previous_addresses</c> after a settings profile change: which previous addresses get the
/// <c>verifiable_address_changed</c> notice in each <c>recipients</c> mode, read from the mail a real SMTP server received.
/// </summary>
public sealed class NotifyPreviousAddressesTests(NotifyPreviousAddressesTests.Servers servers) : IClassFixture<NotifyPreviousAddressesTests.Servers>
{
    private const string Subject = "An email address or phone number of your account changed";

    private const string TwoAddressSchema = """
    {
      "$id": "https://gatehouse.test/two-addresses.schema.json",
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
            "backup_email": {
              "type": "string", "format": "email",
              "ory.sh/kratos": { "verification": { "via": "email" } }
            },
            "nickname": { "type": "string" }
          },
          "required": ["email"],
          "additionalProperties": false
        }
      }
    }
    """;

    public sealed record Harness(TestServer Server, SmtpTestServer Smtp);

    /// <summary>One server per database and <c>recipients</c> mode (null: the hook without config).</summary>
    public sealed class Servers : IAsyncDisposable
    {
        private readonly Dictionary<string, Task<Harness>> _started = [];
        private readonly Lock _lock = new();

        public Task<Harness> Get(string db, string? mode)
        {
            lock (_lock)
            {
                var key = db + "/" + (mode ?? "default");
                if (!_started.TryGetValue(key, out var h)) _started[key] = h = StartAsync(db, mode);
                return h;
            }
        }

        private static async Task<Harness> StartAsync(string db, string? mode)
        {
            var smtp = await SmtpTestServer.StartAsync();
            var server = await TestServer.StartAsync(db, o =>
            {
                FlowServerFixture.Configure(o);
                o.Identity.Schemas = [.. o.Identity.Schemas, new IdentitySchemaEntry { Id = "two", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(TwoAddressSchema)) }];
                o.Identity.DefaultSchemaId = "two";
                o.Courier.Smtp.ConnectionUri = smtp.ConnectionUri;
                o.Courier.Smtp.FromAddress = "accounts@gatehouse.test";
                var hook = new HookConfig { Hook = "notify_previous_addresses" };
                if (mode is not null) hook.Config = new JsonObject { ["recipients"] = mode };
                o.Selfservice.Flows.Settings.After.Profile = new FlowAfterMethodOptions { Hooks = [hook] };
            });
            return new Harness(server, smtp);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var h in _started.Values)
            {
                if (!h.IsCompletedSuccessfully) continue;
                await h.Result.Server.DisposeAsync();
                await h.Result.Smtp.DisposeAsync();
            }
        }
    }

    /// <summary>An identity with a password, its e-mail and backup address (verified as given), and a fresh session's token.</summary>
    private static async Task<(string Email, string Backup, string Token)> SignedIn(Harness h, bool emailVerified, bool backupVerified)
    {
        var email = HttpAssertions.UniqueEmail("main");
        var backup = HttpAssertions.UniqueEmail("backup");
        JsonObject Address(string value, bool verified) => new() { ["value"] = value, ["via"] = "email", ["verified"] = verified, ["status"] = verified ? "completed" : "pending" };
        await (await h.Server.AdminWithKey.PostJson("/admin/identities", new JsonObject
        {
            ["schema_id"] = "two",
            ["traits"] = new JsonObject { ["email"] = email, ["backup_email"] = backup },
            ["credentials"] = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = GoodPassword } } },
            ["verifiable_addresses"] = new JsonArray(Address(email, emailVerified), Address(backup, backupVerified)),
        })).Json(HttpStatusCode.Created);
        var flow = await ApiFlow(h.Server.Public, "login");
        var login = await (await h.Server.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword })).Json(HttpStatusCode.OK);
        return (email, backup, login["session_token"]!.GetValue<string>());
    }

    private static async Task ChangeProfile(Harness h, string token, JsonObject traits)
    {
        using var init = new HttpRequestMessage(HttpMethod.Get, "/self-service/settings/api");
        init.Headers.Add("X-Session-Token", token);
        var flow = await (await h.Server.Public.SendAsync(init)).Json(HttpStatusCode.OK);
        using var submit = new HttpRequestMessage(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}")
        {
            Content = new StringContent(new JsonObject { ["method"] = "profile", ["traits"] = traits }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        submit.Headers.Add("X-Session-Token", token);
        var done = await (await h.Server.Public.SendAsync(submit)).Json(HttpStatusCode.OK);
        Assert.Equal("success", done["state"]!.GetValue<string>());
    }

    /// <summary>Delivers what the courier queued and returns the notices each address received so far.</summary>
    private static async Task<Dictionary<string, int>> Notices(Harness h, params string[] addresses)
    {
        await ActivatorUtilities.CreateInstance<CourierWorker>(h.Server.Services).ProcessBatchAsync(CancellationToken.None);
        return addresses.ToDictionary(a => a, a => h.Smtp.Messages.Count(m => m.Subject == Subject && m.To.Mailboxes.Any(b => string.Equals(b.Address, a, StringComparison.OrdinalIgnoreCase))));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task By_default_only_the_removed_address_is_told_and_the_notice_names_the_account(string db)
    {
        var h = await servers.Get(db, null);
        var (email, backup, token) = await SignedIn(h, emailVerified: true, backupVerified: true);
        var replacement = HttpAssertions.UniqueEmail("new");

        // Changing only a trait that is no address tells nobody.
        await ChangeProfile(h, token, new JsonObject { ["email"] = email, ["backup_email"] = backup, ["nickname"] = "ada" });
        Assert.Equal(new Dictionary<string, int> { [email] = 0, [backup] = 0 }, await Notices(h, email, backup));

        await ChangeProfile(h, token, new JsonObject { ["email"] = replacement, ["backup_email"] = backup, ["nickname"] = "ada" });
        Assert.Equal(new Dictionary<string, int> { [email] = 1, [backup] = 0, [replacement] = 0 }, await Notices(h, email, backup, replacement));
        var notice = h.Smtp.Messages.Single(m => m.Subject == Subject && m.To.Mailboxes.Any(b => string.Equals(b.Address, email, StringComparison.OrdinalIgnoreCase)));
        Assert.Contains("was changed at ", notice.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain(replacement, notice.TextBody, StringComparison.OrdinalIgnoreCase);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task All_verified_tells_every_address_that_was_verified_before(string db)
    {
        var h = await servers.Get(db, "all_verified");
        var (email, backup, token) = await SignedIn(h, emailVerified: false, backupVerified: true);
        await ChangeProfile(h, token, new JsonObject { ["email"] = HttpAssertions.UniqueEmail("new"), ["backup_email"] = backup });
        Assert.Equal(new Dictionary<string, int> { [email] = 0, [backup] = 1 }, await Notices(h, email, backup));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task All_tells_every_previous_address(string db)
    {
        var h = await servers.Get(db, "all");
        var (email, backup, token) = await SignedIn(h, emailVerified: false, backupVerified: false);
        var replacement = HttpAssertions.UniqueEmail("new");
        await ChangeProfile(h, token, new JsonObject { ["email"] = email, ["backup_email"] = replacement });
        Assert.Equal(new Dictionary<string, int> { [email] = 1, [backup] = 1, [replacement] = 0 }, await Notices(h, email, backup, replacement));
    }

    [Fact]
    public void A_recipients_mode_Kratos_does_not_know_or_a_slot_other_than_the_profile_change_stops_the_start()
    {
        var options = new GatehouseOptions();
        options.Selfservice.Flows.Settings.After.Profile = new FlowAfterMethodOptions
        {
            Hooks = [new HookConfig { Hook = "notify_previous_addresses", Config = new JsonObject { ["recipients"] = "everyone" } }],
        };
        var wrongMode = Assert.Throws<ConfigException>(() => HookConfigValidator.Validate(options));
        Assert.Equal("selfservice.flows.settings.after.profile.hooks[0].config.recipients: expected one of removed, all_verified, all, got \"everyone\".", wrongMode.Message);

        options.Selfservice.Flows.Settings.After.Profile = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "notify_previous_addresses", Config = new JsonObject { ["to"] = "all" } }] };
        Assert.Contains("config.to: not a notify_previous_addresses setting", Assert.Throws<ConfigException>(() => HookConfigValidator.Validate(options)).Message, StringComparison.Ordinal);

        options.Selfservice.Flows.Settings.After.Profile = null;
        options.Selfservice.Flows.Login.After.Hooks = [new HookConfig { Hook = "notify_previous_addresses" }];
        Assert.Contains("\"notify_previous_addresses\" cannot run here", Assert.Throws<ConfigException>(() => HookConfigValidator.Validate(options)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_targets_follow_Kratos_computeNotifyTargets()
    {
        static List<Gatehouse.Identities.VerifiableAddress> Of(params (string Value, bool Verified)[] a) =>
            [.. a.Select(x => new Gatehouse.Identities.VerifiableAddress { Value = x.Value, Via = "email", Verified = x.Verified })];
        var before = Of(("a@x.test", true), ("b@x.test", false));
        // Only a verification state changed: no address change, nobody.
        Assert.Empty(NotifyPreviousAddressesHook.Targets("all", before, Of(("a@x.test", true), ("b@x.test", true))));
        Assert.Equal([("email", "b@x.test")], NotifyPreviousAddressesHook.Targets("removed", before, Of(("a@x.test", true), ("c@x.test", false))));
        Assert.Equal([("email", "a@x.test")], NotifyPreviousAddressesHook.Targets("all_verified", before, Of(("a@x.test", true))));
        Assert.Equal([("email", "a@x.test"), ("email", "b@x.test")], NotifyPreviousAddressesHook.Targets("all", before, Of(("c@x.test", false))));
    }
}
