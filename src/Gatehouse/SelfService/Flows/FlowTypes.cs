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
}
