using Gatehouse.Courier;
using Gatehouse.SelfService.Flows;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Persistence.Configurations;

public sealed class CourierMessageConfiguration : IEntityTypeConfiguration<CourierMessage>
{
    public void Configure(EntityTypeBuilder<CourierMessage> b)
    {
        b.ToTable("courier_messages");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.Status).HasMaxLength(16);
        b.Property(e => e.Type).HasMaxLength(16);
        b.Property(e => e.Channel).HasMaxLength(32);
        b.Property(e => e.Recipient).HasMaxLength(512);
        b.Property(e => e.TemplateType).HasMaxLength(64);
        b.Property(e => e.ClaimedBy).HasMaxLength(128);
        // The worker's claim query: due messages by status and time.
        b.HasIndex(e => new { e.Nid, e.Status, e.NextAttemptAt });
        b.HasIndex(e => new { e.Nid, e.Recipient });
        b.HasIndex(e => new { e.Nid, e.CreatedAt, e.Id });
        // cleanup sql: finished messages by last change.
        b.HasIndex(e => new { e.Nid, e.Status, e.UpdatedAt });
        b.HasMany(e => e.Dispatches).WithOne().HasForeignKey(d => d.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed class CourierDispatchConfiguration : IEntityTypeConfiguration<CourierDispatch>
{
    public void Configure(EntityTypeBuilder<CourierDispatch> b)
    {
        b.ToTable("courier_message_dispatches");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.Status).HasMaxLength(16);
        b.HasIndex(e => e.MessageId);
    }
}

public sealed class SelfServiceCodeConfiguration : IEntityTypeConfiguration<SelfServiceCode>
{
    public void Configure(EntityTypeBuilder<SelfServiceCode> b)
    {
        b.ToTable("selfservice_codes");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).ValueGeneratedNever();
        b.Property(e => e.Kind).HasMaxLength(32);
        b.Property(e => e.Address).HasMaxLength(512);
        b.Property(e => e.Via).HasMaxLength(16);
        b.HasIndex(e => new { e.Nid, e.FlowId });
        b.HasIndex(e => e.SecretHash);
        // cleanup sql: expired codes in expiry order.
        b.HasIndex(e => new { e.Nid, e.ExpiresAt });
    }
}
