using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;

namespace Gatehouse.SelfService.Strategies;

/// <summary>
/// A method that recovers an account with a secret mailed to a recovery address (Kratos's <c>recovery.Strategy</c>):
/// <c>code</c> or <c>link</c>. The flow asks for the address, has the method send its secret, and lets the method redeem it.
/// </summary>
public interface IRecoveryStrategy : IStrategy
{
    /// <summary>The session's authentication method after a recovery (<c>code_recovery</c>, <c>link_recovery</c>; aal1).</summary>
    string SessionMethod { get; }

    /// <summary>Whether the submit carries this method's secret for the flow (rather than an address to send one to).</summary>
    bool CarriesSecret(SelfServiceFlow flow, JsonObject body);

    /// <summary>The form asking for the address (prefilled with <paramref name="email"/>).</summary>
    void PopulateAddressForm(UiContainer ui, string? email) => AddressForm.Populate(ui, Name, email);

    /// <summary>The form after the secret went out to <paramref name="email"/> (null: an admin-made flow), with its message.</summary>
    void PopulateSent(UiContainer ui, string? email, bool withMessage);

    /// <summary>
    /// Makes a secret for the flow and stores its hash — for an unknown address (<paramref name="identityId"/> null) too,
    /// bound to no identity, so known and unknown addresses cost the same — and queues the mail: the secret for a known
    /// address, the "invalid" template for an unknown one; <paramref name="deliver"/> false writes no mail.
    /// </summary>
    Task SendAsync(SelfServiceFlow flow, Guid? identityId, string address, JsonObject model, bool deliver, CancellationToken ct);

    /// <summary>
    /// Whether <c>feature_flags.choose_recovery_address</c> applies to this method's flows (Kratos's "recovery v2" is the
    /// code method's alone) and <see cref="SendViaAsync"/> takes SMS too.
    /// </summary>
    bool ChoosesAddress => false;

    /// <summary>As <see cref="SendAsync"/>, on the channel <paramref name="via"/> (<c>email</c> or <c>sms</c>).</summary>
    Task SendViaAsync(SelfServiceFlow flow, Guid? identityId, string via, string address, JsonObject model, bool deliver, CancellationToken ct) =>
        via == "email" ? SendAsync(flow, identityId, address, model, deliver, ct) : throw new NotSupportedException($"The {Name} method sends no {via}.");

    /// <summary>
    /// The secret's record if the submitted one is right (used up now); else null, with the reason on <paramref name="ui"/>
    /// — or throws with the message a new flow should carry instead (<see cref="FlowReplaced"/>).
    /// </summary>
    Task<SelfServiceCode?> RedeemAsync(SelfServiceFlow flow, JsonObject body, UiContainer ui, CancellationToken ct);

    /// <summary>How long an admin-made secret lives unless <c>expires_in</c> says otherwise.</summary>
    TimeSpan Lifespan { get; }

    /// <summary>
    /// The 400 reason for an admin <c>expires_in</c> that is not in the future: Kratos's code method names the parsed
    /// duration in Go's form (<c>-1h0m0s</c>).
    /// </summary>
    string ExpiresInNotInFuture(string requested, TimeSpan parsed) =>
        $"Value from \"expires_in\" must result to a future time: {GoDuration.ToGoString(parsed)}";

    /// <summary>The flow type an admin-made flow gets for the requested one (a link is always opened in a browser).</summary>
    string AdminFlowType(string requested) => requested;

    /// <summary>
    /// Whether a new flow that replaces a refused submit of a <paramref name="flowType"/> flow (a completed flow submitted
    /// again) is answered with a 303 to its fetch route (<c>/self-service/recovery/flows?id=</c>), else to the recovery UI:
    /// Kratos's code method (<c>retryRecoveryFlow</c>) sends JSON requests to the fetch route.
    /// </summary>
    bool RetryIsFetched(string flowType, bool jsonRequest) => jsonRequest;

    /// <summary>
    /// Whether a recovery by this method completes in a browser whatever the flow's type: a session cookie, a browser
    /// settings flow and a 303 to its UI for every client (Kratos's link method, whose secret is opened from a mail).
    /// </summary>
    bool CompletesInBrowser => false;

    /// <summary>
    /// <c>POST /admin/recovery/{method}</c> for a stored flow: makes the secret (nothing is mailed) and returns the
    /// response's status and body.
    /// </summary>
    Task<(int Status, JsonObject Body)> IssueForAdminAsync(SelfServiceFlow flow, Identity identity, string address, TimeSpan lifespan, CancellationToken ct);
}
