using Gatehouse.Sessions;

namespace Gatehouse.Identities;

/// <summary>The registered <see cref="ICredentialKind"/>s by type, and what they tell about an identity as a whole.</summary>
public sealed class CredentialKinds(IEnumerable<ICredentialKind> kinds)
{
    private readonly Dictionary<string, ICredentialKind> _byType = kinds.GroupBy(k => k.Type).ToDictionary(g => g.Key, g => g.First());

    /// <summary>The kind owning a credential type, or null (a type no method owns: nothing may be done with it).</summary>
    public ICredentialKind? Find(string type) => _byType.GetValueOrDefault(type);

    /// <summary>The identity's active first-factor credentials, over all its credentials.</summary>
    public int CountFirstFactor(Identity identity) => identity.Credentials.Sum(c => Find(c.Type)?.CountFirstFactor(c) ?? 0);

    /// <summary>The identity's active second-factor credentials, over all its credentials.</summary>
    public int CountMultiFactor(Identity identity) => identity.Credentials.Sum(c => Find(c.Type)?.CountMultiFactor(c) ?? 0);

    /// <summary>
    /// The highest assurance level the identity can reach (Kratos's <c>identity.AvailableAAL</c>): aal2 with a first and a
    /// second factor, aal1 with a first factor only, aal0 without credentials. Needs the credentials' configs
    /// (an identity from <see cref="IPrivilegedIdentityStore"/>).
    /// </summary>
    public string AvailableAal(Identity identity)
    {
        if (CountFirstFactor(identity) == 0) return AssuranceLevels.Aal0;
        return CountMultiFactor(identity) > 0 ? AssuranceLevels.Aal2 : AssuranceLevels.Aal1;
    }
}
