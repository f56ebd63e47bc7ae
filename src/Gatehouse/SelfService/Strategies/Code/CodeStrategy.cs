using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Json;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;
using CourierService = Gatehouse.Courier.Courier;

namespace Gatehouse.SelfService.Strategies.Code;

/// <summary>
/// The <c>code</c> method: a 6-digit one-time code mailed to an address, for recovery (signs in, AMR <c>code_recovery</c>)
/// and verification, and — with <c>selfservice.methods.code.passwordless_enabled</c> — passwordless login and registration.
/// Only a keyed hash of the code is stored; it is single use, expires after <c>selfservice.methods.code.config.lifespan</c>
/// and stops working after <c>max_submissions</c> wrong guesses.
/// </summary>
public sealed partial class CodeStrategy(
    OneTimeCodes codes,
    CourierService courier,
    FlowService flows,
    IPrivilegedIdentityStore identities,
    IVerifiableAddressStore addresses,
    IdentityJson identityJson,
    CredentialKinds kinds,
    GatehouseOptions options)
    : IRecoveryStrategy, IVerificationStrategy, ILoginStrategy, IRegistrationStrategy, IStrategyDescriptor
{
    public const string MethodName = CredentialTypes.Code;

    private const string RecoveryKind = "recovery_code";
    private const string VerificationKind = "verification_code";

    /// <summary>The digits of a code (<see cref="OneTimeCodes.NewCode"/>), the recovery code field's <c>maxlength</c>.</summary>
    private const int CodeLength = 6;

    public string Name => MethodName;

    public static string ConfigName => MethodName;

    public static bool IsEnabled(GatehouseOptions options) => options.Selfservice.Methods.Code.Enabled;

    public string SessionMethod => "code_recovery";

    public TimeSpan Lifespan => options.Selfservice.Methods.Code.Config.Lifespan;

    /// <summary>
    /// A body with a <c>code</c> and no <c>method</c> is meant for this method, as in Kratos; so is, with <c>mfa_enabled</c>,
    /// a second-factor <c>address</c> button, which posts no <c>method</c>, and with
    /// <c>feature_flags.refresh_login_choose_address</c> a refresh's address button (the login refuses it on other flows).
    /// </summary>
    public bool Handles(string? method, JsonObject body) =>
        method == Name || (method is null && (body["code"] is not null || ((Mfa || (Passwordless && RefreshChoosesAddress)) && !string.IsNullOrEmpty(FormBody.String(body, "address")))));

    /// <summary>
    /// Kratos's code recovery (<c>strategy_recovery.go</c>) spends a code on a code flow in <c>sent_email</c> whenever the
    /// submit has no <c>email</c>, whatever its <c>method</c>: an empty or missing <c>code</c> is a wrong one (4060006, a
    /// guess counted), and a submit with an <c>email</c> — the resend button, which posts the code field too — sends a new
    /// code instead. So does a flow in <c>passed_challenge</c> (Kratos tests <c>f.State != StateChooseMethod</c>): its code was
    /// used, so such a submit is a wrong guess too.
    /// </summary>
    bool IRecoveryStrategy.CarriesSecret(SelfServiceFlow flow, JsonObject body) =>
        flow.Active == Name && flow.State != FlowStates.ChooseMethod && !FlowStates.IsRecoveryChooseAddress(flow.State) && string.IsNullOrEmpty(FormBody.String(body, "email"));

    bool IVerificationStrategy.OpensFormFromLink => true;

    /// <summary>
    /// Kratos's code <c>Verify</c> takes a non-empty <c>code</c> as a guess in <c>choose_method</c> as in <c>sent_email</c>
    /// (<c>verificationHandleFormSubmission</c> looks at the code before the address): before any code was sent it is
    /// simply wrong (4070006), not a missing address. A passed flow is replaced whatever the submit.
    /// </summary>
    bool IVerificationStrategy.CarriesSecret(SelfServiceFlow flow, JsonObject body) =>
        !string.IsNullOrEmpty(FormBody.String(body, "code")) && flow.State is FlowStates.ChooseMethod or FlowStates.SentEmail;

    // Recovery

    /// <summary>
    /// Kratos's order: the code (digits, at most 6), a hidden <c>method</c> (what the resend button posts with the address),
    /// the submit, the resend button; an admin-made flow has no address, so only the code and the submit.
    /// </summary>
    void IRecoveryStrategy.PopulateSent(UiContainer ui, string? email, bool withMessage)
    {
        ui.Nodes.Add(UiNodes.Input("code", "text", Name, required: true, autocomplete: "one-time-code", label: Messages.LabelRecoveryCode(),
            pattern: "[0-9]+", maxLength: CodeLength));
        if (email is not null) ui.Nodes.Add(UiNodes.Input("method", "hidden", Name, Name));
        ui.Nodes.Add(UiNodes.Submit("method", Name, Name, Messages.LabelContinue()));
        if (email is not null) ui.Nodes.Add(UiNodes.Submit("email", email, Name, Messages.LabelResendCode()));
        if (withMessage) ui.Messages.Add(Messages.RecoveryCodeSent());
    }

    Task IRecoveryStrategy.SendAsync(SelfServiceFlow flow, Guid? identityId, string address, JsonObject model, bool deliver, CancellationToken ct) =>
        ((IRecoveryStrategy)this).SendViaAsync(flow, identityId, "email", address, model, deliver, ct);

    bool IRecoveryStrategy.ChoosesAddress => true;

    /// <summary>
    /// Kratos's code sender (<c>SendRecoveryCode</c>): a known address gets <c>recovery_code_valid</c> on its channel; an
    /// unknown one is told only by e-mail (Kratos sends no SMS to an unknown number: "we pay per SMS sent"), so for SMS the
    /// same statement runs but writes nothing.
    /// </summary>
    async Task IRecoveryStrategy.SendViaAsync(SelfServiceFlow flow, Guid? identityId, string via, string address, JsonObject model, bool deliver, CancellationToken ct)
    {
        var secret = OneTimeCodes.NewCode();
        await codes.CreateAsync(flow.Id, identityId, RecoveryKind, address, via, secret, Lifespan, ct);
        if (identityId is null)
        {
            await courier.QueueEmailAsync("recovery_code_invalid", address, model, ct, deliver: deliver && via == "email");
            return;
        }
        model["recovery_code"] = secret;
        await courier.QueueAsync(via, "recovery_code_valid", address, model, ct, deliver: deliver);
    }

    Task<SelfServiceCode?> IRecoveryStrategy.RedeemAsync(SelfServiceFlow flow, JsonObject body, UiContainer ui, CancellationToken ct) =>
        RedeemAsync(flow, RecoveryKind, body, ui, Messages.RecoveryCodeInvalid(), ct);

    async Task<(int Status, JsonObject Body)> IRecoveryStrategy.IssueForAdminAsync(SelfServiceFlow flow, Identity identity, string address, TimeSpan lifespan, CancellationToken ct)
    {
        var secret = OneTimeCodes.NewCode();
        await codes.CreateAsync(flow.Id, identity.Id, RecoveryKind, address, "email", secret, lifespan, ct);
        return (201, new JsonObject
        {
            ["recovery_link"] = flows.UiUrlFor(flow),
            ["recovery_code"] = secret,
            ["expires_at"] = GoTimeJsonConverter.Format(flow.ExpiresAt),
        });
    }

    // Verification

    /// <summary>Kratos's code method puts the CSRF token after its own address form in verification (browser flows).</summary>
    void IVerificationStrategy.PopulateAddressForm(UiContainer ui, string? email)
    {
        var csrf = TakeCsrf(ui);
        AddressForm.Populate(ui, Name, email);
        if (csrf is not null) ui.Nodes.Add(csrf);
    }

    /// <summary>
    /// Kratos's order: a hidden <c>method</c> (what the resend button posts with the address), the code, the submit, the
    /// CSRF token (browser flows), the resend button.
    /// </summary>
    void IVerificationStrategy.PopulateSent(UiContainer ui, string email)
    {
        var csrf = TakeCsrf(ui);
        ui.Nodes.Add(UiNodes.Input("method", "hidden", Name, Name));
        ui.Nodes.Add(UiNodes.Input("code", "text", Name, required: true, autocomplete: "one-time-code", label: Messages.LabelVerificationCode()));
        ui.Nodes.Add(UiNodes.Submit("method", Name, Name, Messages.LabelContinue()));
        if (csrf is not null) ui.Nodes.Add(csrf);
        ui.Nodes.Add(UiNodes.Submit("email", email, Name, Messages.LabelResendCode()));
        ui.Messages.Add(Messages.VerificationCodeSent());
    }

    private static JsonObject? TakeCsrf(UiContainer ui)
    {
        var csrf = ui.Nodes.FirstOrDefault(n => n["attributes"]?["name"]?.GetValue<string>() == "csrf_token");
        if (csrf is not null) ui.Nodes.Remove(csrf);
        return csrf;
    }

    Task IVerificationStrategy.SendAsync(SelfServiceFlow flow, Guid? identityId, string address, JsonObject model, bool deliver, CancellationToken ct) =>
        SendVerificationCodeAsync(flow, identityId, "email", address, model, deliver, ct);

    /// <summary>
    /// A verification code for <paramref name="address"/> on <paramref name="channel"/>: stored (keyed hash) for the flow, and
    /// queued — an e-mail with the code and its link (the <c>invalid</c> notice when no identity has the address), or a text
    /// message with the code.
    /// </summary>
    private async Task SendVerificationCodeAsync(SelfServiceFlow flow, Guid? identityId, string channel, string address, JsonObject model, bool deliver, CancellationToken ct)
    {
        var secret = OneTimeCodes.NewCode();
        await codes.CreateAsync(flow.Id, identityId, VerificationKind, address, channel, secret, Lifespan, ct);
        if (identityId is not null)
        {
            model["verification_code"] = secret;
            if (channel == "email") model["verification_url"] = $"{flows.PublicBase}/self-service/verification?flow={flow.Id}&code={secret}";
        }
        if (channel == "sms") await courier.QueueSmsAsync("verification_code_valid", address, model, ct, deliver: deliver);
        else await courier.QueueEmailAsync(identityId is null ? "verification_code_invalid" : "verification_code_valid", address, model, ct, deliver: deliver);
    }

    bool IVerificationStrategy.SendsTo(string via) => via is "email" or "sms";

    /// <summary>As Kratos's code sender for a pending address change: the code by e-mail, or by text message to a phone number.</summary>
    Task IVerificationStrategy.SendToAddressAsync(SelfServiceFlow flow, Guid identityId, string via, string address, JsonObject model, CancellationToken ct) =>
        SendVerificationCodeAsync(flow, identityId, via == "sms" ? "sms" : "email", address, model, deliver: true, ct);

    Task<SelfServiceCode?> IVerificationStrategy.RedeemAsync(SelfServiceFlow flow, JsonObject body, UiContainer ui, CancellationToken ct) =>
        RedeemAsync(flow, VerificationKind, body, ui, Messages.VerificationCodeInvalid(), ct);

    /// <summary>
    /// Spends a recovery or verification code, with Kratos's answers: spent guesses replace the flow with one carrying
    /// 4000001 "The request was submitted too often. Please request another code." (<see cref="FlowReplaced"/>); a right
    /// verification code past its lifespan expires the flow (<see cref="FlowExpired"/>), while an expired recovery code is
    /// just invalid (Kratos's <c>RecoveryCode.Validate</c> answers it as not found); otherwise <paramref name="invalid"/>.
    /// </summary>
    private async Task<SelfServiceCode?> RedeemAsync(SelfServiceFlow flow, string kind, JsonObject body, UiContainer ui, JsonObject invalid, CancellationToken ct)
    {
        var (outcome, used) = await codes.UseCodeAsync(flow.Id, kind, FormBody.String(body, "code") ?? "", options.Selfservice.Methods.Code.Config.MaxSubmissions, ct);
        switch (outcome)
        {
            case OneTimeCodes.Outcome.Valid:
                return used;
            case OneTimeCodes.Outcome.Exhausted:
                throw new FlowReplaced(Messages.CodeSubmittedTooOften()) { IsError = true };
            case OneTimeCodes.Outcome.Expired when kind == VerificationKind:
                throw new FlowExpired(used!.ExpiresAt);
            default:
                ui.Messages.Add(invalid);
                return null;
        }
    }
}
