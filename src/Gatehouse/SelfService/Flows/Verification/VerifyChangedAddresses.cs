using Gatehouse.Identities;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Flows.Settings;

namespace Gatehouse.SelfService.Flows.Verification;

/// <summary>
/// After a settings profile update, new (unverified) addresses get a verification mail when verification is enabled
/// (Kratos's verification hook; see <see cref="VerificationFlows.StartAfterChangeAsync"/>).
/// </summary>
public sealed class VerifyChangedAddresses(VerificationFlows verification) : ISettingsHook
{
    public async Task AfterProfileUpdateAsync(HttpContext http, SelfServiceFlow flow, Identity before, Identity after, HookContext context, CancellationToken ct)
    {
        var added = after.VerifiableAddresses.Where(a => !a.Verified && !before.VerifiableAddresses.Any(b => b.Via == a.Via && b.Value == a.Value)).ToList();
        if (added.Count == 0) return;
        var onlyNew = new Identity { Id = after.Id, VerifiableAddresses = added };
        await verification.StartAfterChangeAsync(http, flow.Type, onlyNew, context, ct);
    }
}
