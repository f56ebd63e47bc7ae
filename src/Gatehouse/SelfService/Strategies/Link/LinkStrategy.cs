using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Json;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;
using CourierService = Gatehouse.Courier.Courier;

namespace Gatehouse.SelfService.Strategies.Link;

/// <summary>
/// The <c>link</c> method: a link with a one-time token mailed to an address, for recovery (signs in, AMR
/// <c>link_recovery</c>) and verification. Only a keyed hash of the token is stored; it is single use and expires after
/// <c>selfservice.methods.link.config.lifespan</c>.
/// </summary>
public sealed class LinkStrategy(OneTimeCodes codes, CourierService courier, FlowService flows, GatehouseOptions options)
    : IRecoveryStrategy, IVerificationStrategy, IStrategyDescriptor
{
    public const string MethodName = "link";

    private const string RecoveryKind = "recovery_link";
    private const string VerificationKind = "verification_link";

    public string Name => MethodName;

    public static string ConfigName => MethodName;

    public static bool IsEnabled(GatehouseOptions options) => options.Selfservice.Methods.Link.Enabled;

    public string SessionMethod => "link_recovery";

    public TimeSpan Lifespan => options.Selfservice.Methods.Link.Config.Lifespan;

    /// <summary>A body with a <c>token</c> and no <c>method</c> (the link opened: <c>?flow=&amp;token=</c>) is meant for this method.</summary>
    public bool Handles(string? method, JsonObject body) => method == Name || (method is null && body["token"] is not null);

    public bool CarriesSecret(SelfServiceFlow flow, JsonObject body) => !string.IsNullOrEmpty(FormBody.String(body, "token"));

    // Recovery

    void IRecoveryStrategy.PopulateSent(UiContainer ui, string? email, bool withMessage)
    {
        AddressForm.Populate(ui, Name, email);
        if (withMessage) ui.Messages.Add(Messages.RecoveryLinkSent());
    }

    async Task IRecoveryStrategy.SendAsync(SelfServiceFlow flow, Guid? identityId, string address, JsonObject model, bool deliver, CancellationToken ct)
    {
        var secret = OneTimeCodes.NewToken();
        await codes.CreateAsync(flow.Id, identityId, RecoveryKind, address, "email", secret, Lifespan, ct);
        if (identityId is not null) model["recovery_url"] = RecoveryUrl(flow, secret);
        await courier.QueueEmailAsync(identityId is null ? "recovery_invalid" : "recovery_valid", address, model, ct, deliver: deliver);
    }

    Task<SelfServiceCode?> IRecoveryStrategy.RedeemAsync(SelfServiceFlow flow, JsonObject body, UiContainer ui, CancellationToken ct) =>
        RedeemAsync(flow, RecoveryKind, body, Messages.RecoveryTokenInvalid(), Messages.RecoveryFlowExpired, ct);

    /// <summary>Kratos's link method words it differently from the code method and repeats the value as sent.</summary>
    string IRecoveryStrategy.ExpiresInNotInFuture(string requested, TimeSpan parsed) =>
        $"Value from \"expires_in\" must be result to a future time: {requested}";

    /// <summary>Kratos's link <c>retryRecoveryFlowWithMessage</c> sends API flows to the fetch route, browser flows to the UI, whatever the request.</summary>
    bool IRecoveryStrategy.RetryIsFetched(string flowType, bool jsonRequest) => flowType == FlowTypes.Api;

    /// <summary>A link is opened in a browser, so an admin-made link flow is a browser flow whatever was asked.</summary>
    string IRecoveryStrategy.AdminFlowType(string requested) => FlowTypes.Browser;

    /// <summary>Kratos's link <c>recoveryIssueSession</c>: cookie, browser settings flow and a 303 for every flow type and client.</summary>
    bool IRecoveryStrategy.CompletesInBrowser => true;

    async Task<(int Status, JsonObject Body)> IRecoveryStrategy.IssueForAdminAsync(SelfServiceFlow flow, Identity identity, string address, TimeSpan lifespan, CancellationToken ct)
    {
        var secret = OneTimeCodes.NewToken();
        await codes.CreateAsync(flow.Id, identity.Id, RecoveryKind, address, "email", secret, lifespan, ct);
        return (200, new JsonObject
        {
            ["recovery_link"] = RecoveryUrl(flow, secret),
            ["expires_at"] = GoTimeJsonConverter.Format(flow.ExpiresAt),
        });
    }

    private string RecoveryUrl(SelfServiceFlow flow, string secret) => $"{flows.PublicBase}/self-service/recovery?flow={flow.Id}&token={secret}";

    // Verification

    /// <summary>Kratos's link <c>PopulateVerificationMethod</c> sets the CSRF token node for every flow type.</summary>
    bool IVerificationStrategy.CsrfOnEveryFlowType => true;

    void IVerificationStrategy.PopulateSent(UiContainer ui, string email)
    {
        AddressForm.Populate(ui, Name, email);
        ui.Messages.Add(Messages.VerificationLinkSent());
    }

    async Task IVerificationStrategy.SendAsync(SelfServiceFlow flow, Guid? identityId, string address, JsonObject model, bool deliver, CancellationToken ct)
    {
        var secret = OneTimeCodes.NewToken();
        await codes.CreateAsync(flow.Id, identityId, VerificationKind, address, "email", secret, Lifespan, ct);
        if (identityId is not null) model["verification_url"] = $"{flows.PublicBase}/self-service/verification?flow={flow.Id}&token={secret}";
        await courier.QueueEmailAsync(identityId is null ? "verification_invalid" : "verification_valid", address, model, ct, deliver: deliver);
    }

    Task<SelfServiceCode?> IVerificationStrategy.RedeemAsync(SelfServiceFlow flow, JsonObject body, UiContainer ui, CancellationToken ct) =>
        RedeemAsync(flow, VerificationKind, body, Messages.VerificationTokenInvalid(), Messages.VerificationFlowExpired, ct);

    /// <summary>
    /// A token is looked up by its hash among the flow's own (one submitted on another flow is not spent). As Kratos's link
    /// method (<c>recoveryUseToken</c> / <c>verificationUseToken</c>), a token that cannot be used replaces the flow by a
    /// new browser flow carrying <paramref name="invalid"/>, or — an expired token — the flow-expired message counted
    /// from the token's expiry (<see cref="FlowReplaced"/>, <see cref="FlowReplaced.AsBrowserFlow"/>).
    /// </summary>
    private async Task<SelfServiceCode?> RedeemAsync(SelfServiceFlow flow, string kind, JsonObject body, JsonObject invalid,
        Func<DateTime, DateTime, JsonObject> expired, CancellationToken ct)
    {
        var (outcome, used) = await codes.UseTokenAsync(flow.Id, kind, FormBody.String(body, "token") ?? "", ct);
        return outcome switch
        {
            OneTimeCodes.Outcome.Valid => used,
            OneTimeCodes.Outcome.Expired => throw new FlowReplaced(expired(used!.ExpiresAt, flows.Now())) { AsBrowserFlow = true },
            _ => throw new FlowReplaced(invalid) { AsBrowserFlow = true },
        };
    }
}
