using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Hooks;

namespace Gatehouse.SelfService.Strategies;

/// <summary>How a settings method saves a credential change: the settings hooks around it, then the flow's success answer.</summary>
public static class SettingsChange
{
    public static async Task SaveAsync(SettingsSubmission submission, HookRunner hooks, string method, Func<Task<Identity>> change, CancellationToken ct)
    {
        var hookContext = new HookContext
        {
            Http = submission.Http, Flow = submission.Flow, FlowKind = FlowKinds.Settings, Method = method, Identity = submission.Identity,
            IdentityPersisted = true, Session = submission.Session,
        };
        if (!await submission.RunPrePersistHooksAsync(hookContext, ct)) return;
        hookContext.Identity = await change();
        await hooks.RunAfterAsync(HookPhase.PostPersist, hookContext, ct);
        await submission.SucceedAsync(hookContext.Identity, null, ct);
    }
}
