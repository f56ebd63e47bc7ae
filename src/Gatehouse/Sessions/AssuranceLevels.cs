namespace Gatehouse.Sessions;

/// <summary>Kratos's authenticator assurance levels, as sessions, flows and methods name them.</summary>
public static class AssuranceLevels
{
    /// <summary>No factor completed (an identity without credentials; a session that was never authenticated).</summary>
    public const string Aal0 = "aal0";

    /// <summary>One factor: a password, a one-time code, a social sign-in, a passkey.</summary>
    public const string Aal1 = "aal1";

    /// <summary>A first factor and a second one (TOTP, a recovery code, a security key).</summary>
    public const string Aal2 = "aal2";
}
