using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Strategies.WebAuthn;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Passkey;

public sealed partial class PasskeyStrategy
{
    public string Aal => AssuranceLevels.Aal1;

    /// <summary>A submit carrying a passkey answer is this method's even without <c>method</c> (webauthn.js submits the form itself).</summary>
    public bool Handles(string? method, JsonObject body) => method == Name || Field(body, "passkey_login") is not null;

    /// <summary>
    /// Kratos's passkey login nodes: the identifier (offering passkeys as autofill, <c>username webauthn</c>), the
    /// discoverable-credential challenge, the script, the hidden answer field (starting autofill on load) and the button.
    /// A refresh asks for one of the signed-in identity's passkeys, if it has any.
    /// </summary>
    public async Task PopulateAsync(LoginForm form, CancellationToken ct)
    {
        var (ui, flow) = (form.Ui, form.Flow);
        if (form.Refreshing is { } session)
        {
            var (_, keys) = PasskeysOf(await store.CredentialsOfAsync(session.IdentityId, ct));
            if (keys.Count == 0) return;
            AddChallenge(ui, flow, keys);
            AddScript(ui, flow);
            ui.Nodes.Add(UiNodes.Input("passkey_login", "hidden", Group));
            ui.Nodes.Add(LoginTrigger(flow));
            return;
        }
        AddDiscoverableLogin(ui, flow);
        ui.Nodes.Add(LoginTrigger(flow));
    }

    /// <summary>
    /// The identifier-first login's first screen (Kratos's passkey <c>PopulateLoginMethodIdentifierFirstIdentification</c>):
    /// the discoverable-login nodes without the button — the identifier offers passkeys as autofill (conditional
    /// mediation), so a user with a passkey signs in without going to the second screen.
    /// </summary>
    public Task PopulateIdentifierFirstIdentificationAsync(LoginForm form, CancellationToken ct)
    {
        AddDiscoverableLogin(form.Ui, form.Flow, keepPending: true);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The identifier-first login's second screen (Kratos's passkey <c>PopulateLoginMethodIdentifierFirstCredentials</c>):
    /// the "Sign in with passkey" button when the identity has a passkey — or, with account enumeration mitigated, for
    /// every identifier (the button starts a discoverable login, which names no account). Found only with a passkey.
    /// </summary>
    public Task<bool> PopulateIdentifierFirstCredentialsAsync(LoginForm form, IdentifierFirstHint hint, CancellationToken ct)
    {
        var count = hint.Identity?.Credentials.Where(c => c.Type == CredentialTypes.Passkey).Sum(CountKind.CountFirstFactor) ?? 0;
        if (count > 0 || hint.MitigateEnumeration) form.Ui.Nodes.Add(LoginTrigger(form.Flow));
        return Task.FromResult(count > 0);
    }

    private static readonly PasskeyCredentials CountKind = new();

    /// <summary>
    /// Kratos's <c>populateLoginMethodForPasskeys</c>: the identifier offering passkeys as autofill (<c>username webauthn</c>),
    /// a discoverable-credential challenge, the script (browser flows) and the hidden answer field that starts autofill on load.
    /// </summary>
    /// <param name="keepPending">
    /// Keep the challenge the flow already waits for (the identifier-first login builds its second screen from the first:
    /// as in Kratos, where the first screen's nodes stay, the challenge shown there stays valid until it is answered).
    /// </param>
    private void AddDiscoverableLogin(UiContainer ui, SelfServiceFlow flow, bool keepPending = false)
    {
        var identifier = ui.Nodes.FirstOrDefault(n => n["attributes"]?["name"]?.GetValue<string>() == "identifier");
        if (identifier is null)
        {
            var csrf = ui.Nodes.FindIndex(n => n["attributes"]?["name"]?.GetValue<string>() == "csrf_token");
            ui.Nodes.Insert(csrf + 1, UiNodes.Input("identifier", "text", UiNodes.DefaultGroup, "", required: true, autocomplete: "username webauthn", label: Messages.LabelId()));
        }
        else
        {
            identifier["attributes"]!["autocomplete"] = "username webauthn";
        }
        if (keepPending && Pending(flow) is { } pending) ui.Nodes.Add(UiNodes.Input("passkey_challenge", "hidden", Group, pending.Shown));
        else AddChallenge(ui, flow, []);
        AddScript(ui, flow);
        var login = UiNodes.Input("passkey_login", "hidden", Group);
        if (IsBrowser(flow)) login["attributes"]!["onload"] = "window.oryPasskeyLoginAutocompleteInit()";
        login["attributes"]!["onloadTrigger"] = "oryPasskeyLoginAutocompleteInit";
        ui.Nodes.Add(login);
    }

    private static JsonObject LoginTrigger(SelfServiceFlow flow)
    {
        var trigger = UiNodes.Input("passkey_login_trigger", "button", Group, "", label: Messages.SignInWithPasskey());
        // API flows carry no inline script; the trigger names the function for apps that call it themselves.
        if (IsBrowser(flow)) trigger["attributes"]!["onclick"] = "window.oryPasskeyLogin()";
        trigger["attributes"]!["onclickTrigger"] = "oryPasskeyLogin";
        return trigger;
    }

    /// <summary>A new assertion challenge for the flow (kept in its internal context) and the <c>passkey_challenge</c> node showing it.</summary>
    private void AddChallenge(UiContainer ui, SelfServiceFlow flow, IReadOnlyList<WebAuthnKey> allow)
    {
        var (clientOptions, state) = RelyingParty.BeginAssertion(allow, Verification);
        var shown = clientOptions.ToJsonString();
        KeepPending(flow, state, shown);
        var index = ui.Nodes.FindIndex(n => n["attributes"]?["name"]?.GetValue<string>() == "passkey_challenge");
        var node = UiNodes.Input("passkey_challenge", "hidden", Group, shown);
        if (index >= 0) ui.Nodes[index] = node;
        else ui.Nodes.Add(node);
    }

    /// <summary>
    /// Kratos's passkey <c>Login</c>: the authenticator's user handle names the account (a passkey credential with that
    /// identifier, else a webauthn credential with that <c>user_handle</c>); the assertion must answer this flow's
    /// challenge (spent here, once) from an allowed origin for the RP id, signed by one of the account's passwordless keys
    /// with a growing signature count. Refusals: 4000001 for an answer that is not an assertion (nothing spent), 4000015
    /// for an unknown handle, 4000008 for an answer that does not verify; the form comes back with a fresh challenge.
    /// </summary>
    public async Task<Identity?> AuthenticateAsync(LoginSubmission submission, CancellationToken ct)
    {
        var (ui, flow, body) = (submission.Ui, submission.Flow, submission.Body);
        if (Field(body, "passkey_login") is not { } response)
        {
            // As Kratos: a passkey submit without an answer (the button pressed where the script did not run) sends the
            // browser back to the login form — JSON clients get 422 browser_location_change_required — and proves nothing.
            submission.RedirectBrowserTo = flows.UiUrlFor(flow);
            return null;
        }
        // As Kratos: an answer that is not a WebAuthn assertion at all is a bad request (400 with the form, 4000001),
        // and changes nothing — the challenge stays as it was.
        if (WebAuthnRelyingParty.ParseAssertion(response) is not { } claimed)
        {
            ui.Messages.Add(Messages.WebAuthnLoginUnparsable());
            return null;
        }
        var keysShown = flow.Refresh && flow.IdentityId is { } refreshed ? PasskeysOf(await store.CredentialsOfAsync(refreshed, ct)).Keys : [];
        var state = await SpendAsync(flow, ct);
        var (identity, credential, keys) = await FindByUserHandleAsync(claimed.UserHandle, ct);
        if (identity is null || credential is null)
        {
            Refuse(ui, flow, keysShown, Messages.NoWebAuthnUser());
            return null;
        }
        if (state is null)
        {
            Refuse(ui, flow, keysShown, Messages.WebAuthnInvalid());
            return null;
        }
        var now = flows.Now();
        var result = await RelyingParty.FinishAssertionAsync(state, claimed, keys, claimed.UserHandle, now, ct);
        if (result.Value is not { } used)
        {
            logger.LogInformation("Passkey sign-in refused for identity {IdentityId}: {Reason}", identity.Id, result.Reason);
            if (result.Flagged is { } cloned) await SaveKeyAsync(credential, cloned, ct);
            Refuse(ui, flow, keysShown, Messages.WebAuthnInvalid());
            return null;
        }
        if (!await SaveKeyAsync(credential, used, ct))
        {
            // Another sign-in with this key got there first with a count at least as high: one of the two is a clone.
            Refuse(ui, flow, keysShown, Messages.WebAuthnInvalid());
            return null;
        }
        if (submission.Refusal(identity) is { } refused)
        {
            ui.Messages.Add(refused);
            return null;
        }
        return identity;
    }

    /// <summary>
    /// The account a discoverable answer's user handle names, the credential holding its keys and the keys that may answer:
    /// a passkey credential with the handle as identifier, else (Kratos's migration path) a webauthn credential whose
    /// <c>user_handle</c> it is — its passwordless keys only (Kratos's <c>PasswordlessOnly</c>).
    /// </summary>
    private async Task<(Identity? Identity, IdentityCredential? Credential, List<WebAuthnKey> Keys)> FindByUserHandleAsync(byte[]? handle, CancellationToken ct)
    {
        if (handle is not { Length: > 0 }) return (null, null, []);
        if (await store.FindByIdentifierAsync(CredentialTypes.Passkey, CredentialImport.PasskeyIdentifier(handle), ct) is { } identity)
        {
            var (passkey, passkeys) = PasskeysOf(identity.Credentials);
            return (identity, passkey, [.. passkeys.Where(k => k.IsPasswordless)]);
        }
        if (await store.FindByWebAuthnUserHandleAsync(handle, ct) is not { } owner) return (null, null, []);
        var webauthn = owner.Credentials.FirstOrDefault(c => c.Type == CredentialTypes.WebAuthn);
        return (owner, webauthn, webauthn is null ? [] : [.. WebAuthnKey.ListFrom(webauthn.Config).Where(k => k.IsPasswordless)]);
    }

    /// <summary>The refusal on the form, with a fresh challenge in place of the spent one.</summary>
    private void Refuse(UiContainer ui, SelfServiceFlow flow, IReadOnlyList<WebAuthnKey> allow, JsonObject message)
    {
        ui.Messages.Add(message);
        AddChallenge(ui, flow, allow);
    }

    private Task<bool> SaveKeyAsync(IdentityCredential credential, WebAuthnKey key, CancellationToken ct) =>
        WebAuthnKeyUse.SaveAsync(store, credential, key, flows.Now(), ct);
}
