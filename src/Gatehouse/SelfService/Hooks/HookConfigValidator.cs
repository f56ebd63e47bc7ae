using Gatehouse.Http.Outbound;
using Gatehouse.Config;
using Gatehouse.SelfService.Hooks.WebHooks;

namespace Gatehouse.SelfService.Hooks;

/// <summary>
/// Checks at start-up where each hook is configured (Kratos's config schema allows each hook only in certain slots)
/// and that every <c>web_hook</c> config is complete, so a mistake stops <c>serve</c> with the key to fix.
/// </summary>
public static class HookConfigValidator
{
    private static readonly string[] Methods = ["password", "oidc", "code", "webauthn", "passkey", "totp", "lookup_secret", "profile"];

    public static void Validate(GatehouseOptions options)
    {
        foreach (var kind in new[] { "login", "registration", "settings", "recovery", "verification" })
        {
            var flow = HookRunner.FlowOptionsFor(options, kind);
            var prefix = $"selfservice.flows.{kind}";
            Check(flow.Before.Hooks, kind, null, before: true, $"{prefix}.before.hooks");
            Check(flow.After.Hooks, kind, null, before: false, $"{prefix}.after.hooks");
            foreach (var method in Methods)
            {
                if (flow.After.ForMethod(method) is { } section) Check(section.Hooks, kind, method, before: false, $"{prefix}.after.{method}.hooks");
            }
        }
        var migrate = options.Selfservice.Methods.Password.Config.MigrateHook;
        if (migrate.Enabled && migrate.Config is null)
            throw new ConfigException($"{Strategies.Password.PasswordMigrationHook.ConfigPath}.config: an enabled password migration hook needs a config with at least \"url\".");
        _ = Strategies.Password.PasswordMigrationHook.ConfigOf(options);
    }

    private static void Check(List<HookConfig> hooks, string kind, string? method, bool before, string path)
    {
        for (var i = 0; i < hooks.Count; i++)
        {
            var at = $"{path}[{i}]";
            var name = hooks[i].Hook;
            if (name == "web_hook")
            {
                _ = WebHookConfig.Read(hooks[i].Config, at);
                continue;
            }
            if (before) throw new ConfigException($"{at}.hook: only web_hook may run before a flow, got \"{name}\".");
            if (name == NotifyPreviousAddressesHook.HookName) _ = NotifyPreviousAddressesHook.Recipients(hooks[i], at);
            var allowed = name switch
            {
                "session" => kind == "registration" && method is not null and not "profile",
                "revoke_active_sessions" => kind is "login" or "recovery" || (kind == "settings" && method is not null and not "profile"),
                "require_verified_address" => kind == "login",
                "verify_new_address" => kind == "settings" && method == "profile",
                "show_verification_ui" => (kind is "registration" or "login" && method is not null) || (kind == "settings" && method == "profile"),
                NotifyPreviousAddressesHook.HookName => kind == "settings" && method == "profile",
                _ => true,
            };
            if (!allowed) throw new ConfigException($"{at}.hook: \"{name}\" cannot run here; see docs/hooks.md for the slots each hook is allowed in.");
        }
    }
}
