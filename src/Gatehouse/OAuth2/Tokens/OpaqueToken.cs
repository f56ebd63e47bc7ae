using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.OAuth2.Tokens;

/// <summary>
/// Hydra's opaque token strings (<c>ory_at_…</c> access, <c>ory_rt_…</c> refresh, <c>ory_ac_…</c> authorization code):
/// the prefix and 256 random bits, base64url. Stored as SHA-256 only: with 256 random bits there is nothing to guess
/// from, so a fast hash suffices, and the lookup by hash is an index seek.
/// </summary>
public static class OpaqueToken
{
    public const string AccessPrefix = "ory_at_";
    public const string RefreshPrefix = "ory_rt_";
    public const string CodePrefix = "ory_ac_";

    public static string New(string prefix) => prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>Cheap shape check before a database lookup: prefix and length bounds.</summary>
    public static bool LooksValid(string token) => token.Length is > 7 and < 200 && token.StartsWith("ory_", StringComparison.Ordinal);
}
