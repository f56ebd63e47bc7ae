namespace Gatehouse.SelfService.Flows;

public static class FlowTypes
{
    public const string Browser = "browser";
    public const string Api = "api";
}

public static class FlowKinds
{
    public const string Login = "login";
    public const string Registration = "registration";
    public const string Settings = "settings";
    public const string Recovery = "recovery";
    public const string Verification = "verification";
}

public static class FlowStates
{
    public const string ChooseMethod = "choose_method";
    public const string SentEmail = "sent_email";
    public const string PassedChallenge = "passed_challenge";

    // Recovery with feature_flags.choose_recovery_address (Kratos's "recovery v2", selfservice/flow/state.go): a flow made
    // with the flag starts in the first of these, so the flag decides a flow's version once, when it is made. The end is
    // passed_challenge, as without the flag.
    public const string RecoveryAwaitingAddress = "recovery_awaiting_address";
    public const string RecoveryAwaitingAddressChoice = "recovery_awaiting_address_choice";
    public const string RecoveryConfirmingAddress = "recovery_confirming_address";
    public const string RecoveryAwaitingCode = "recovery_awaiting_code";

    /// <summary>Kratos's <c>IsStateRecoveryV2</c>: the state of a flow made with <c>choose_recovery_address</c>, before it passed.</summary>
    public static bool IsRecoveryChooseAddress(string? state) => state?.StartsWith("recovery_", StringComparison.Ordinal) == true;
}
