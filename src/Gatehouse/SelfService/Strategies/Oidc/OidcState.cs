using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// What Gatehouse remembers between sending the browser to the provider and its return, carried in the <c>state</c>
/// parameter (Kratos's encrypted <c>state.go</c>): the flow, the provider, the nonce and the PKCE verifier, plus a random id
/// the flow keeps until the state is used (so it is used once) and the hash of a browser binding kept in a cookie (so a
/// state works only in the browser that started the sign-in). Encrypted and authenticated with <c>secrets.cipher</c>
/// under <c>ciphers.algorithm</c> (AES-GCM under <c>noop</c>, <see cref="OidcCipher"/>), so nobody can read the verifier or
/// forge a state.
/// </summary>
public sealed record OidcState(Guid FlowId, string FlowKind, string Provider, string Id, string Nonce, string? PkceVerifier, string? BindingHash, string? ExchangeHash = null)
{
    private const string Purpose = "oidc_state";

    public string Encrypt(OidcCipher cipher)
    {
        var o = new JsonObject
        {
            ["f"] = FlowId.ToString(),
            ["k"] = FlowKind,
            ["p"] = Provider,
            ["i"] = Id,
            ["n"] = Nonce,
        };
        if (PkceVerifier is not null) o["v"] = PkceVerifier;
        if (BindingHash is not null) o["b"] = BindingHash;
        if (ExchangeHash is not null) o["x"] = ExchangeHash;
        return cipher.EncryptInTransit(o.ToJsonString(), Purpose);
    }

    /// <summary>The state, or null when it does not decrypt (tampered, another deployment's, garbage).</summary>
    public static OidcState? TryDecrypt(OidcCipher cipher, string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 4096) return null;
        if (cipher.TryDecryptInTransit(value, Purpose) is not { } plain) return null;
        try
        {
            if (JsonNode.Parse(plain) is not JsonObject o) return null;
            if (!Guid.TryParse((string?)o["f"], out var flowId)) return null;
            return new OidcState(flowId, (string?)o["k"] ?? "", (string?)o["p"] ?? "", (string?)o["i"] ?? "", (string?)o["n"] ?? "",
                (string?)o["v"], (string?)o["b"], (string?)o["x"]);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>A random URL-safe value of 32 bytes (state ids, nonces, PKCE verifiers, browser bindings).</summary>
    public static string NewRandom() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>The PKCE S256 challenge of a verifier (RFC 7636 §4.2).</summary>
    public static string Challenge(string verifier) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    /// <summary>What the state keeps of a browser binding: its SHA-256, so the cookie value is not in the URL.</summary>
    public static string HashBinding(string binding) => Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(binding)));

    /// <summary>Constant-time comparison of two strings.</summary>
    public static bool SameValue(string? a, string? b) =>
        a is not null && b is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
