using System.Text.Json.Nodes;
using Gatehouse.Identities;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// OpenID Connect (social sign-in) credentials. The upstream tokens of the sign-in that linked an account
/// (<c>initial_id_token</c>, <c>initial_access_token</c>, <c>initial_refresh_token</c>) are stored encrypted with
/// <c>secrets.cipher</c> under <c>ciphers.algorithm</c> (<see cref="OidcCipher"/>; bound to the account and the field) and
/// decrypted only for the admin API's <c>include_credential=oidc</c>, as Kratos does.
/// </summary>
public sealed class OidcCredentials(OidcCipher cipher) : ProviderCredentials
{
    private static readonly string[] TokenFields = ["initial_id_token", "initial_access_token", "initial_refresh_token"];
    private const string Purpose = "oidc_token";

    public override string Type => CredentialTypes.Oidc;

    /// <summary>Puts the encrypted tokens on the identity's entry for <c>&lt;provider&gt;:&lt;subject&gt;</c>.</summary>
    public static void StoreTokens(OidcCipher cipher, Identity identity, string provider, string subject, OidcTokens tokens)
    {
        var credential = identity.Credentials.FirstOrDefault(c => c.Type == CredentialTypes.Oidc);
        if (credential is null) return;
        var config = JsonNode.Parse(credential.Config) as JsonObject ?? [];
        var entry = (config["providers"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(p => (string?)p["provider"] == provider && (string?)p["subject"] == subject);
        if (entry is null) return;
        EncryptTokens(cipher, entry, provider, subject, tokens);
        credential.Config = config.ToJsonString();
    }

    /// <summary>A credential entry for one linked account: <c>{provider, subject}</c> and the upstream tokens, encrypted.</summary>
    public static JsonObject Entry(OidcCipher cipher, string provider, string subject, OidcTokens tokens)
    {
        var entry = new JsonObject { ["provider"] = provider, ["subject"] = subject };
        EncryptTokens(cipher, entry, provider, subject, tokens);
        return entry;
    }

    private static void EncryptTokens(OidcCipher cipher, JsonObject entry, string provider, string subject, OidcTokens tokens)
    {
        string?[] values = [tokens.IdToken, tokens.AccessToken, tokens.RefreshToken];
        for (var i = 0; i < TokenFields.Length; i++)
            entry[TokenFields[i]] = string.IsNullOrEmpty(values[i]) ? "" : cipher.Encrypt(values[i]!, Purpose, $"{provider}:{subject}:{TokenFields[i]}");
    }

    /// <summary>The stored config with the tokens decrypted (one no secret decrypts is shown empty, as Kratos leaves it).</summary>
    public override string AdminConfig(string config)
    {
        if (JsonNode.Parse(config) is not JsonObject o || o["providers"] is not JsonArray providers) return config;
        foreach (var entry in providers.OfType<JsonObject>())
        {
            var account = $"{entry["provider"]}:{entry["subject"]}";
            foreach (var field in TokenFields)
            {
                if ((string?)entry[field] is { Length: > 0 } encrypted) entry[field] = cipher.TryDecrypt(encrypted, Purpose, $"{account}:{field}") ?? "";
            }
        }
        return o.ToJsonString();
    }
}
