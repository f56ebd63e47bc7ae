using Gatehouse.OAuth2.Device;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Persistence.Configurations;

public sealed class OAuth2DeviceRequestConfiguration : IEntityTypeConfiguration<OAuth2DeviceRequest>
{
    public void Configure(EntityTypeBuilder<OAuth2DeviceRequest> b)
    {
        b.ToTable("oauth2_device_requests");
        b.HasKey(e => e.Pk);
        b.Property(e => e.Pk).ValueGeneratedNever();
        b.Property(e => e.ClientId).HasMaxLength(255);
        // Device codes and user codes are looked up by their hash; a user code is unique (a clash draws another).
        b.HasIndex(e => e.DeviceCode).IsUnique();
        b.HasIndex(e => e.UserCode).IsUnique();
        b.HasIndex(e => e.ExpiresAt);
    }
}

public sealed class OAuth2DeviceChallengeConfiguration : IEntityTypeConfiguration<OAuth2DeviceChallenge>
{
    public void Configure(EntityTypeBuilder<OAuth2DeviceChallenge> b)
    {
        b.ToTable("oauth2_device_challenges");
        b.HasKey(e => e.Pk);
        b.Property(e => e.Pk).ValueGeneratedNever();
        b.HasIndex(e => e.Challenge).IsUnique();
        b.HasIndex(e => e.Verifier).IsUnique();
        b.HasIndex(e => e.ExpiresAt);
    }
}
