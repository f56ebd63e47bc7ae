namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// One authorization request's way through login and consent (Hydra's <c>hydra_oauth2_flow</c>). Hydra encodes the flow
/// into its challenges and verifiers (AEAD); Gatehouse keeps it as a row and hands out random strings, of which only the
/// SHA-256 is stored — so each challenge and verifier can be spent exactly once, atomically, by a state change on the row.
/// The authorization code and the tokens issued from it carry the flow's <see cref="Pk"/> as their request id.
/// </summary>
public sealed class OAuth2Flow
{
    public Guid Pk { get; set; }
    public Guid Nid { get; set; }
    public string ClientId { get; set; } = "";

    /// <summary>The authenticated subject, once login was accepted.</summary>
    public string Subject { get; set; } = "";

    /// <summary>An <see cref="OAuth2FlowState"/>.</summary>
    public int State { get; set; }

    public byte[] LoginChallenge { get; set; } = [];
    public byte[]? LoginVerifier { get; set; }
    public byte[]? ConsentChallenge { get; set; }
    public byte[]? ConsentVerifier { get; set; }

    /// <summary>The validated authorization request (<see cref="AuthorizeRequest"/> as JSON).</summary>
    public string Request { get; set; } = "{}";

    /// <summary>The login app's accept or reject body, with <c>authenticated_at</c> (JSON); empty until handled.</summary>
    public string Login { get; set; } = "{}";

    /// <summary>The consent app's accept or reject body, with <c>handled_at</c> (JSON); empty until handled.</summary>
    public string Consent { get; set; } = "{}";

    /// <summary>A remembered consent (accepted with <c>remember: true</c>) until this time; null: not remembered.</summary>
    public DateTime? ConsentRememberedUntil { get; set; }

    /// <summary>The login session (<see cref="OAuth2LoginSession.Id"/>) once the login verifier was spent.</summary>
    public Guid? LoginSessionId { get; set; }

    /// <summary>The consent request was answered from a remembered consent (Hydra's <c>consent_skip</c>): not a consent session of its own.</summary>
    public bool ConsentSkip { get; set; }

    /// <summary>
    /// Until when the granted consent counts as a consent session (Hydra's <c>expires_at</c>: handled + <c>remember_for</c>);
    /// null: without end (<c>remember_for: 0</c>) or not granted.
    /// </summary>
    public DateTime? ConsentExpiresAt { get; set; }

    public DateTime RequestedAt { get; set; }

    /// <summary>Challenges and verifiers of this flow can be used until then (<c>ttl.login_consent_request</c>).</summary>
    public DateTime ExpiresAt { get; set; }
}

/// <summary>Where a flow is (Hydra's <c>flow.State</c>, without the device states).</summary>
public static class OAuth2FlowState
{
    /// <summary>Waiting for the login app's accept or reject.</summary>
    public const int LoginUnused = 1;

    /// <summary>The login verifier was spent (login accepted); consent not yet requested or failed.</summary>
    public const int LoginUsed = 2;

    /// <summary>The login app rejected the request; its verifier sends the error to the client.</summary>
    public const int LoginError = 128;

    /// <summary>Waiting for the consent app.</summary>
    public const int ConsentUnused = 3;

    /// <summary>The consent verifier was spent: the code was issued.</summary>
    public const int ConsentUsed = 4;

    /// <summary>The consent app rejected the request.</summary>
    public const int ConsentError = 129;

    /// <summary>A rejected request whose error was delivered.</summary>
    public const int Done = 5;
}
