namespace Gatehouse.SelfService.Flows;

/// <summary>
/// Thrown by a method when a secret it was given outlived its lifespan while the flow did not (Kratos's
/// <c>flow.NewFlowExpiredError</c>, which a login, registration or verification code's <c>Validate</c> returns): the flow
/// answers as for an expired flow — a new flow carrying the flow-expired message, 410 <c>self_service_flow_expired</c>
/// with <c>use_flow_id</c> (HTML browsers: 303 to it) — counted from <see cref="ExpiredAt"/>, the secret's expiry.
/// </summary>
public sealed class FlowExpired(DateTime expiredAt) : Exception("The self-service flow's secret expired.")
{
    /// <summary>When the secret expired (UTC).</summary>
    public DateTime ExpiredAt { get; } = expiredAt;
}
