using Gatehouse.Identities;

namespace Gatehouse.Sessions;

/// <summary>
/// A session as stored. The session token and the logout token are kept only as SHA-256 hashes
/// (they carry 190+ random bits, so a fast hash suffices); whoami looks sessions up by <see cref="TokenHash"/>.
/// </summary>
public sealed class Session
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public Guid IdentityId { get; set; }
    public Identity? Identity { get; set; }
    public byte[] TokenHash { get; set; } = [];
    public byte[] LogoutTokenHash { get; set; } = [];

    /// <summary>False once revoked (admin disable, logout, revoke-others). Whether a session is usable also needs expiry and identity state.</summary>
    public bool Active { get; set; }
    public DateTime AuthenticatedAt { get; set; }
    public DateTime IssuedAt { get; set; }
    public DateTime ExpiresAt { get; set; }

    /// <summary><c>aal0</c>, <c>aal1</c> or <c>aal2</c>.</summary>
    public string Aal { get; set; } = "aal1";

    /// <summary>JSON array of <c>{method, aal, completed_at, provider?}</c> in Kratos's shape.</summary>
    public string AuthenticationMethods { get; set; } = "[]";
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public List<SessionDevice> Devices { get; set; } = [];
}

public sealed class SessionDevice
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public Guid SessionId { get; set; }
    public string? IpAddress { get; set; }
    public string? UserAgent { get; set; }
    public string? Location { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
