namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// A logout request (Hydra's <c>hydra_oauth2_logout_request</c>): made by <c>/oauth2/sessions/logout</c>, shown to the
/// logout app through its challenge, accepted or rejected there, and completed when the browser brings the verifier back.
/// Hydra stores challenge and verifier in clear; Gatehouse keeps only their SHA-256, as for login and consent.
/// </summary>
public sealed class OAuth2LogoutRequest
{
    public Guid Pk { get; set; }
    public Guid Nid { get; set; }

    public byte[] Challenge { get; set; } = [];

    /// <summary>Set by the accept (a new one on every accept); null before.</summary>
    public byte[]? Verifier { get; set; }

    /// <summary>The login session's subject.</summary>
    public string Subject { get; set; } = "";

    /// <summary>The login session to end (<c>sid</c>).</summary>
    public string SessionId { get; set; } = "";

    /// <summary>The logout URL as requested (Hydra keeps the path and query only).</summary>
    public string RequestUrl { get; set; } = "";

    /// <summary>Started by a client with an <c>id_token_hint</c> (else by the browser's own session cookie).</summary>
    public bool RpInitiated { get; set; }

    /// <summary>Where the browser goes when the logout is done (with the client's <c>state</c>).</summary>
    public string PostLogoutRedirectUri { get; set; } = "";

    /// <summary>The client of an RP-initiated logout; null otherwise.</summary>
    public string? ClientId { get; set; }

    public bool Accepted { get; set; }
    public bool Rejected { get; set; }

    /// <summary>The verifier was spent (Hydra's <c>was_used</c>): the request is handled.</summary>
    public bool WasUsed { get; set; }

    public DateTime RequestedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}
