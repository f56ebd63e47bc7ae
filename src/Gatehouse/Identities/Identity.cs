namespace Gatehouse.Identities;

/// <summary>An identity as stored. JSON-valued fields are kept as their JSON text.</summary>
public sealed class Identity
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public string SchemaId { get; set; } = "default";
    public string State { get; set; } = IdentityStates.Active;
    public DateTime? StateChangedAt { get; set; }
    public string Traits { get; set; } = "{}";
    public string? MetadataPublic { get; set; }
    public string? MetadataAdmin { get; set; }
    public string? ExternalId { get; set; }
    public Guid? OrganizationId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>Optimistic concurrency token, bumped on every update (works the same on SQLite and PostgreSQL).</summary>
    public int Revision { get; set; }

    public List<IdentityCredential> Credentials { get; set; } = [];
    public List<VerifiableAddress> VerifiableAddresses { get; set; } = [];
    public List<RecoveryAddress> RecoveryAddresses { get; set; } = [];
}

public static class IdentityStates
{
    public const string Active = "active";
    public const string Inactive = "inactive";

    public static bool IsValid(string? state) => state is Active or Inactive;
}

public sealed class IdentityCredential
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public Guid IdentityId { get; set; }
    public string Type { get; set; } = "";
    public string Config { get; set; } = "{}";
    public int Version { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public List<CredentialIdentifier> Identifiers { get; set; } = [];
}

/// <summary>One unique login identifier of a credential; the unique index on (nid, identifier, type) enforces no duplicates.</summary>
public sealed class CredentialIdentifier
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public Guid IdentityId { get; set; }
    public Guid CredentialId { get; set; }
    public string Type { get; set; } = "";
    public string Identifier { get; set; } = "";
}

public sealed class VerifiableAddress
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public Guid IdentityId { get; set; }
    public string Value { get; set; } = "";
    public string Via { get; set; } = "email";
    public bool Verified { get; set; }
    public string Status { get; set; } = VerifiableAddressStatus.Pending;
    public DateTime? VerifiedAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public static class VerifiableAddressStatus
{
    public const string Pending = "pending";
    public const string Sent = "sent";
    public const string Completed = "completed";
}

public sealed class RecoveryAddress
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public Guid IdentityId { get; set; }
    public string Value { get; set; } = "";
    public string Via { get; set; } = "email";
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
