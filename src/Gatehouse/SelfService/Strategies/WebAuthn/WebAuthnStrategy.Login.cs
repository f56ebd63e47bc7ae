using System.Text.Json.Nodes;
using Fido2NetLib.Objects;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.WebAuthn;

public sealed partial class WebAuthnStrategy
{
    public string Aal => Passwordless ? AssuranceLevels.Aal1 : AssuranceLevels.Aal2;

    /// <summary>A submit carrying a key's answer is this method's even without <c>method</c> (webauthn.js submits the form itself).</summary>
    public bool Handles(string? method, JsonObject body) => method == Name || Field(body, "webauthn_login") is not null;

    /// <summary>
    /// Browser flows only. Second factor: the signed-in identity's security keys (hidden identifier, the challenge in the
    /// trigger, the script, the answer field). Passwordless: the identifier (offering keys as autofill) and a "Sign in with
    /// hardware key" submit that first names the account. A refresh asks for the identity's keys of the level refreshed
    /// (Kratos's <c>ToWebAuthnFiltered</c>: passwordless keys for aal1, the others for aal2), and shows nothing without one.
    /// </summary>
    public async Task PopulateAsync(LoginForm form, CancellationToken ct)
    {
        if (!IsBrowser(form.Flow)) return;
        if (form.Refreshing is { } refreshing)
        {
            if (await store.FindConfidentialAsync(refreshing.IdentityId, ct) is not { } identity) return;
            var keys = ForLevel(KeysOf(identity.Credentials).Keys, Passwordless);
            if (keys.Count > 0) AddChallenge(form.Ui, form.Flow, identity, keys);
            return;
        }
        if (!Passwordless)
        {
            if (form.Current is not { } session || await store.FindConfidentialAsync(session.IdentityId, ct) is not { } identity) return;
            var keys = ForLevel(KeysOf(identity.Credentials).Keys, passwordless: false);
            if (keys.Count > 0) AddChallenge(form.Ui, form.Flow, identity, keys);
            return;
        }
        var ui = form.Ui;
        if (ui.Nodes.FirstOrDefault(n => n["attributes"]?["name"]?.GetValue<string>() == "identifier") is { } identifier)
            identifier["attributes"]!["autocomplete"] = "username webauthn";
        else
            ui.Nodes.Insert(0, UiNodes.Input("identifier", "text", UiNodes.DefaultGroup, "", required: true, autocomplete: "username webauthn", label: Messages.LabelId()));
        ui.Nodes.Add(UiNodes.Submit("method", Name, Group, Messages.SignInWithHardwareKey()));
    }

    /// <summary>
    /// The identifier-first login's second screen (Kratos's webauthn <c>PopulateLoginMethodIdentifierFirstCredentials</c>):
    /// browser flows with passwordless keys only; the "Sign in with hardware key" submit (it names the account, then the
    /// form asks for its key) when the identity has a passwordless key — or, with account enumeration mitigated, for every
    /// identifier. Found only with such a key. The first screen has nothing of this method's (Kratos).
    /// </summary>
    public Task<bool> PopulateIdentifierFirstCredentialsAsync(LoginForm form, IdentifierFirstHint hint, CancellationToken ct)
    {
        if (!IsBrowser(form.Flow) || !Passwordless) return Task.FromResult(false);
        var count = hint.Identity?.Credentials.Where(c => c.Type == CredentialTypes.WebAuthn).Sum(CountKind.CountFirstFactor) ?? 0;
        if (count > 0 || hint.MitigateEnumeration) form.Ui.Nodes.Add(UiNodes.Submit("method", Name, Group, Messages.SignInWithHardwareKey()));
        return Task.FromResult(count > 0);
    }

    private static readonly WebAuthnCredentials CountKind = new();

    /// <summary>Kratos's <c>populateLoginMethod</c>: a new assertion for <paramref name="keys"/> and the nodes that run it.</summary>
    private void AddChallenge(UiContainer ui, SelfServiceFlow flow, Identity identity, List<WebAuthnKey> keys, JsonObject? label = null)
    {
        var (clientOptions, state) = RelyingParty.BeginAssertion(keys, UserVerificationRequirement.Discouraged);
        var shown = clientOptions.ToJsonString();
        PendingCeremony.Keep(flow, Name, state, shown);
        var identifier = KeysOf(identity.Credentials).Credential?.Identifiers.FirstOrDefault()?.Identifier;
        if (identifier is not null)
        {
            ui.Nodes.RemoveAll(n => n["attributes"]?["name"]?.GetValue<string>() == "identifier");
            ui.Nodes.Insert(0, UiNodes.Input("identifier", "hidden", UiNodes.DefaultGroup, identifier));
        }
        ui.Nodes.RemoveAll(n => n["attributes"]?["name"]?.GetValue<string>() is "webauthn_login" or "webauthn_login_trigger");
        ui.Nodes.Add(UiNodes.Input("webauthn_login", "hidden", Group, ""));
        AddScript(ui);
        ui.Nodes.Add(Trigger("webauthn_login_trigger", "oryWebAuthnLogin", shown, label ?? Messages.SignInWithHardwareKey()));
    }

    /// <summary>
    /// Kratos's webauthn <c>Login</c>. Second factor: the session's identity, its non-passwordless keys. Passwordless: the
    /// identifier names the account (unknown → 4000015); without an answer yet, the form comes back (303, or 422 for a
    /// SPA) with the account's challenge and 1010012. An answer that is not an assertion: 4000001, nothing spent. The
    /// answer must match this flow's challenge (spent here, once): 4000008 otherwise, with a fresh challenge on the form.
    /// </summary>
    public async Task<Identity?> AuthenticateAsync(LoginSubmission submission, CancellationToken ct)
    {
        var (ui, flow, body) = (submission.Ui, submission.Flow, submission.Body);
        if (!IsBrowser(flow))
        {
            ui.Messages.Add(Messages.LoginNoStrategy()); // Kratos: browser flows only
            return null;
        }
        var response = Field(body, "webauthn_login");

        Identity? identity;
        if (flow.Refresh || !Passwordless)
        {
            var id = flow.Refresh ? flow.IdentityId : submission.Current?.IdentityId;
            identity = id is { } known ? await store.FindConfidentialAsync(known, ct) : null;
            if (identity is null) throw new GatehouseError(401, "No valid session was found.", "session_inactive");
        }
        else
        {
            var identifier = (FormBody.String(body, "identifier") ?? "").Trim();
            if (identifier.Length == 0)
            {
                // Kratos's bad request, shown on the form (4000001).
                ui.Messages.Add(Messages.Generic("identifier is required"));
                return null;
            }
            identity = await store.FindByIdentifierAsync(CredentialTypes.WebAuthn, Schemas.IdentifierNormalizer.Graceful(identifier), ct);
            var passwordlessKeys = identity is null ? [] : ForLevel(KeysOf(identity.Credentials).Keys, passwordless: true);
            if (identity is null || passwordlessKeys.Count == 0)
            {
                ui.Messages.Add(Messages.NoWebAuthnUser());
                return null;
            }
            if (response is null)
            {
                // Step one: the account is known; show its challenge (Kratos's form for the second step) and send the browser there.
                ui.Nodes.RemoveAll(n => n["attributes"]?["name"]?.GetValue<string>() is not "csrf_token");
                // Kratos labels this step's button "Continue" (1010013).
                AddChallenge(ui, flow, identity, passwordlessKeys, Messages.ContinueWithKey());
                ui.Messages.Add(Messages.PrepareWebAuthnDevice());
                if (FlowService.WantsJson(submission.Http.Request))
                {
                    flow.Ui = ui.ToJson().ToJsonString();
                    await flows.UpdateAsync(flow, ct);
                    throw FlowResponder.BrowserLocationChangeRequired(flows.UiUrlFor(flow));
                }
                return null; // the flow answers an HTML browser with a 303 to the form
            }
        }

        // Only the keys of this flow's level answer (a refresh too: the keys its form offered).
        var (credential, all) = KeysOf(identity.Credentials);
        var usable = ForLevel(all, Passwordless);
        if (credential is null || usable.Count == 0)
        {
            ui.Messages.Add(Messages.NoWebAuthnDevice());
            return null;
        }
        if (response is null)
        {
            ui.AddMessage("webauthn_login", Messages.Required("webauthn_login"));
            return null;
        }
        // As Kratos: an answer that is not a WebAuthn assertion is a bad request (4000001 on the form); nothing is spent.
        if (WebAuthnRelyingParty.Claimed(response) is null)
        {
            ui.Messages.Add(Messages.WebAuthnLoginUnparsable());
            return null;
        }
        var state = await SpendAsync(flow, ct);
        var result = state is null ? null : await RelyingParty.FinishAssertionAsync(state, response, usable, UserHandleOf(credential, identity.Id), flows.Now(), ct);
        if (result?.Value is not { } used)
        {
            logger.LogInformation("Security key sign-in refused for identity {IdentityId}: {Reason}", identity.Id, result?.Reason ?? "the challenge was spent");
            if (result?.Flagged is { } cloned) await WebAuthnKeyUse.SaveAsync(store, credential, cloned, flows.Now(), ct);
            ui.Messages.Add(Messages.WebAuthnInvalid());
            AddChallenge(ui, flow, identity, usable, flow.Refresh || !Passwordless ? null : Messages.ContinueWithKey());
            return null;
        }
        if (!await WebAuthnKeyUse.SaveAsync(store, credential, used, flows.Now(), ct))
        {
            ui.Messages.Add(Messages.WebAuthnInvalid());
            AddChallenge(ui, flow, identity, usable, flow.Refresh || !Passwordless ? null : Messages.ContinueWithKey());
            return null;
        }
        if (submission.Refusal(identity) is { } refused)
        {
            ui.Messages.Add(refused);
            return null;
        }
        return identity;
    }
}
