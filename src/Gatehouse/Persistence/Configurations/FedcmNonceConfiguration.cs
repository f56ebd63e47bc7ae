using Gatehouse.SelfService.Strategies.Oidc.Fedcm;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Persistence.Configurations;

public sealed class FedcmNonceConfiguration : IEntityTypeConfiguration<FedcmNonce>
{
    public void Configure(EntityTypeBuilder<FedcmNonce> b)
    {
        b.ToTable("selfservice_fedcm_nonces");
        b.HasKey(e => e.Pk);
        b.Property(e => e.Pk).ValueGeneratedNever();
        b.Property(e => e.Provider).HasMaxLength(255);
        // Spent by the nonce's digest; trimmed per browser on every issue.
        b.HasIndex(e => new { e.Nid, e.Signature }).IsUnique();
        b.HasIndex(e => new { e.Nid, e.BrowserSignature });
        // cleanup sql: expired nonces in expiry order.
        b.HasIndex(e => new { e.Nid, e.ExpiresAt });
    }
}
