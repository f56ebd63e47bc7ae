using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Persistence.Configurations;

public sealed class OAuth2ClientConfiguration : IEntityTypeConfiguration<OAuth2Client>
{
    public void Configure(EntityTypeBuilder<OAuth2Client> b)
    {
        b.ToTable("oauth2_clients");
        b.HasKey(e => e.Pk);
        b.Property(e => e.Pk).ValueGeneratedNever();
        b.Property(e => e.ClientId).HasMaxLength(255);
        b.Property(e => e.ClientName).HasMaxLength(4096);
        b.Property(e => e.Owner).HasMaxLength(4096);
        b.Property(e => e.RegistrationAccessTokenHash).HasMaxLength(64);
        // Hydra's client ids are unique per network.
        b.HasIndex(e => new { e.Nid, e.ClientId }).IsUnique();
    }
}

public sealed class OAuth2TokenConfiguration : IEntityTypeConfiguration<OAuth2Token>
{
    public void Configure(EntityTypeBuilder<OAuth2Token> b)
    {
        b.ToTable("oauth2_tokens");
        b.HasKey(e => e.Pk);
        b.Property(e => e.Pk).ValueGeneratedNever();
        b.Property(e => e.Kind).HasMaxLength(32);
        b.Property(e => e.ClientId).HasMaxLength(255);
        b.Property(e => e.Subject).HasMaxLength(255);
        // Looked up by the token's hash on every introspection; revoked per grant; deleted per client.
        b.HasIndex(e => e.Signature).IsUnique();
        b.HasIndex(e => e.RequestId);
        b.HasIndex(e => new { e.Nid, e.ClientId });
        // cleanup sql: expired tokens in expiry order.
        b.HasIndex(e => new { e.Nid, e.ExpiresAt });
    }
}

public sealed class OAuth2JsonWebKeyConfiguration : IEntityTypeConfiguration<StoredJsonWebKey>
{
    public void Configure(EntityTypeBuilder<StoredJsonWebKey> b)
    {
        b.ToTable("oauth2_jwks");
        b.HasKey(e => e.Pk);
        b.Property(e => e.Pk).ValueGeneratedNever();
        b.Property(e => e.SetId).HasMaxLength(255);
        b.Property(e => e.KeyId).HasMaxLength(255);
        // A key id is unique within its set (Hydra's hydra_jwk unique index on sid, kid, nid); sets are read newest first.
        b.HasIndex(e => new { e.Nid, e.SetId, e.KeyId }).IsUnique();
        b.HasIndex(e => new { e.Nid, e.SetId, e.CreatedAt });
    }
}

public sealed class OAuth2FlowConfiguration : IEntityTypeConfiguration<OAuth2Flow>
{
    public void Configure(EntityTypeBuilder<OAuth2Flow> b)
    {
        b.ToTable("oauth2_flows");
        b.HasKey(e => e.Pk);
        b.Property(e => e.Pk).ValueGeneratedNever();
        b.Property(e => e.ClientId).HasMaxLength(255);
        b.Property(e => e.Subject).HasMaxLength(255);
        // Challenges and verifiers are looked up by their hash; each is unique.
        b.HasIndex(e => e.LoginChallenge).IsUnique();
        b.HasIndex(e => e.LoginVerifier).IsUnique();
        b.HasIndex(e => e.ConsentChallenge).IsUnique();
        b.HasIndex(e => e.ConsentVerifier).IsUnique();
        // A client and subject's flows (consent sessions, revocation).
        b.HasIndex(e => new { e.Nid, e.ClientId, e.Subject, e.State });
        // Remembered consents (consent skip, read at every login verifier): only the flows whose consent is remembered,
        // newest first. Without it the read visited every earlier flow of the client and subject, a cost that grew with
        // each authorization of a user who never ticks "remember" (a skip_consent client's every round trip).
        b.HasIndex(e => new { e.Nid, e.ClientId, e.Subject, e.State, e.RequestedAt }, "IX_oauth2_flows_remembered_consents")
            .HasFilter("\"ConsentRememberedUntil\" IS NOT NULL");
        // A subject's consent sessions (list and revoke).
        b.HasIndex(e => new { e.Nid, e.Subject, e.State });
        // Cleanup of expired requests that never became a consent session (ExpiredOAuth2RequestsCleaner): only those rows,
        // by expiry, so the consent sessions that stay for good are never visited.
        b.HasIndex(e => new { e.Nid, e.ExpiresAt }, "IX_oauth2_flows_expired_requests")
            .HasFilter("\"State\" <> " + OAuth2.Flows.OAuth2FlowState.ConsentUsed.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

public sealed class OAuth2LoginSessionConfiguration : IEntityTypeConfiguration<OAuth2LoginSession>
{
    public void Configure(EntityTypeBuilder<OAuth2LoginSession> b)
    {
        b.ToTable("oauth2_login_sessions");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.Subject).HasMaxLength(255);
        b.Property(e => e.IdentityProviderSessionId).HasMaxLength(255);
        // The browser's cookie is looked up by its hash.
        b.HasIndex(e => e.CookieHash).IsUnique();
        b.HasIndex(e => new { e.Nid, e.Subject });
        b.HasIndex(e => e.ExpiresAt);
    }
}

public sealed class OAuth2ForcedSubjectIdentifierConfiguration : IEntityTypeConfiguration<OAuth2ForcedSubjectIdentifier>
{
    public void Configure(EntityTypeBuilder<OAuth2ForcedSubjectIdentifier> b)
    {
        b.ToTable("oauth2_forced_subject_identifiers");
        b.HasKey(e => new { e.Nid, e.ClientId, e.Subject });
        b.Property(e => e.ClientId).HasMaxLength(255);
        b.Property(e => e.Subject).HasMaxLength(255);
        b.Property(e => e.SubjectObfuscated).HasMaxLength(255);
        // An id_token_hint is matched by the client and the identifier.
        b.HasIndex(e => new { e.Nid, e.ClientId, e.SubjectObfuscated });
    }
}

public sealed class OAuth2LogoutRequestConfiguration : IEntityTypeConfiguration<OAuth2LogoutRequest>
{
    public void Configure(EntityTypeBuilder<OAuth2LogoutRequest> b)
    {
        b.ToTable("oauth2_logout_requests");
        b.HasKey(e => e.Pk);
        b.Property(e => e.Pk).ValueGeneratedNever();
        b.Property(e => e.Subject).HasMaxLength(255);
        b.Property(e => e.SessionId).HasMaxLength(255);
        b.Property(e => e.ClientId).HasMaxLength(255);
        // Challenge and verifier are looked up by their hash; each is unique.
        b.HasIndex(e => e.Challenge).IsUnique();
        b.HasIndex(e => e.Verifier).IsUnique();
        b.HasIndex(e => e.ExpiresAt);
    }
}

public sealed class UsedJwtAssertionConfiguration : IEntityTypeConfiguration<UsedJwtAssertion>
{
    public void Configure(EntityTypeBuilder<UsedJwtAssertion> b)
    {
        b.ToTable("oauth2_jwt_assertions");
        b.HasKey(e => e.Pk);
        b.Property(e => e.Pk).ValueGeneratedNever();
        // A jti counts once per network: the unique index decides between concurrent uses.
        b.HasIndex(e => new { e.Nid, e.Signature }).IsUnique();
        // cleanup sql: expired ids in expiry order.
        b.HasIndex(e => new { e.Nid, e.ExpiresAt });
    }
}

public sealed class VerifiableCredentialNonceConfiguration : IEntityTypeConfiguration<Gatehouse.OAuth2.Credentials.VerifiableCredentialNonce>
{
    public void Configure(EntityTypeBuilder<Gatehouse.OAuth2.Credentials.VerifiableCredentialNonce> b)
    {
        b.ToTable("oauth2_vc_nonces");
        b.HasKey(e => e.Pk);
        b.Property(e => e.Pk).ValueGeneratedNever();
        // Spent by the nonce's hash; trimmed per access token on every priming.
        b.HasIndex(e => new { e.Nid, e.Signature }).IsUnique();
        b.HasIndex(e => new { e.Nid, e.AccessTokenSignature });
        // cleanup sql: expired nonces in expiry order.
        b.HasIndex(e => new { e.Nid, e.ExpiresAt });
    }
}

public sealed class TrustedJwtIssuerConfiguration : IEntityTypeConfiguration<Gatehouse.OAuth2.Trust.TrustedJwtIssuer>
{
    public void Configure(EntityTypeBuilder<Gatehouse.OAuth2.Trust.TrustedJwtIssuer> b)
    {
        b.ToTable("oauth2_trusted_jwt_issuers");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.Issuer).HasMaxLength(255);
        b.Property(e => e.Subject).HasMaxLength(255);
        b.Property(e => e.KeyId).HasMaxLength(255);
        // Hydra's unique index: one trust per issuer, subject and key.
        b.HasIndex(e => new { e.Nid, e.Issuer, e.Subject, e.KeyId }).IsUnique();
        // cleanup sql: expired trusts in expiry order.
        b.HasIndex(e => new { e.Nid, e.ExpiresAt });
    }
}
