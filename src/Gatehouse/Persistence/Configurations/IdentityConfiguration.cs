using Gatehouse.ApiKeys;
using Gatehouse.Identities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Persistence.Configurations;

public sealed class IdentityConfiguration : IEntityTypeConfiguration<Identity>
{
    public void Configure(EntityTypeBuilder<Identity> b)
    {
        b.ToTable("identities");
        b.HasKey(e => e.Id);
        // Ids are UUIDv7 made by the application; never let EF mistake a new child row for an existing one.
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.SchemaId).HasMaxLength(2048);
        b.Property(e => e.State).HasMaxLength(16);
        b.Property(e => e.ExternalId).HasMaxLength(512);
        b.Property(e => e.Revision).IsConcurrencyToken();
        // Keyset pagination walks (nid, id); UUIDv7 ids keep that in creation order.
        b.HasIndex(e => new { e.Nid, e.Id });
        b.HasIndex(e => new { e.Nid, e.ExternalId }).IsUnique();
        b.HasMany(e => e.Credentials).WithOne().HasForeignKey(c => c.IdentityId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(e => e.VerifiableAddresses).WithOne().HasForeignKey(a => a.IdentityId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(e => e.RecoveryAddresses).WithOne().HasForeignKey(a => a.IdentityId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed class IdentityCredentialConfiguration : IEntityTypeConfiguration<IdentityCredential>
{
    public void Configure(EntityTypeBuilder<IdentityCredential> b)
    {
        b.ToTable("identity_credentials");
        b.HasKey(e => e.Id);
        // Ids are UUIDv7 made by the application; never let EF mistake a new child row for an existing one.
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.Type).HasMaxLength(32);
        // The tenant column is not the leading column of any child-table index: with one tenant, "nid = ?" alone
        // matches every row, and SQLite (no statistics) would otherwise pick such an index to drive a join and scan
        // the whole table (seen on credentials_identifier lookups). Leading with the identity serves the joins.
        b.HasIndex(e => new { e.IdentityId, e.Nid, e.Type }).IsUnique();
        b.HasMany(e => e.Identifiers).WithOne().HasForeignKey(i => i.CredentialId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed class CredentialIdentifierConfiguration : IEntityTypeConfiguration<CredentialIdentifier>
{
    public void Configure(EntityTypeBuilder<CredentialIdentifier> b)
    {
        b.ToTable("identity_credential_identifiers");
        b.HasKey(e => e.Id);
        // Ids are UUIDv7 made by the application; never let EF mistake a new child row for an existing one.
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.Type).HasMaxLength(32);
        b.Property(e => e.Identifier).HasMaxLength(1024);
        // Serves both the uniqueness rule and lookups by identifier (leading column). Not led by nid: see
        // IdentityCredentialConfiguration.
        b.HasIndex(e => new { e.Identifier, e.Nid, e.Type }).IsUnique();
        b.HasIndex(e => e.IdentityId);
    }
}

public sealed class VerifiableAddressConfiguration : IEntityTypeConfiguration<VerifiableAddress>
{
    public void Configure(EntityTypeBuilder<VerifiableAddress> b)
    {
        b.ToTable("identity_verifiable_addresses");
        b.HasKey(e => e.Id);
        // Ids are UUIDv7 made by the application; never let EF mistake a new child row for an existing one.
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.Value).HasMaxLength(400);
        b.Property(e => e.Via).HasMaxLength(16);
        b.Property(e => e.Status).HasMaxLength(16);
        // Led by the value, which the batch import's conflict check looks up; not led by nid (see IdentityCredentialConfiguration).
        b.HasIndex(e => new { e.Value, e.Via, e.Nid }).IsUnique();
        b.HasIndex(e => e.IdentityId);
    }
}

public sealed class RecoveryAddressConfiguration : IEntityTypeConfiguration<RecoveryAddress>
{
    public void Configure(EntityTypeBuilder<RecoveryAddress> b)
    {
        b.ToTable("identity_recovery_addresses");
        b.HasKey(e => e.Id);
        // Ids are UUIDv7 made by the application; never let EF mistake a new child row for an existing one.
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.Value).HasMaxLength(400);
        b.Property(e => e.Via).HasMaxLength(16);
        // Led by the value, which the batch import's conflict check looks up; not led by nid (see IdentityCredentialConfiguration).
        b.HasIndex(e => new { e.Value, e.Via, e.Nid }).IsUnique();
        b.HasIndex(e => e.IdentityId);
    }
}

public sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> b)
    {
        b.ToTable("api_keys");
        b.HasKey(e => e.Id);
        // Ids are UUIDv7 made by the application; never let EF mistake a new child row for an existing one.
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.Name).HasMaxLength(256);
        b.Property(e => e.Prefix).HasMaxLength(16);
        b.HasIndex(e => e.KeyHash).IsUnique();
    }
}
