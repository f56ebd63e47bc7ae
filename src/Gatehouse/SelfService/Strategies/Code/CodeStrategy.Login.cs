using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Code;

/// <summary>
/// Passwordless login (Kratos's <c>code/strategy_login.go</c>): <c>{method: code, identifier}</c> mails a code to the
/// identity's <c>code</c> credential address and moves the flow to <c>sent_email</c> (JSON clients: 400 with the flow);
/// <c>{method: code, identifier, code}</c> signs in (aal1, AMR <c>code</c>); <c>resend: code</c> mails a new code and the
/// old one stops working.
/// </summary>
public sealed partial class CodeStrategy
{
    private const string LoginKind = "login_code";

    /// <summary>Where the flow keeps, between the two steps, the address and identity the login code was sent for.</summary>
    private const string LoginContextKey = "code_login";

    private bool Passwordless => options.Selfservice.Methods.Code.PasswordlessEnabled;

    private bool Mfa => options.Selfservice.Methods.Code.MfaEnabled;

    /// <summary>A passwordless code is a first factor; as a second factor (<c>mfa_enabled</c>) it is aal2 (Kratos's <c>CompletedAuthenticationMethod</c>).</summary>
    public string Aal => Mfa ? AssuranceLevels.Aal2 : AssuranceLevels.Aal1;

    /// <summary>
    /// <c>feature_flags.refresh_login_choose_address</c>: a refresh offers one "Send code to …" button per address of the
    /// signed-in identity instead of asking for an identifier again (the identity is the session's anyway).
    /// </summary>
    private bool RefreshChoosesAddress => options.FeatureFlags.RefreshLoginChooseAddress;

    public async Task PopulateAsync(LoginForm form, CancellationToken ct)
    {
        if (Mfa)
        {
            await PopulateSecondFactorAsync(form, ct);
            return;
        }
        if (!Passwordless) return;
        if (form.Refreshing is { } refreshing && RefreshChoosesAddress)
        {
            // Kratos's buttons are those of the second factor (1010023); an identity without a code address gets none,
            // and another first factor (a password) refreshes it.
            if (await identities.FindConfidentialAsync(refreshing.IdentityId, ct) is { } identity)
            {
                foreach (var address in Candidates(identity))
                    form.Ui.Nodes.Add(UiNodes.Submit("address", address.Address, Name, Messages.SendCodeTo(address.Address, address.Channel)));
            }
            return;
        }
        // One identifier field serves every first-factor method (the password method may have put it there already).
        if (form.Ui.Find("identifier") is null)
            form.Ui.Nodes.Insert(0, UiNodes.Input("identifier", "text", UiNodes.DefaultGroup, "", required: true, label: Messages.LabelId()));
        form.Ui.Nodes.Add(UiNodes.Submit("method", Name, Name, Messages.SendSignInCode()));
    }

    /// <summary>
    /// The identifier-first login's second screen: with passwordless codes anyone the identifier names may ask for one
    /// (Kratos counts that as credentials found); an identifier naming no identity gets the button only when account
    /// enumeration is mitigated. The identifier node is the identifier-first method's.
    /// </summary>
    public Task<bool> PopulateIdentifierFirstCredentialsAsync(LoginForm form, IdentifierFirstHint hint, CancellationToken ct)
    {
        if (Mfa || !Passwordless || (hint.Identity is null && !hint.MitigateEnumeration)) return Task.FromResult(false);
        form.Ui.Nodes.Add(UiNodes.Submit("method", Name, Name, Messages.SendSignInCode()));
        return Task.FromResult(true);
    }

    public async Task<Identity?> AuthenticateAsync(LoginSubmission submission, CancellationToken ct)
    {
        var (flow, ui, body) = (submission.Flow, submission.Ui, submission.Body);
        if (!Mfa && !Passwordless)
        {
            // Kratos's code strategy is not responsible for logins unless passwordless or MFA is on.
            ui.Messages.Add(Messages.LoginNoStrategy());
            return null;
        }
        if (Mfa) return await AuthenticateSecondFactorAsync(submission, ct);
        var identifier = (FormBody.String(body, "identifier") ?? "").Trim();
        var resend = FormBody.String(body, "resend") == Name;
        if (flow.State == FlowStates.SentEmail && !resend) return await VerifyLoginCodeAsync(submission, identifier, ct);

        // A refresh's address button posts the address and no method: only the refresh address picker sends that.
        var picked = false;
        if (identifier.Length == 0 && (FormBody.String(body, "address") ?? "").Trim() is { Length: > 0 } chosen)
        {
            if (FormBody.String(body, "method") is null && !(flow.Refresh && RefreshChoosesAddress))
            {
                ui.Messages.Add(Messages.LoginNoStrategy());
                return null;
            }
            identifier = chosen;
            picked = true;
        }

        if (identifier.Length == 0)
        {
            ui.SetValue("identifier", "");
            ui.AddMessage("identifier", Messages.Required("identifier"));
            return null;
        }
        var normalized = Schemas.IdentifierNormalizer.Graceful(identifier);
        var identity = await identities.FindByIdentifierAsync(CredentialTypes.Code, normalized, ct);
        var address = identity is null ? null : AddressOf(identity, normalized);
        // A refresh signs in its session's identity again: an identifier naming anybody else gets the answer an unknown
        // one gets, and nothing is sent to that person (Kratos since ory/kratos#4194).
        if (identity is null || address is null || (flow.Refresh && flow.IdentityId != identity.Id))
        {
            // Kratos answers an identifier without a code credential with 4000035 and mails nothing.
            ui.SetValue("identifier", identifier);
            ui.Messages.Add(Messages.NoCodeUser());
            return null;
        }
        // A disabled identity is refused once the code proves the address, as in Kratos.
        await SendLoginCodeAsync(flow, identity, address, ct);
        if (picked)
        {
            ShowSecondFactorSent(ui, address);
            return null;
        }
        ui.SetValue("identifier", identifier);
        ShowSent(ui, Messages.LabelLoginCode(), Messages.LoginCodeSent(), login: true);
        return null;
    }

    /// <summary>
    /// Kratos's <c>FastLogin1FA</c>: on the identifier-first login's second screen, when passwordless codes are on and
    /// the identity has no other first factor of an enabled method, the code is sent at once and the screen becomes the
    /// code entry (the flow moves to <c>sent_email</c>). Never with <c>security.account_enumeration.mitigate</c>: Kratos
    /// still does it there when the code is the only enabled method, and so answers an account that exists differently
    /// from one that does not; Gatehouse keeps the second screen the same for every identifier.
    /// </summary>
    public async Task<bool> FastFirstFactorLoginAsync(LoginSubmission submission, IdentifierFirstHint hint, UiContainer screen, CancellationToken ct)
    {
        var flow = submission.Flow;
        if (Mfa || !Passwordless || hint.MitigateEnumeration || hint.Identity is not { } identity || flow.State != FlowStates.ChooseMethod) return false;
        if (flow.Refresh && flow.IdentityId != identity.Id) return false;
        if (FirstFactors(identity, Name) == 0) return false;
        foreach (var method in submission.Methods)
        {
            if (method.Name != Name && FirstFactors(identity, method.Name) > 0) return false;
        }
        var normalized = Schemas.IdentifierNormalizer.Graceful(hint.Identifier);
        if (AddressOf(identity, normalized) is not { } address) return false;
        await SendLoginCodeAsync(flow, identity, address, ct);
        screen.SetValue("identifier", hint.Identifier);
        ShowSent(screen, Messages.LabelLoginCode(), Messages.LoginCodeSent(), login: true);
        flow.Active = Name;
        return true;
    }

    /// <summary>The identity's first factors of one credential type (0 for a method without credentials).</summary>
    private int FirstFactors(Identity identity, string type) =>
        kinds.Find(type) is { } kind ? identity.Credentials.Where(c => c.Type == type).Sum(kind.CountFirstFactor) : 0;

    /// <summary>
    /// Sends a new login code by e-mail or SMS (the courier's <c>login_code_valid</c> template, model <c>{to, login_code,
    /// identity, request_url, transient_payload, expires_in_minutes}</c> as Kratos's) and moves the flow to
    /// <c>sent_email</c> (Kratos's state for either channel), remembering the address and identity; earlier codes of the
    /// flow stop working.
    /// </summary>
    private async Task SendLoginCodeAsync(SelfServiceFlow flow, Identity identity, CodeAddress to, CancellationToken ct)
    {
        var address = to.Address;
        await codes.CountMailAsync(address, ct);
        var secret = OneTimeCodes.NewCode();
        await codes.CreateAsync(flow.Id, identity.Id, LoginKind, address, to.Channel, secret, Lifespan, ct);
        var model = new JsonObject
        {
            ["to"] = address,
            ["login_code"] = secret,
            ["identity"] = identityJson.ToNode(identity, IdentityView.Public),
            ["request_url"] = flow.RequestUrl,
            ["expires_in_minutes"] = (int)Math.Ceiling(Lifespan.TotalMinutes),
        };
        if (flow.TransientPayload is { } payload) model["transient_payload"] = JsonNode.Parse(payload);
        await courier.QueueAsync(to.Channel, "login_code_valid", address, model, ct);

        var context = Context(flow);
        context[LoginContextKey] = new JsonObject { ["address"] = address, ["identity_id"] = identity.Id.ToString() };
        flow.InternalContext = context.ToJsonString();
        flow.State = FlowStates.SentEmail;
    }

    private async Task<Identity?> VerifyLoginCodeAsync(LoginSubmission submission, string identifier, CancellationToken ct)
    {
        var (flow, ui, body) = (submission.Flow, submission.Ui, submission.Body);
        var code = (FormBody.String(body, "code") ?? "").Trim();
        if (code.Length == 0)
        {
            ui.AddMessage("code", Messages.Required("code"));
            return null;
        }
        var sent = Context(flow)[LoginContextKey] as JsonObject;
        var address = sent?["address"]?.GetValue<string>();
        // The code was sent for one identifier: a submit naming another one cannot use it (Kratos looks the code up by identity).
        if (address is null || (identifier.Length > 0 && !string.Equals(Schemas.IdentifierNormalizer.Graceful(identifier), address, StringComparison.OrdinalIgnoreCase)))
        {
            ui.Messages.Add(Messages.LoginCodeInvalid());
            return null;
        }
        return await RedeemLoginCodeAsync(submission, code, null, ct);
    }

    /// <summary>
    /// Spends the flow's login code (bounded by <c>max_submissions</c>: then Kratos's 4000001 "The request was submitted
    /// too often. Please request another code."; a right code past its lifespan: <see cref="FlowExpired"/>) and signs in the identity it was mailed for — when
    /// <paramref name="expectedIdentity"/> is given (a second factor), only that one; 4010008 otherwise. Receiving the code
    /// proves the address, as in Kratos, which marks it verified on a code login.
    /// </summary>
    private async Task<Identity?> RedeemLoginCodeAsync(LoginSubmission submission, string code, Guid? expectedIdentity, CancellationToken ct)
    {
        var ui = submission.Ui;
        var (outcome, used) = await codes.UseCodeAsync(submission.Flow.Id, LoginKind, code, options.Selfservice.Methods.Code.Config.MaxSubmissions, ct);
        // Kratos's LoginCode.Validate: a right code past its lifespan expires the flow (410 and a new flow with 4010001).
        if (outcome == OneTimeCodes.Outcome.Expired) throw new FlowExpired(used!.ExpiresAt);
        var identity = outcome == OneTimeCodes.Outcome.Valid && used?.IdentityId is { } identityId && (expectedIdentity is null || expectedIdentity == identityId)
            ? await identities.FindConfidentialAsync(identityId, ct)
            : null;
        if (identity is null)
        {
            ui.Messages.Add(outcome == OneTimeCodes.Outcome.Exhausted ? Messages.CodeSubmittedTooOften() : Messages.LoginCodeInvalid());
            return null;
        }
        if (submission.Refusal(identity) is { } refused)
        {
            ui.Messages.Add(refused);
            return null;
        }
        // As Kratos (verifyAddress), only an address not verified yet is updated (a repeated code login writes nothing here),
        // and the session's identity in the answer shows it verified.
        if (identity.VerifiableAddresses.FirstOrDefault(a => !a.Verified && a.Via == used!.Via && a.Value == used.Address) is { } address)
        {
            var now = flows.Now();
            await addresses.MarkVerifiedAsync(identity.Id, address.Via, address.Value, now, ct);
            address.Verified = true;
            address.Status = VerifiableAddressStatus.Completed;
            address.VerifiedAt = now;
            address.UpdatedAt = now;
        }
        return identity;
    }

    /// <summary>The address (e-mail or SMS) of the identity's code credential that the identifier names, or null.</summary>
    private static CodeAddress? AddressOf(Identity identity, string normalized)
    {
        var credential = identity.Credentials.FirstOrDefault(c => c.Type == CredentialTypes.Code);
        if (credential is null) return null;
        if (Addresses(credential).FirstOrDefault(a => string.Equals(a.Address, normalized, StringComparison.OrdinalIgnoreCase)) is { } found) return found;
        // Identities imported without addresses in their config: the identifier itself, when it is an e-mail address.
        return credential.Identifiers.Any(i => string.Equals(i.Identifier, normalized, StringComparison.OrdinalIgnoreCase)) && normalized.Contains('@', StringComparison.Ordinal)
            ? new CodeAddress(normalized, "email")
            : null;
    }

    private static JsonObject Context(SelfServiceFlow flow) =>
        (flow.InternalContext is { Length: > 0 } s ? JsonNode.Parse(s) as JsonObject : null) ?? [];

    /// <summary>
    /// The code-entry form (Kratos's <c>populateEmailSentFlow</c>): for registration the default group's fields kept, hidden
    /// unless they carry a message; for login every node named
    /// <c>identifier</c> (a second factor's address buttons renamed so first), hidden. Then a hidden <c>method=code</c>, the <c>code</c> field, Continue and Resend.
    /// Kratos clears a login form's other nodes and sets the CSRF token again afterwards, so there it comes last; the form is
    /// not sorted after. <paramref name="back"/> (a two-step registration's way back to the credential selection) comes last.
    /// </summary>
    private void ShowSent(UiContainer ui, JsonObject codeLabel, JsonObject message, bool login, JsonObject? back = null)
    {
        var kept = new List<JsonObject>();
        JsonObject? csrf = null;
        foreach (var node in ui.Nodes)
        {
            var attributes = node["attributes"] as JsonObject;
            if (login)
            {
                var name = attributes?["name"]?.GetValue<string>();
                if (name == "csrf_token") csrf = node;
                else if (name == "identifier")
                {
                    if (attributes is not null) attributes["type"] = "hidden";
                    kept.Add(node);
                }
                continue;
            }
            if (node["group"]?.GetValue<string>() != UiNodes.DefaultGroup) continue;
            if (attributes?["type"]?.GetValue<string>() == "submit") continue;
            if (attributes is not null && node["messages"] is not JsonArray { Count: > 0 }) attributes["type"] = "hidden";
            kept.Add(node);
        }
        ui.Nodes.Clear();
        ui.Nodes.AddRange(kept);
        ui.Nodes.Add(UiNodes.Input("method", "hidden", Name, Name));
        ui.Nodes.Add(UiNodes.Input("code", "text", Name, required: true, label: codeLabel));
        ui.Nodes.Add(UiNodes.Submit("method", Name, Name, Messages.LabelContinue()));
        ui.Nodes.Add(UiNodes.Submit("resend", Name, Name, Messages.LabelResendCode()));
        if (back is not null) ui.Nodes.Add(back);
        if (csrf is not null) ui.Nodes.Add(csrf);
        ui.ClearMessages();
        ui.Messages.Add(message);
    }
}
