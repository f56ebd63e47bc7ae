namespace Gatehouse.SelfService.Flows;

/// <summary>
/// A one-time secret sent for a flow: a recovery or verification code (6 digits) or link token. Only a keyed hash
/// of the secret is stored; it is single use, expires, and counts failed attempts (brute-force bound).
/// </summary>
public sealed class SelfServiceCode
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public Guid FlowId { get; set; }
    public Guid? IdentityId { get; set; }

    /// <summary><c>recovery_code</c>, <c>recovery_link</c>, <c>verification_code</c>, <c>verification_link</c>, …</summary>
    public string Kind { get; set; } = "";

    /// <summary>The address the secret was sent to (lower-cased email or E.164 phone).</summary>
    public string Address { get; set; } = "";
    public string Via { get; set; } = "email";
    public byte[] SecretHash { get; set; } = [];
    public int Attempts { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? UsedAt { get; set; }
    public DateTime CreatedAt { get; set; }
}
