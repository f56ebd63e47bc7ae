using Gatehouse.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Persistence.Configurations;

public sealed class RateLimitCounterConfiguration : IEntityTypeConfiguration<RateLimitCounter>
{
    public void Configure(EntityTypeBuilder<RateLimitCounter> b)
    {
        b.ToTable("rate_limit_counters");
        b.HasKey(e => new { e.Nid, e.Key });
        b.Property(e => e.Key).HasMaxLength(96);
        // Cleanup deletes rows whose window has ended.
        b.HasIndex(e => e.ExpiresAt);
    }
}
