using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Hooks.WebHooks;
using static Gatehouse.Tests.Hooks.HookFixture;

namespace Gatehouse.Tests.Hooks;

public sealed class HookConfigValidatorTests
{
    private static string Fails(Action<GatehouseOptions> configure)
    {
        var o = new GatehouseOptions();
        configure(o);
        return Assert.Throws<ConfigException>(() => HookConfigValidator.Validate(o)).Message;
    }

    [Fact]
    public void Hooks_in_slots_kratos_does_not_allow_are_refused_with_their_key()
    {
        Assert.StartsWith("selfservice.flows.login.after.hooks[0].hook: \"session\" cannot run here",
            Fails(o => o.Selfservice.Flows.Login.After.Hooks = [Hook("session")]));
        Assert.StartsWith("selfservice.flows.registration.before.hooks[0].hook: only web_hook",
            Fails(o => o.Selfservice.Flows.Registration.Before.Hooks = [Hook("session")]));
        Assert.StartsWith("selfservice.flows.registration.after.password.hooks[1].hook: \"require_verified_address\"",
            Fails(o => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions { Hooks = [Hook("session"), Hook("require_verified_address")] }));
        Assert.StartsWith("selfservice.flows.settings.after.profile.hooks[0].hook: \"revoke_active_sessions\"",
            Fails(o => o.Selfservice.Flows.Settings.After.Profile = new FlowAfterMethodOptions { Hooks = [Hook("revoke_active_sessions")] }));
    }

    [Fact]
    public void Verify_new_address_runs_only_after_the_profile_method_of_settings()
    {
        Assert.StartsWith("selfservice.flows.settings.after.password.hooks[0].hook: \"verify_new_address\" cannot run here",
            Fails(o => o.Selfservice.Flows.Settings.After.Password = new FlowAfterMethodOptions { Hooks = [Hook("verify_new_address")] }));
        Assert.StartsWith("selfservice.flows.settings.after.hooks[0].hook: \"verify_new_address\" cannot run here",
            Fails(o => o.Selfservice.Flows.Settings.After.Hooks = [Hook("verify_new_address")]));
        Assert.StartsWith("selfservice.flows.registration.after.password.hooks[1].hook: \"verify_new_address\" cannot run here",
            Fails(o => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions { Hooks = [Hook("session"), Hook("verify_new_address")] }));
        var allowed = new GatehouseOptions();
        allowed.Selfservice.Flows.Settings.After.Profile = new FlowAfterMethodOptions { Hooks = [Hook("verify_new_address"), Hook("show_verification_ui")] };
        HookConfigValidator.Validate(allowed);
        Assert.Equal(["verify_new_address", "show_verification_ui"], allowed.Selfservice.Flows.Settings.After.Profile!.Hooks.Select(h => h.Hook));
    }

    [Fact]
    public void Web_hook_config_mistakes_name_the_key_to_fix()
    {
        Assert.Equal("selfservice.flows.login.after.hooks[0].config.url: a web_hook needs the URL to call.",
            Fails(o => o.Selfservice.Flows.Login.After.Hooks = [WebHook([])]));
        Assert.Contains("config.response: ignore cannot be combined with parse",
            Fails(o => o.Selfservice.Flows.Login.After.Hooks = [WebHook(new JsonObject { ["url"] = "https://hooks.example/", ["response"] = new JsonObject { ["ignore"] = true, ["parse"] = true } })]));
        Assert.Contains("config.auth.type: expected \"api_key\" or \"basic_auth\"",
            Fails(o => o.Selfservice.Flows.Login.After.Hooks = [WebHook(new JsonObject { ["url"] = "https://hooks.example/", ["auth"] = new JsonObject { ["type"] = "oauth", ["config"] = new JsonObject() } })]));
        Assert.Contains("config.timeout: expected a positive duration",
            Fails(o => o.Selfservice.Flows.Login.After.Hooks = [WebHook(new JsonObject { ["url"] = "https://hooks.example/", ["timeout"] = "soon" })]));
        Assert.Contains("config.body: expected a file://, base64://",
            Fails(o => o.Selfservice.Flows.Login.After.Hooks = [WebHook(new JsonObject { ["url"] = "https://hooks.example/", ["body"] = "/etc/passwd" })]));
    }

    [Fact]
    public void A_complete_web_hook_config_is_read_with_kratos_defaults()
    {
        var config = WebHookConfig.Read(new JsonObject
        {
            ["url"] = "https://hooks.example/in",
            ["method"] = "put",
            ["auth"] = new JsonObject { ["type"] = "api_key", ["config"] = new JsonObject { ["name"] = "k", ["value"] = "v", ["in"] = "cookie" } },
            ["response"] = new JsonObject { ["parse"] = true },
        }, "x");
        Assert.Equal(HttpMethod.Put, config.Method);
        Assert.Equal(new WebHookAuth.ApiKey("k", "v", InCookie: true), config.Auth);
        Assert.True(config.Parse);
        Assert.False(config.Ignore);
        Assert.Equal(TimeSpan.FromSeconds(10), config.Timeout);
        Assert.DoesNotContain("Cookie", config.HeaderAllowlist);
        var o = new GatehouseOptions();
        o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions { Hooks = [Hook("session"), Hook("show_verification_ui"), WebHook(new JsonObject { ["url"] = "https://hooks.example/" })] };
        o.Selfservice.Flows.Recovery.After.Hooks = [Hook("revoke_active_sessions")];
        HookConfigValidator.Validate(o);
    }
}
