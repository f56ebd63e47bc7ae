using System.Runtime.CompilerServices;

namespace Gatehouse.Identities;

/// <summary>
/// Remembers which identity objects were read with all their credentials (by <see cref="IPrivilegedIdentityStore"/>), so
/// that a check needing the full set right after a sign-in — the assurance level the identity can reach — uses them
/// instead of reading them again. Only the very objects the store returned, and only while their credential list is the
/// one it read, unchanged in length: an identity built elsewhere or changed since is not vouched for, and is read.
/// </summary>
public static class CompleteCredentials
{
    private static readonly ConditionalWeakTable<Identity, Read> Identities = [];

    private sealed record Read(List<IdentityCredential> Credentials, int Count);

    /// <summary>Called by the store for an identity it read with every credential.</summary>
    public static void Mark(Identity identity) => Identities.AddOrUpdate(identity, new Read(identity.Credentials, identity.Credentials.Count));

    /// <summary>The identity's credentials if it was read with all of them and they were not replaced since; else null.</summary>
    public static List<IdentityCredential>? Of(Identity identity) =>
        Identities.TryGetValue(identity, out var read) && ReferenceEquals(read.Credentials, identity.Credentials) && read.Count == identity.Credentials.Count
            ? read.Credentials
            : null;
}
