using System.Text.Json.Nodes;
using Gatehouse.Identities;

namespace Gatehouse.SelfService.Strategies.WebAuthn;

/// <summary>Records what a sign-in with a WebAuthn key changed (sign count, backup state, last use, clone warning).</summary>
public static class WebAuthnKeyUse
{
    /// <summary>
    /// Stores <paramref name="key"/>'s new state in its credential. The config is swapped only if unchanged since it was
    /// read; a concurrent change is re-read and applied again unless the stored count overtook this one (then one of the
    /// two sign-ins came from a clone, and this one is refused). False: refuse the sign-in.
    /// </summary>
    public static async Task<bool> SaveAsync(IPrivilegedIdentityStore store, IdentityCredential credential, WebAuthnKey key, DateTime now, CancellationToken ct)
    {
        var config = credential.Config;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            // One parse of the stored config: the stored key is read from the document that is then updated.
            var updated = JsonNode.Parse(config) as JsonObject ?? [];
            var stored = (updated["credentials"] as JsonArray ?? []).Select(WebAuthnKey.FromJson).OfType<WebAuthnKey>()
                .FirstOrDefault(k => k.Id.AsSpan().SequenceEqual(key.Id));
            if (stored is null) return false;
            if (!key.CloneWarning && key.SignCount != 0 && stored.SignCount >= key.SignCount) return false;
            if (!WebAuthnKey.UpdateUse(updated, key)) return false;
            if (await store.SwapCredentialConfigAsync(credential.Id, config, updated.ToJsonString(), now, ct)) return !key.CloneWarning;
            config = (await store.CredentialsOfAsync(credential.IdentityId, ct)).FirstOrDefault(c => c.Id == credential.Id)?.Config;
            if (config is null) return false;
        }
        return false;
    }
}
