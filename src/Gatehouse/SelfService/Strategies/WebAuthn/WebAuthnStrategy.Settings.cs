using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.WebAuthn;

public sealed partial class WebAuthnStrategy
{
    /// <summary>
    /// Kratos's webauthn settings nodes (browser flows): one <c>webauthn_remove</c> per key (1050018 with its name; a
    /// passwordless key is disabled while it is the last first factor), the new key's name (1050013), the hidden answer
    /// field, the "Add security key" trigger (1050012) with the options inline, and the script.
    /// </summary>
    public void Populate(SettingsForm form)
    {
        var (ui, flow, identity) = (form.Ui, form.Flow, form.Identity);
        if (!IsBrowser(flow)) return;
        var (credential, keys) = KeysOf(identity.Credentials);
        var firstFactors = kinds.CountFirstFactor(identity);
        foreach (var key in keys)
        {
            var remove = UiNodes.Submit("webauthn_remove", key.HexId, Group, Messages.RemoveSecurityKey(key.DisplayName is { Length: > 0 } n ? n : "unnamed", key.AddedAt));
            remove["attributes"]!["disabled"] = key.IsPasswordless && firstFactors < 2;
            ui.Nodes.Add(remove);
        }
        var shown = PendingCeremony.Find(flow, Name)?.Shown
            ?? NewRegistrationOptions(flow, UserHandleOf(credential, identity.Id), keys.Select(k => k.Id), IdentifierOf(form.Schema, identity) ?? "");
        ui.Nodes.Add(UiNodes.Input("webauthn_register_displayname", "text", Group, "", label: Messages.LabelSecurityKeyName()));
        ui.Nodes.Add(UiNodes.Input("webauthn_register", "hidden", Group, ""));
        ui.Nodes.Add(Trigger("webauthn_register_trigger", "oryWebAuthnRegistration", shown, Messages.AddSecurityKey()));
        AddScript(ui);
    }

    /// <summary>
    /// Kratos's <c>ErrNotEnoughCredentials</c> (4000001), which Kratos reports for the field <c>webauthn_remove</c> — for
    /// security keys and passkeys alike: on the first <c>webauthn_remove</c> node, or, where the form has none (a passkey
    /// settings form without security keys), on a new default-group text node of that name, as Kratos's form adds one.
    /// </summary>
    public static void AddNotEnoughCredentials(UiContainer ui)
    {
        ui.AddMessage("webauthn_remove", Messages.NotEnoughCredentials());
    }

    private static string? IdentifierOf(Schemas.IdentitySchema schema, Identity identity) =>
        schema.Validate(JsonNode.Parse(identity.Traits)).CredentialIdentifiers.TryGetValue(CredentialTypes.WebAuthn, out var ids) && ids.Count > 0 ? ids[0] : null;

    bool ISettingsStrategy.Handles(string? method, JsonObject body) =>
        method == Name || Field(body, "webauthn_register") is not null || Field(body, "webauthn_remove") is not null;

    /// <summary>
    /// Kratos's webauthn <c>Settings</c>: a privileged session; <c>webauthn_remove</c> (hex id) removes a key (not the
    /// last first factor); <c>webauthn_register</c> adds the key answering this flow's options (spent here, once), named by
    /// <c>webauthn_register_displayname</c>, passwordless as the method is configured, and completes the method on the session.
    /// </summary>
    public async Task UpdateAsync(SettingsSubmission submission, CancellationToken ct)
    {
        var (ui, body, flow) = (submission.Ui, submission.Body, submission.Flow);
        var register = Field(body, "webauthn_register");
        var remove = Field(body, "webauthn_remove");
        if (!IsBrowser(flow) || (register is null && remove is null))
        {
            ui.Messages.Add(Messages.SettingsNoStrategy());
            await submission.RespondAsync(400, ct);
            return;
        }
        if (!await submission.EnsurePrivilegedAsync(ct)) return;
        var identity = await store.FindConfidentialAsync(submission.Identity.Id, ct) ?? submission.Identity;
        var (credential, keys) = KeysOf(identity.Credentials);
        if (remove is not null)
        {
            var target = keys.FirstOrDefault(k => string.Equals(k.HexId, remove, StringComparison.OrdinalIgnoreCase));
            // As Kratos: bad requests shown on the form as 4000001 (400 with the flow; HTML browsers 303 to it), nothing changed.
            if (credential is null || target is null)
            {
                ui.Messages.Add(Messages.Generic(credential is null
                    ? "You tried to remove a WebAuthn but you have no WebAuthn set up."
                    : "You tried to remove a WebAuthn credential which does not exist."));
                await submission.RespondAsync(400, ct);
                return;
            }
            if (target.IsPasswordless && kinds.CountFirstFactor(identity) < 2)
            {
                AddNotEnoughCredentials(ui);
                await submission.RespondAsync(400, ct);
                return;
            }
            await SettingsChange.SaveAsync(submission, Name, hooks, () =>
            {
                var config = JsonNode.Parse(credential.Config) as JsonObject ?? [];
                config["credentials"] = new JsonArray([.. (config["credentials"] as JsonArray ?? []).OfType<JsonObject>()
                    .Where(e => WebAuthnKey.FromJson(e)?.HexId is not { } hex || !string.Equals(hex, remove, StringComparison.OrdinalIgnoreCase))
                    .Select(e => (JsonNode)e.DeepClone())]);
                return identities.SetCredentialAsync(identity.Id, CredentialTypes.WebAuthn, config, [.. credential.Identifiers.Select(i => i.Identifier)], ct);
            }, ct);
            return;
        }

        var identifier = IdentifierOf(submission.Schema, identity);
        if (Passwordless && identifier is null)
        {
            ui.Messages.Add(Messages.IdentifierMissing());
            await submission.RespondAsync(400, ct);
            return;
        }
        if (WebAuthnResponseShape.AttestationProblem(register!) is { } problem)
        {
            // As Kratos: refused before the challenge is touched; the form keeps its options.
            ui.Messages.Add(Messages.WebAuthnResponseUnparsable(problem));
            await submission.RespondAsync(400, ct);
            return;
        }
        var state = await SpendAsync(flow, ct);
        var result = state is null ? null : await RelyingParty.FinishRegistrationAsync(state, register!, Passwordless, flows.Now(), ct);
        JsonObject? refusal = result?.Value is not { } key
            ? result?.RegistrationRefusal() ?? Messages.WebAuthnRegistrationFailed("the challenge of this flow was already used; please try again")
            : keys.Exists(k => k.Id.AsSpan().SequenceEqual(key.Id)) ? Messages.KeyAlreadyRegistered() : null;
        if (refusal is not null)
        {
            logger.LogInformation("Adding a security key refused for identity {IdentityId}: {Reason}", identity.Id, refusal["text"]);
            var shown = NewRegistrationOptions(flow, UserHandleOf(credential, identity.Id), keys.Select(k => k.Id), identifier ?? "");
            var index = ui.Nodes.FindIndex(n => n["attributes"]?["name"]?.GetValue<string>() == "webauthn_register_trigger");
            if (index >= 0) ui.Nodes[index] = Trigger("webauthn_register_trigger", "oryWebAuthnRegistration", shown, Messages.AddSecurityKey());
            ui.Messages.Add(refusal);
            await submission.RespondAsync(400, ct);
            return;
        }
        var added = result!.Value!;
        added.DisplayName = (FormBody.String(body, "webauthn_register_displayname") ?? "").Trim();
        var stored = credential is not null && JsonNode.Parse(credential.Config) is JsonObject existing ? existing : new JsonObject();
        if (stored["credentials"] is not JsonArray list) stored["credentials"] = list = [];
        list.Add(added.ToJson());
        stored["user_handle"] = Convert.ToBase64String(UserHandleOf(credential, identity.Id));
        var identifiers = credential?.Identifiers.Select(i => i.Identifier).ToList() ?? [];
        if (identifier is not null && !identifiers.Contains(identifier)) identifiers.Add(identifier);
        await SettingsChange.SaveAsync(submission, Name, hooks, async () =>
        {
            var updated = await identities.SetCredentialAsync(identity.Id, CredentialTypes.WebAuthn, stored, identifiers, ct);
            await sessions.AddMethodAsync(submission.Session, new AuthenticationMethod(Name, Aal, flows.Now()), ct);
            return updated;
        }, ct);
    }
}
