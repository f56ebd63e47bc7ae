using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Identities;
using CourierService = Gatehouse.Courier.Courier;

namespace Gatehouse.SelfService.Hooks;

/// <summary>
/// <c>notify_previous_addresses</c> (settings.after.profile): once a profile change that changed the identity's
/// verifiable addresses is saved, the identity's previous addresses get the <c>verifiable_address_changed</c> notice
/// (e-mail or SMS, model <c>{to, identity, changed_at}</c>), so the owner of an address that was taken off the account
/// learns of it. <c>config.recipients</c>: <c>removed</c> (the default: the addresses the change removed),
/// <c>all_verified</c> (every address that was verified before) or <c>all</c> (every previous address). A change that only
/// flips verification states is no address change. The change is saved already: a notice that cannot be queued is logged
/// and the flow still succeeds, as in Kratos.
/// </summary>
public sealed class NotifyPreviousAddressesHook(CourierService courier, IdentityJson identityJson, TimeProvider time, ILogger<NotifyPreviousAddressesHook> logger) : IFlowHook
{
    public const string HookName = "notify_previous_addresses";

    public static readonly IReadOnlyList<string> RecipientModes = ["removed", "all_verified", "all"];

    public string Name => HookName;

    public bool RunsIn(HookPhase phase, HookConfig config) => phase == HookPhase.PostPersist;

    /// <summary>The <c>config.recipients</c> of an entry (<c>removed</c> when not given); a start-up error names anything else.</summary>
    public static string Recipients(HookConfig config, string at)
    {
        if (config.Config is null) return "removed";
        foreach (var (key, _) in config.Config)
        {
            if (key != "recipients") throw new ConfigException($"{at}.config.{key}: not a notify_previous_addresses setting; the only one is \"recipients\".");
        }
        var node = config.Config["recipients"];
        if (node is null) return "removed";
        if (node is JsonValue v && v.TryGetValue<string>(out var mode) && RecipientModes.Contains(mode)) return mode;
        throw new ConfigException($"{at}.config.recipients: expected one of {string.Join(", ", RecipientModes)}, got {node.ToJsonString()}.");
    }

    public async Task<IdentityChanges?> ExecuteAsync(HookConfig config, HookContext context, CancellationToken ct)
    {
        if (context.FlowKind != Flows.FlowKinds.Settings || context.Previous is not { } previous || context.Identity is not { } updated) return null;
        var targets = Targets(Recipients(config, HookName), previous.VerifiableAddresses, updated.VerifiableAddresses);
        if (targets.Count == 0) return null;
        var changedAt = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var identity = identityJson.ToNode(updated, IdentityView.Public);
        foreach (var (via, address) in targets)
        {
            var model = new JsonObject { ["to"] = address, ["identity"] = identity.DeepClone(), ["changed_at"] = changedAt };
            try
            {
                await courier.QueueAsync(via, "verifiable_address_changed", address, model, ct);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or Microsoft.EntityFrameworkCore.DbUpdateException or System.Data.Common.DbException)
            {
                // The change is saved; a notice that cannot be queued must not undo or fail it (Kratos logs and goes on).
                logger.LogWarning("notify_previous_addresses: the {Channel} notice to a previous address of identity {IdentityId} could not be queued: {Reason}",
                    via, updated.Id, e.Message);
            }
        }
        return null;
    }

    /// <summary>
    /// Kratos's <c>computeNotifyTargets</c>: nobody when the set of (via, value) pairs is unchanged; otherwise, by mode,
    /// the previous addresses that are gone, that were verified, or all of them — e-mail and SMS ones only.
    /// </summary>
    public static List<(string Via, string Address)> Targets(string mode, IReadOnlyCollection<VerifiableAddress> before, IReadOnlyCollection<VerifiableAddress> after)
    {
        var kept = after.Select(a => (a.Via, a.Value)).ToHashSet();
        var previous = before.Select(a => (a.Via, a.Value)).ToHashSet();
        if (kept.SetEquals(previous) && before.Count == after.Count) return [];
        IEnumerable<VerifiableAddress> chosen = mode switch
        {
            "all_verified" => before.Where(a => a.Verified),
            "all" => before,
            _ => before.Where(a => !kept.Contains((a.Via, a.Value))),
        };
        return [.. chosen.Where(a => a.Via is "email" or "sms").Select(a => (a.Via, a.Value)).Distinct()];
    }
}
