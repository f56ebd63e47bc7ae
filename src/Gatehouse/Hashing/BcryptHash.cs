using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Gatehouse.Hashing;

/// <summary>
/// <c>$2a$</c>, <c>$2b$</c>, <c>$2y$</c>, <c>$2$</c> (and <c>$2z$</c>, which Kratos's prefix
/// pattern also admits) followed by a two-digit cost and 53 characters of salt and digest.
/// </summary>
internal sealed partial class BcryptHash : StoredHash
{
    /// <summary>bcrypt reads at most this many bytes of the password; Kratos rejects longer ones.</summary>
    public const int MaxPasswordBytes = 72;

    private readonly string _normalized;

    private BcryptHash(int cost, string normalized)
    {
        Cost = cost;
        _normalized = normalized;
    }

    public int Cost { get; }

    public static bool HasPrefix(string encoded) => Prefix().IsMatch(encoded);

    public static BcryptHash? Parse(string encoded)
    {
        var match = Shape().Match(encoded);
        if (!match.Success)
        {
            return null;
        }

        var cost = int.Parse(match.Groups["cost"].ValueSpan, provider: null);
        if (cost < 4)
        {
            return null;
        }

        // Kratos compares with Go's bcrypt, which ignores the minor version and always hashes
        // the password with its terminating NUL, i.e. as $2a$/$2b$/$2y$ do. BCrypt.Net treats
        // those three alike, so every variant is verified as $2a$.
        var normalized = "$2a$" + encoded[(match.Groups["cost"].Index)..];
        return new BcryptHash(cost, normalized);
    }

    public override string? FindExceededBound(CostLimits limits) =>
        Cost > limits.BcryptCost ? $"bcrypt cost {Cost} is above {limits.BcryptCost}" : null;

    public override bool Matches(byte[] password)
    {
        if (password.Length > MaxPasswordBytes)
        {
            return false;
        }

        string computed;
        try
        {
            computed = BCrypt.Net.BCrypt.HashPassword(Encoding.UTF8.GetString(password), _normalized);
        }
        catch (Exception e) when (e is BCrypt.Net.SaltParseException or ArgumentException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(_normalized));
    }

    [GeneratedRegex(@"^\$2[abzy]?\$", RegexOptions.CultureInvariant)]
    private static partial Regex Prefix();

    [GeneratedRegex(@"^\$2[abzy]?\$(?<cost>[0-9]{2})\$[./A-Za-z0-9]{53}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}
