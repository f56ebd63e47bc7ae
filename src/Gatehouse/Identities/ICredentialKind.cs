using System.Text.Json.Nodes;

namespace Gatehouse.Identities;

/// <summary>
/// What the method owning a credential type knows about its credentials, so identity code needs no switch over types:
/// how many active first- and second-factor credentials one holds (Kratos's <c>ActiveCredentialsCounter</c>), and how the
/// admin API removes it. Implemented in the method's folder under <c>SelfService/Strategies/</c>.
/// </summary>
public interface ICredentialKind
{
    /// <summary>The credential type (<see cref="CredentialTypes"/>).</summary>
    string Type { get; }

    /// <summary>Active first-factor credentials this credential holds (a password: 1; social sign-in: one per provider).</summary>
    int CountFirstFactor(IdentityCredential credential);

    /// <summary>Active second-factor credentials this credential holds (a TOTP app, unused recovery codes, security keys).</summary>
    int CountMultiFactor(IdentityCredential credential);

    /// <summary>
    /// The config as the admin API shows it with <c>include_credential</c> (Kratos's shape): a method may keep state of its
    /// own in the stored config (a TOTP app's last used time step) that Kratos does not have.
    /// </summary>
    string AdminConfig(string config) => config;

    /// <summary>
    /// The config to store for one an admin wrote (create, PUT, or a PATCH of the admin view) or a method set, given the
    /// stored one (null for a new credential): a method turns secrets into what it keeps (recovery codes into hashes)
    /// and carries over the state <see cref="AdminConfig"/> leaves out (a TOTP app's last used time step), so an admin
    /// update neither stores a secret in plain text nor re-opens a spent code.
    /// </summary>
    JsonObject ToStored(JsonObject written, string? stored, Guid identityId) => written;

    /// <summary>
    /// False for a type the admin API never removes (passkeys and codes, as Kratos: "Credentials type passkey cannot be
    /// deleted."), which it answers with 400 when the identity has one (404 when it has none, as for any type).
    /// </summary>
    bool IsDeletable => true;

    /// <summary>Whether there is anything to remove (a password credential can hold only its identifiers).</summary>
    bool IsSetUp(IdentityCredential credential) => true;

    /// <summary>
    /// <c>DELETE /admin/identities/{id}/credentials/{type}</c>: removes the credential from the (tracked) identity, or the
    /// part <paramref name="identifier"/> names. Throws a <c>GatehouseError</c> for a request it cannot serve.
    /// </summary>
    void Remove(Identity identity, IdentityCredential credential, string? identifier, DateTime now);
}
