using Gatehouse.Identities;
using Gatehouse.SelfService.Flows.Settings;

namespace Gatehouse.SelfService.Flows.Verification;

/// <summary>After a settings profile update, new (unverified) addresses get a verification mail when verification is enabled.</summary>
public sealed class VerifyChangedAddresses(VerificationFlows verification) : ISettingsHook
{
    public async Task<SelfServiceFlow?> AfterProfileUpdateAsync(HttpContext http, SelfServiceFlow flow, Identity before, Identity after, CancellationToken ct)
    {
        var added = after.VerifiableAddresses.Where(a => !a.Verified && !before.VerifiableAddresses.Any(b => b.Via == a.Via && b.Value == a.Value)).ToList();
        if (added.Count == 0) return null;
        var onlyNew = new Identity { Id = after.Id, VerifiableAddresses = added };
        return (await verification.StartForAsync(http, flow.Type, onlyNew, ct))?.Flow;
    }
}
