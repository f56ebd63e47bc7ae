using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Flows;

namespace Gatehouse.SelfService.Hooks;

/// <summary>
/// Runs a flow's configured hooks in their configured order: <c>&lt;flow&gt;.before.hooks</c> when a flow is
/// created, and <c>&lt;flow&gt;.after.&lt;method&gt;.hooks</c> (or <c>after.hooks</c> when the method has none) when
/// it completes. A flow without hooks costs one list lookup.
/// </summary>
public sealed class HookRunner(GatehouseOptions options, IEnumerable<IFlowHook> plugins, IdentityManager identities, IdentitySchemaRegistry schemas, ILogger<HookRunner> logger)
{
    private Dictionary<string, IFlowHook>? _byName;

    public static FlowOptions FlowOptionsFor(GatehouseOptions options, string flowKind) => flowKind switch
    {
        FlowKinds.Login => options.Selfservice.Flows.Login,
        FlowKinds.Registration => options.Selfservice.Flows.Registration,
        FlowKinds.Settings => options.Selfservice.Flows.Settings,
        FlowKinds.Recovery => options.Selfservice.Flows.Recovery,
        FlowKinds.Verification => options.Selfservice.Flows.Verification,
        _ => throw new ArgumentOutOfRangeException(nameof(flowKind), flowKind, "not a flow with hooks"),
    };

    /// <summary>The after hooks for a method: its own list if non-empty, otherwise the flow's (Kratos does not merge them).</summary>
    public IReadOnlyList<HookConfig> AfterHooks(string flowKind, string method) => FlowOptionsFor(options, flowKind).After.HooksFor(method);

    /// <summary>Whether a hook of that name is configured after <paramref name="method"/>.</summary>
    public bool HasAfter(string flowKind, string method, string hookName)
    {
        foreach (var h in AfterHooks(flowKind, method))
        {
            if (h.Hook == hookName) return true;
        }
        return false;
    }

    /// <summary>
    /// Runs <c>before.hooks</c> for a new flow (before it is stored). A hook that interrupts ends the request with a
    /// 400 error carrying its messages, since there is no form yet to show them on.
    /// </summary>
    public async Task RunBeforeAsync(HttpContext http, SelfServiceFlow flow, CancellationToken ct)
    {
        var list = FlowOptionsFor(options, flow.Kind).Before.Hooks;
        if (list.Count == 0) return;
        var context = new HookContext { Http = http, Flow = flow, FlowKind = flow.Kind };
        try
        {
            await RunAsync(list, HookPhase.Before, context, ct);
        }
        catch (FlowHookInterrupt e)
        {
            var messages = new JsonArray([.. e.Messages.Select(m => (JsonNode)m.Message.DeepClone())]);
            throw new GatehouseError(400, e.Message, details: new JsonObject { ["messages"] = messages });
        }
    }

    /// <summary>Runs the after hooks of <paramref name="phase"/> for the context's flow and method.</summary>
    public Task RunAfterAsync(HookPhase phase, HookContext context, CancellationToken ct)
    {
        var list = AfterHooks(context.FlowKind, context.Method ?? "");
        return list.Count == 0 ? Task.CompletedTask : RunAsync(list, phase, context, ct);
    }

    private async Task RunAsync(IReadOnlyList<HookConfig> list, HookPhase phase, HookContext context, CancellationToken ct)
    {
        _byName ??= plugins.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var entry in list)
        {
            // Names without a plug-in (e.g. "verification", which registration and settings run on their own) have no effect.
            if (!_byName.TryGetValue(entry.Hook, out var hook) || !hook.RunsIn(phase, entry)) continue;
            context.Phase = phase;
            var changes = await hook.ExecuteAsync(entry, context, ct);
            if (changes is null) continue;
            if (context.Identity is null)
            {
                // A flow just starting (before hooks) has no identity to change. Kratos dereferences a nil identity here
                // (a panic, so a 500); the flow goes on instead, and the operator learns why the answer did nothing.
                logger.LogWarning("The {Hook} hook of a {Flow} flow answered with identity changes, but the flow has no identity yet ({Phase} phase); they are ignored.", entry.Hook, context.FlowKind, phase);
                continue;
            }
            await ApplyAsync(changes, context, ct);
        }
    }

    /// <summary>
    /// Checks a hook's identity changes — the traits against the identity's schema (or the schema the hook names), a
    /// <c>schema_id</c> that is configured, a valid <c>state</c> — and applies them; an invalid result stops the flow with
    /// the schema's messages (or, for what the receiver got wrong, a 502) and writes nothing. A stored identity is updated
    /// now, a new one when the flow saves it.
    /// </summary>
    private async Task ApplyAsync(IdentityChanges changes, HookContext context, CancellationToken ct)
    {
        var identity = context.Identity!;
        var schema = schemas.Find(changes.SchemaId ?? identity.SchemaId)
            ?? throw new GatehouseError(502, $"The web hook answered with schema_id \"{changes.SchemaId}\", which is not a configured identity schema.");
        if (changes.State is { } state && !IdentityStates.IsValid(state))
            throw new GatehouseError(502, $"The web hook answered with state \"{state}\"; valid states are active and inactive.");
        var traits = changes.Traits ?? (schema.Id != identity.SchemaId ? JsonNode.Parse(identity.Traits) : null);
        if (traits is not null)
        {
            var validation = schema.Validate(traits);
            if (!validation.IsValid)
            {
                var messages = validation.Errors.Select(e =>
                {
                    var node = FlowHookInterrupt.NodeName(e.InstancePointer);
                    return (node is not null && node.StartsWith("traits.", StringComparison.Ordinal) ? node : null, Text.Messages.FromTraitsError(e));
                }).ToList();
                throw new FlowHookInterrupt(messages);
            }
        }
        if (context.IdentityPersisted)
        {
            context.Identity = await identities.ApplyFromHookAsync(identity.Id, changes, ct);
            return;
        }
        context.Changes = context.Changes is null ? changes : context.Changes.Then(changes);
        identities.Apply(identity, changes);
    }
}
