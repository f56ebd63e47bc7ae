using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.Sessions;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Code;

/// <summary>
/// A one-time code as the second factor (<c>selfservice.methods.code.mfa_enabled</c>; Kratos's <c>code/strategy_login.go</c>
/// with <c>requested_aal: aal2</c>): the aal2 login of a session offers one <c>address</c> button per address (e-mail or
/// SMS) of its identity's <c>code</c> credential (1010023 "Send code to …"; with <c>missing_credential_fallback_enabled</c>
/// and no such address, its verifiable addresses; <c>?via=&lt;trait&gt;</c> picks one; when that leaves one address and the
/// code is the only second factor, the flow starts with the code sent — Kratos's fast login); choosing one sends a code there (the flow moves to
/// <c>sent_email</c>; JSON clients get 400 with the flow, as for passwordless codes) and <c>{method: code, code}</c>
/// completes <c>{code, aal2}</c> on the same session. Only the session identity's own addresses are accepted (4010010
/// otherwise), so a code is never mailed to somebody else. Guesses are bounded per code (<c>max_submissions</c>) and per
/// address (<c>code_attempts_per_recipient</c>) by the same atomic counters as every one-time code.
/// </summary>
public sealed partial class CodeStrategy
{
    /// <summary>An address a one-time code can be sent to, and how: <c>email</c> or <c>sms</c>.</summary>
    public sealed record CodeAddress(string Address, string Channel);

    /// <summary>The addresses of a code credential (<c>config.addresses</c>: e-mail and SMS), in the credential's order.</summary>
    public static List<CodeAddress> Addresses(IdentityCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var config = JsonNode.Parse(credential.Config) as JsonObject;
        var result = new List<CodeAddress>();
        foreach (var entry in (config?["addresses"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (entry["channel"]?.GetValue<string>() is "email" or "sms" && entry["address"]?.GetValue<string>() is { Length: > 0 } address)
                result.Add(new CodeAddress(address, entry["channel"]!.GetValue<string>()));
        }
        return result;
    }

    private bool Fallback => options.Selfservice.Methods.Code.Config.MissingCredentialFallbackEnabled;

    /// <summary>
    /// Kratos's <c>FindCodeAddressCandidates</c>: the addresses of the identity's code credential; with
    /// <c>missing_credential_fallback_enabled</c> and none there, its verifiable addresses (e-mail and SMS).
    /// </summary>
    private List<CodeAddress> Candidates(Identity identity)
    {
        var credential = identity.Credentials.FirstOrDefault(c => c.Type == CredentialTypes.Code);
        var addresses = credential is null ? [] : Addresses(credential);
        if (addresses.Count == 0 && Fallback)
            addresses = [.. identity.VerifiableAddresses.Where(a => a.Via is "email" or "sms" && a.Value.Length > 0).Select(a => new CodeAddress(a.Value, a.Via))];
        return [.. addresses.DistinctBy(a => (a.Address.ToUpperInvariant(), a.Channel))];
    }

    /// <summary>
    /// Kratos's <c>FindCodeAddresses</c>: every candidate, or with <c>?via=&lt;trait path&gt;</c> only the one the trait's value
    /// names (400 when the trait has no value or names no candidate).
    /// </summary>
    private List<CodeAddress> Candidates(Identity identity, string? via)
    {
        var all = Candidates(identity);
        if (string.IsNullOrEmpty(via)) return all;
        var value = TraitValue(identity.Traits, via);
        if (string.IsNullOrEmpty(value)) throw GatehouseError.BadRequest($"No value found for trait {via} in the current identity.");
        value = Schemas.IdentifierNormalizer.Graceful(value);
        var match = all.FirstOrDefault(a => a.Address == value)
            ?? throw GatehouseError.BadRequest("You can only reference a trait that matches a verification email address in the via parameter, or a registered credential.");
        return [match];
    }

    /// <summary>The text at a dotted trait path (<c>email</c>, <c>phones.0</c>; gjson's simple paths), or null.</summary>
    private static string? TraitValue(string traits, string path)
    {
        JsonNode? node = JsonNode.Parse(traits);
        foreach (var part in path.Split('.'))
        {
            node = node switch
            {
                JsonObject o => o[part],
                JsonArray a when int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => null,
            };
            if (node is null) return null;
        }
        return node is JsonValue v ? (v.TryGetValue<string>(out var s) ? s : v.ToJsonString()) : null;
    }

    private async Task PopulateSecondFactorAsync(LoginForm form, CancellationToken ct)
    {
        if (form.Current is not { } session || await identities.FindConfidentialAsync(session.IdentityId, ct) is not { } identity) return;
        foreach (var address in Candidates(identity, form.Via))
            form.Ui.Nodes.Add(UiNodes.Submit("address", address.Address, Name, Messages.SendCodeTo(address.Address, address.Channel)));
    }

    /// <summary>
    /// Kratos's <c>FastLogin2FA</c>: an <c>aal=aal2</c> flow where the code is the identity's only second factor and exactly
    /// one address is offered (or <c>?via=</c> picked it) is created with the code already sent (<c>sent_email</c>).
    /// </summary>
    public async Task<bool> FastLoginAsync(LoginForm form, CancellationToken ct)
    {
        if (!Mfa || form.Flow.RequestedAal != AssuranceLevels.Aal2 || form.Current is not { } session) return false;
        if (await identities.FindConfidentialAsync(session.IdentityId, ct) is not { } identity) return false;
        var candidates = Candidates(identity, form.Via);
        if (candidates.Count != 1) return false;
        var hasCodeFactor = identity.Credentials.Any(c => c.Type == CredentialTypes.Code && Addresses(c).Count > 0);
        if (!hasCodeFactor && !Fallback) return false;
        // Another second factor (an app, recovery codes, a security key) leaves the choice to the person.
        if (identity.Credentials.Any(c => c.Type != CredentialTypes.Code && (kinds.Find(c.Type)?.CountMultiFactor(c) ?? 0) > 0)) return false;
        await SendLoginCodeAsync(form.Flow, identity, candidates[0], ct);
        ShowSecondFactorSent(form.Ui, candidates[0]);
        form.Flow.Active = Name;
        return true;
    }

    /// <summary>
    /// Kratos's code-entry form for a second factor (<c>populateEmailSentFlow</c> for a login flow): every <c>address</c>
    /// button the choice offered stays, in its place, as a hidden input named <c>identifier</c> with its label (Kratos keeps
    /// each node whose name is <c>identifier</c> or <c>address</c>, not only the chosen one); the first <c>identifier</c>
    /// then takes the chosen address as its value (<c>NewCodeUINodes</c> sets the value of the first node of that name
    /// only). A flow that never offered a choice (fast login) gets the chosen address as that node. Then the code field,
    /// Continue and Resend.
    /// </summary>
    private void ShowSecondFactorSent(UiContainer ui, CodeAddress address)
    {
        foreach (var node in ui.Nodes)
        {
            if (node["attributes"] is JsonObject attributes && attributes["name"]?.GetValue<string>() == "address")
                attributes["name"] = "identifier";
        }
        if (ui.Find("identifier") is null)
        {
            var chosen = UiNodes.Input("identifier", "hidden", Name, address.Address);
            chosen["meta"]!["label"] = Messages.SendCodeTo(address.Address, address.Channel);
            ui.Nodes.Add(chosen);
        }
        ui.SetValue("identifier", address.Address);
        ShowSent(ui, Messages.LabelLoginCode(), Messages.LoginCodeSent(), login: true);
    }

    private async Task<Identity?> AuthenticateSecondFactorAsync(LoginSubmission submission, CancellationToken ct)
    {
        var (flow, ui, body) = (submission.Flow, submission.Ui, submission.Body);
        if (submission.Current is not { } session) return null;
        var resend = FormBody.String(body, "resend") == Name;
        if (flow.State == FlowStates.SentEmail && !resend) return await VerifySecondFactorAsync(submission, session.IdentityId, ct);

        var requested = (FormBody.String(body, "address") ?? FormBody.String(body, "identifier") ?? "").Trim();
        if (requested.Length == 0 && resend) requested = (Context(flow)[LoginContextKey] as JsonObject)?["address"]?.GetValue<string>() ?? "";
        if (requested.Length == 0)
        {
            ui.Messages.Add(Messages.Required("address"));
            return null;
        }
        var identity = await identities.FindConfidentialAsync(session.IdentityId, ct);
        var normalized = Schemas.IdentifierNormalizer.Graceful(requested);
        var address = identity is null ? null : Candidates(identity).FirstOrDefault(a => string.Equals(a.Address, normalized, StringComparison.OrdinalIgnoreCase));
        if (address is null || identity is null)
        {
            ui.Messages.Add(Messages.AddressUnknown());
            return null;
        }
        await SendLoginCodeAsync(flow, identity, address, ct);
        ShowSecondFactorSent(ui, address);
        return null;
    }

    private async Task<Identity?> VerifySecondFactorAsync(LoginSubmission submission, Guid identityId, CancellationToken ct)
    {
        var (flow, ui, body) = (submission.Flow, submission.Ui, submission.Body);
        var code = (FormBody.String(body, "code") ?? "").Trim();
        if (code.Length == 0)
        {
            ui.AddMessage("code", Messages.Required("code"));
            return null;
        }
        // A code mailed for this flow's session identity, nobody else's.
        return await RedeemLoginCodeAsync(submission, code, identityId, ct);
    }
}
