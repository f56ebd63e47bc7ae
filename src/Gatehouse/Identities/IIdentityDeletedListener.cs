namespace Gatehouse.Identities;

/// <summary>
/// Told when an identity is deleted (e.g. the whoami cache, which must not answer for it again). Owned here so that
/// Identities need not know who listens (Sessions does), which keeps the two features out of a dependency cycle.
/// </summary>
public interface IIdentityDeletedListener
{
    void IdentityDeleted(Guid identityId);
}
