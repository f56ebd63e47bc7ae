using Gatehouse.SelfService.Errors;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Persistence.Configurations;

public sealed class SelfServiceErrorConfiguration : IEntityTypeConfiguration<SelfServiceError>
{
    public void Configure(EntityTypeBuilder<SelfServiceError> b)
    {
        b.ToTable("selfservice_errors");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).ValueGeneratedNever();
        // cleanup sql: errors by age.
        b.HasIndex(e => new { e.Nid, e.CreatedAt });
    }
}
