using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Flows.Settings;
using Gatehouse.Sessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Persistence.Configurations;

public sealed class PendingTraitsChangeConfiguration : IEntityTypeConfiguration<PendingTraitsChange>
{
    public void Configure(EntityTypeBuilder<PendingTraitsChange> b)
    {
        // Kratos's table name and foreign keys: gone with the identity or either flow; a deleted session leaves a NULL,
        // which refuses the change.
        b.ToTable("identity_pending_traits_changes");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.NewAddressValue).HasMaxLength(400);
        b.Property(e => e.NewAddressVia).HasMaxLength(16);
        b.Property(e => e.OriginalTraitsHash).HasMaxLength(64);
        b.Property(e => e.Status).HasMaxLength(16);
        b.HasOne<Identity>().WithMany().HasForeignKey(e => e.IdentityId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Session>().WithMany().HasForeignKey(e => e.SessionId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne<SelfServiceFlow>().WithMany().HasForeignKey(e => e.OriginSettingsFlowId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<SelfServiceFlow>().WithMany().HasForeignKey(e => e.VerificationFlowId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(e => new { e.Nid, e.IdentityId, e.Status });
        b.HasIndex(e => new { e.Nid, e.VerificationFlowId });
        b.HasIndex(e => e.SessionId);
        b.HasIndex(e => e.OriginSettingsFlowId);
        b.HasIndex(e => e.VerificationFlowId);
    }
}
