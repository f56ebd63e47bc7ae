using Gatehouse.SelfService.Flows;
using Gatehouse.Sessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Persistence.Configurations;

public sealed class SessionConfiguration : IEntityTypeConfiguration<Session>
{
    public void Configure(EntityTypeBuilder<Session> b)
    {
        b.ToTable("sessions");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.Aal).HasMaxLength(8);
        // whoami: one seek by token hash.
        b.HasIndex(e => e.TokenHash).IsUnique();
        b.HasIndex(e => e.LogoutTokenHash).IsUnique();
        b.HasIndex(e => new { e.Nid, e.IdentityId });
        // Admin list: keyset over (created_at DESC, id).
        b.HasIndex(e => new { e.Nid, e.CreatedAt, e.Id });
        // cleanup sql: expired sessions in expiry order.
        b.HasIndex(e => new { e.Nid, e.ExpiresAt });
        b.HasOne(e => e.Identity).WithMany().HasForeignKey(e => e.IdentityId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(e => e.Devices).WithOne().HasForeignKey(d => d.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed class SessionDeviceConfiguration : IEntityTypeConfiguration<SessionDevice>
{
    public void Configure(EntityTypeBuilder<SessionDevice> b)
    {
        b.ToTable("session_devices");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.IpAddress).HasMaxLength(64);
        b.Property(e => e.UserAgent).HasMaxLength(512);
        b.Property(e => e.Location).HasMaxLength(512);
        b.HasIndex(e => e.SessionId);
    }
}

public sealed class SelfServiceFlowConfiguration : IEntityTypeConfiguration<SelfServiceFlow>
{
    public void Configure(EntityTypeBuilder<SelfServiceFlow> b)
    {
        b.ToTable("selfservice_flows");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.Kind).HasMaxLength(16);
        b.Property(e => e.Type).HasMaxLength(16);
        b.Property(e => e.State).HasMaxLength(32);
        b.Property(e => e.Active).HasMaxLength(32);
        b.Property(e => e.CsrfToken).HasMaxLength(128);
        b.Property(e => e.RequestedAal).HasMaxLength(8);
        // Answer-only: a transient payload and continue_with (which may hold a session token) live for the request that
        // made them and are never stored, as in Kratos (db:"-"), so no later fetch of the flow can reveal them.
        b.Ignore(e => e.TransientPayload);
        b.Ignore(e => e.ContinueWith);
        b.HasIndex(e => new { e.Nid, e.Kind, e.Id });
        b.HasIndex(e => e.ExpiresAt);
    }
}
