using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Sessions;

/// <summary>
/// Session and logout tokens in Kratos's format (<c>ory_st_</c>/<c>ory_lo_</c> + 32 alphanumerics) and their stored form.
/// </summary>
public static class SessionTokens
{
    public const string SessionPrefix = "ory_st_";
    public const string LogoutPrefix = "ory_lo_";
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private const int RandomLength = 32;

    /// <summary>Longer inputs cannot be tokens Gatehouse issued; they are refused before hashing.</summary>
    public const int MaxTokenLength = 512;

    public static string NewSessionToken() => SessionPrefix + RandomNumberGenerator.GetString(Alphabet, RandomLength);

    /// <summary>
    /// The logout token of a session, derived from its session token with HMAC-SHA256. Only hashes are stored, yet the
    /// logout endpoint must hand the same logout token out again (Kratos returns the stored one on every call);
    /// deriving it from the ~190-bit random session token keeps it unguessable, stable, and useless for recovering
    /// the session token.
    /// </summary>
    public static string LogoutTokenFor(string sessionToken)
    {
        var key = Encoding.UTF8.GetBytes(sessionToken);
        var chars = new char[RandomLength];
        var filled = 0;
        for (var block = 0; filled < RandomLength; block++)
        {
            var bytes = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes("gatehouse-logout-token/" + block));
            foreach (var b in bytes)
            {
                // Rejection sampling keeps every character equally likely (248 = 4 × 62).
                if (b >= 248) continue;
                chars[filled++] = Alphabet[b % Alphabet.Length];
                if (filled == RandomLength) break;
            }
        }
        return LogoutPrefix + new string(chars);
    }

    /// <summary>The stored form of a token: its SHA-256 (tokens carry enough entropy that a fast hash suffices).</summary>
    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
