using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Profile;

public sealed partial class ProfileStrategy
{
    public void Populate(SettingsForm form)
    {
        foreach (var node in UiNodes.Traits(form.Schema, JsonNode.Parse(form.Identity.Traits)))
        {
            node["group"] = UiNodes.ProfileGroup;
            form.Ui.Nodes.Add(node);
        }
        form.Ui.Nodes.Add(UiNodes.Submit("method", Name, UiNodes.ProfileGroup, Messages.Save()));
    }

    /// <summary>
    /// New traits, validated by the identity schema as the admin API does. Changing a credential identifier needs a
    /// privileged (recent) session.
    /// </summary>
    public async Task UpdateAsync(SettingsSubmission submission, CancellationToken ct)
    {
        var (http, flow, session, identity, schema, ui) = (submission.Http, submission.Flow, submission.Session, submission.Identity, submission.Schema, submission.Ui);
        var traits = TraitValues.Coerce(schema, submission.Body["traits"]) ?? new JsonObject();
        foreach (var field in schema.TraitFields) ui.SetValue(field.Name, UiNodes.Lookup(traits, field.Name));
        var validation = schema.Validate(traits);
        if (!validation.IsValid)
        {
            FlowService.AddTraitErrors(ui, validation.Errors);
            await submission.RespondAsync(400, ct);
            return;
        }
        // Credential identifiers, verification and recovery addresses are write-protected: changing them needs a recent
        // sign-in (Kratos's identity.Manager requiresPrivilegedAccess), or an old session could redirect recovery mail.
        var before = schema.Validate(JsonNode.Parse(identity.Traits));
        var changed = !SameIdentifiers(before.CredentialIdentifiers, validation.CredentialIdentifiers)
            || !SameAddresses(before.VerifiableAddresses, validation.VerifiableAddresses)
            || !SameAddresses(before.RecoveryAddresses, validation.RecoveryAddresses);
        if (changed && !await submission.EnsurePrivilegedAsync(ct)) return;
        // Pre-persist hooks see the identity with the new traits before it is saved; a web hook with response.parse may
        // change it (traits and metadata whole, state, …) or stop the change.
        var hookContext = new HookContext { Http = http, Flow = flow, FlowKind = FlowKinds.Settings, Method = Name, Session = session };
        if (hooks.AfterHooks(FlowKinds.Settings, Name).Count > 0)
        {
            var pending = await identities.GetAsync(identity.Id, ct);
            pending.Traits = traits.ToJsonString();
            hookContext.Identity = pending;
            if (!await submission.RunPrePersistHooksAsync(hookContext, ct)) return;
        }
        Identity updated;
        try
        {
            updated = hookContext.Changes is { } changes
                ? await identities.ApplyFromHookAsync(identity.Id, changes with { Traits = changes.Traits ?? traits }, ct)
                : await identities.UpdateTraitsAsync(identity.Id, traits, ct);
        }
        catch (GatehouseError e) when (e.Code == 409)
        {
            ui.Messages.Add(Messages.DuplicateCredentials());
            await submission.RespondAsync(400, ct);
            return;
        }
        await submission.AfterTraitsChangedAsync(identity, updated, hookContext, ct);
        hookContext.Previous = identity;
        hookContext.Identity = updated;
        hookContext.IdentityPersisted = true;
        await hooks.RunAfterAsync(HookPhase.PostPersist, hookContext, ct);
        submission.ContinueWith.AddRange(hookContext.ContinueWith);
        await submission.SucceedAsync(hookContext.Identity, hookContext.RedirectBrowserTo, ct);
    }

    private static bool SameAddresses(IReadOnlyList<Schemas.AddressSpec> a, IReadOnlyList<Schemas.AddressSpec> b) =>
        a.Count == b.Count && a.ToHashSet().SetEquals(b);

    private static bool SameIdentifiers(IReadOnlyDictionary<string, IReadOnlyList<string>> a, IReadOnlyDictionary<string, IReadOnlyList<string>> b)
    {
        var keys = a.Keys.Union(b.Keys);
        return keys.All(k => (a.TryGetValue(k, out var x) ? x.Order() : Enumerable.Empty<string>()).SequenceEqual(b.TryGetValue(k, out var y) ? y.Order() : Enumerable.Empty<string>()));
    }
}
