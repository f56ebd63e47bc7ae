using Gatehouse.ApiKeys;
using Gatehouse.Courier;
using Gatehouse.Identities;
using Gatehouse.RateLimiting;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Tokens;
using Gatehouse.SelfService.Errors;
using Gatehouse.SelfService.Flows;
using Gatehouse.Sessions;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence;

/// <summary>
/// The one model. Provider-specific subclasses exist only so each provider has its own migration set
/// (<c>Persistence/Sqlite/Migrations</c>, <c>Persistence/Postgres/Migrations</c>).
/// </summary>
public abstract class GatehouseDbContext(DbContextOptions options) : DbContext(options)
{
    /// <summary>The tenant every query of this context is restricted to.</summary>
    public Guid Nid { get; init; } = Tenancy.DefaultNid;

    /// <summary>
    /// The writes held for the unit of work open on this context (<see cref="Stores.EfUnitOfWork"/>), or null. Set and
    /// cleared by that scoped service, so it never outlives the request (pooled contexts keep no state of it).
    /// </summary>
    internal HeldWrites? HeldWrites { get; set; }

    public DbSet<Identity> Identities => Set<Identity>();
    public DbSet<IdentityCredential> Credentials => Set<IdentityCredential>();
    public DbSet<CredentialIdentifier> CredentialIdentifiers => Set<CredentialIdentifier>();
    public DbSet<VerifiableAddress> VerifiableAddresses => Set<VerifiableAddress>();
    public DbSet<RecoveryAddress> RecoveryAddresses => Set<RecoveryAddress>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Session> Sessions => Set<Session>();
    public DbSet<SessionDevice> SessionDevices => Set<SessionDevice>();
    public DbSet<SelfServiceFlow> Flows => Set<SelfServiceFlow>();
    public DbSet<SelfServiceCode> Codes => Set<SelfServiceCode>();
    public DbSet<CourierMessage> CourierMessages => Set<CourierMessage>();
    public DbSet<CourierDispatch> CourierDispatches => Set<CourierDispatch>();
    public DbSet<SelfServiceError> SelfServiceErrors => Set<SelfServiceError>();
    public DbSet<SelfService.Flows.Settings.PendingTraitsChange> PendingTraitsChanges => Set<SelfService.Flows.Settings.PendingTraitsChange>();
    public DbSet<SelfService.Strategies.Oidc.Fedcm.FedcmNonce> FedcmNonces => Set<SelfService.Strategies.Oidc.Fedcm.FedcmNonce>();
    public DbSet<RateLimitCounter> RateLimitCounters => Set<RateLimitCounter>();
    public DbSet<OAuth2Client> OAuth2Clients => Set<OAuth2Client>();
    public DbSet<OAuth2Token> OAuth2Tokens => Set<OAuth2Token>();
    public DbSet<StoredJsonWebKey> OAuth2JsonWebKeys => Set<StoredJsonWebKey>();
    public DbSet<OAuth2Flow> OAuth2Flows => Set<OAuth2Flow>();
    public DbSet<OAuth2LoginSession> OAuth2LoginSessions => Set<OAuth2LoginSession>();
    public DbSet<OAuth2ForcedSubjectIdentifier> OAuth2ForcedSubjectIdentifiers => Set<OAuth2ForcedSubjectIdentifier>();
    public DbSet<OAuth2LogoutRequest> OAuth2LogoutRequests => Set<OAuth2LogoutRequest>();
    public DbSet<UsedJwtAssertion> OAuth2JwtAssertions => Set<UsedJwtAssertion>();
    public DbSet<OAuth2.Credentials.VerifiableCredentialNonce> OAuth2VerifiableCredentialNonces => Set<OAuth2.Credentials.VerifiableCredentialNonce>();
    public DbSet<Gatehouse.OAuth2.Trust.TrustedJwtIssuer> OAuth2TrustedJwtIssuers => Set<Gatehouse.OAuth2.Trust.TrustedJwtIssuer>();
    public DbSet<OAuth2.Device.OAuth2DeviceRequest> OAuth2DeviceRequests => Set<OAuth2.Device.OAuth2DeviceRequest>();
    public DbSet<OAuth2.Device.OAuth2DeviceChallenge> OAuth2DeviceChallenges => Set<OAuth2.Device.OAuth2DeviceChallenge>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(GatehouseDbContext).Assembly, t => t.Namespace == typeof(Configurations.IdentityConfiguration).Namespace);

        modelBuilder.Entity<Identity>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<IdentityCredential>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<CredentialIdentifier>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<VerifiableAddress>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<RecoveryAddress>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<ApiKey>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<Session>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<SessionDevice>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<SelfServiceFlow>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<SelfServiceCode>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<CourierMessage>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<CourierDispatch>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<SelfServiceError>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<SelfService.Flows.Settings.PendingTraitsChange>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<SelfService.Strategies.Oidc.Fedcm.FedcmNonce>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<RateLimitCounter>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<OAuth2Client>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<OAuth2Token>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<StoredJsonWebKey>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<OAuth2Flow>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<OAuth2LoginSession>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<OAuth2ForcedSubjectIdentifier>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<OAuth2LogoutRequest>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<UsedJwtAssertion>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<OAuth2.Credentials.VerifiableCredentialNonce>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<Gatehouse.OAuth2.Trust.TrustedJwtIssuer>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<OAuth2.Device.OAuth2DeviceRequest>().HasQueryFilter(e => e.Nid == Nid);
        modelBuilder.Entity<OAuth2.Device.OAuth2DeviceChallenge>().HasQueryFilter(e => e.Nid == Nid);
    }
}

public sealed class SqliteGatehouseDbContext(DbContextOptions<SqliteGatehouseDbContext> options) : GatehouseDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite keeps no time zone; everything Gatehouse stores is UTC, so read it back as UTC.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }
}

public sealed class PostgresGatehouseDbContext(DbContextOptions<PostgresGatehouseDbContext> options) : GatehouseDbContext(options);
