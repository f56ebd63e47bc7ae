namespace Gatehouse.SelfService.Hooks;

/// <summary>When a hook runs within a flow (Kratos: pre hooks, and the pre- and post-persist phases of the after hooks).</summary>
public enum HookPhase
{
    /// <summary>When a flow is created (<c>&lt;flow&gt;.before.hooks</c>).</summary>
    Before,

    /// <summary>
    /// After the method succeeded, before the flow's result is written: the identity of a registration or a settings
    /// profile change is not saved yet, a login has no session yet. A hook may still stop the flow here.
    /// </summary>
    PrePersist,

    /// <summary>After the flow's result was written (identity saved, session issued).</summary>
    PostPersist,
}
