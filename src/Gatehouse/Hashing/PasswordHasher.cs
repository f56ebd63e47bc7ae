using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;

namespace Gatehouse.Hashing;

/// <summary>
/// Hashes new passwords with the configured hasher (bcrypt or argon2id) and verifies passwords
/// against every stored or imported format Kratos understands, choosing the format by the hash's
/// prefix. See <c>docs/hashing.md</c>.
/// </summary>
public sealed class PasswordHasher
{
    private readonly HashersOptions _options;
    private readonly bool _useArgon2;
    private readonly CostLimits _verificationLimits;

    /// <exception cref="ArgumentException">The <c>hashers</c> options name an unknown algorithm or impossible parameters.</exception>
    public PasswordHasher(HashersOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _useArgon2 = options.Algorithm switch
        {
            "bcrypt" => false,
            "argon2" => true,
            _ => throw new ArgumentException(
                $"hashers.algorithm is \"{options.Algorithm}\"; set it to \"bcrypt\" or \"argon2\".", nameof(options)),
        };
        if (_useArgon2)
        {
            ValidateArgon2(options.Argon2);
        }
        else if (options.Bcrypt.Cost is < 4 or > 31)
        {
            throw new ArgumentException(
                $"hashers.bcrypt.cost is {options.Bcrypt.Cost}; set it between 4 and 31.", nameof(options));
        }

        _options = options;
        _verificationLimits = CostLimits.ForVerification(options);
    }

    /// <summary>
    /// The longest password, in UTF-8 bytes, that <see cref="Hash"/> accepts: 72 for bcrypt, which
    /// ignores anything beyond; null (no limit) for argon2. Callers reject longer passwords first.
    /// </summary>
    public int? MaxPasswordBytes => _useArgon2 ? null : BcryptHash.MaxPasswordBytes;

    /// <summary>
    /// Hashes <paramref name="password"/> with the configured hasher: <c>$2a$&lt;cost&gt;$…</c> for bcrypt,
    /// <c>$argon2id$v=19$m=&lt;KiB&gt;,t=…,p=…$&lt;salt&gt;$&lt;hash&gt;</c> for argon2.
    /// </summary>
    /// <exception cref="ArgumentException">The password is longer than <see cref="MaxPasswordBytes"/>.</exception>
    public string Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var bytes = Encoding.UTF8.GetBytes(password);
        if (bytes.Length > MaxPasswordBytes)
        {
            throw new ArgumentException(
                $"The password is {bytes.Length} bytes long; bcrypt hashes at most {MaxPasswordBytes}.", nameof(password));
        }

        if (!_useArgon2)
        {
            return BCrypt.Net.BCrypt.HashPassword(password, BCrypt.Net.BCrypt.GenerateSalt(_options.Bcrypt.Cost, 'a'));
        }

        var argon2 = _options.Argon2;
        var memoryKiB = (int)(argon2.Memory / 1024);
        var salt = RandomNumberGenerator.GetBytes(argon2.SaltLength);
        var hash = Argon2Hash.Derive(
            argon2id: true, bytes, salt, memoryKiB, argon2.Iterations, argon2.Parallelism, argon2.KeyLength);
        return Argon2Hash.Encode(memoryKiB, argon2.Iterations, argon2.Parallelism, salt, hash);
    }

    /// <summary>
    /// True when <paramref name="password"/> matches <paramref name="encodedHash"/>, in any supported
    /// format. False for a wrong password, an unknown or malformed hash, or a hash whose cost
    /// parameters exceed the import bounds (raised to the configured parameters). Never throws.
    /// </summary>
    public bool Verify(string password, string encodedHash)
    {
        if (password is null || encodedHash is null
            || !StoredHash.TryParse(encodedHash, out var stored)
            || stored.FindExceededBound(_verificationLimits) is not null)
        {
            return false;
        }

        try
        {
            return stored.Matches(Encoding.UTF8.GetBytes(password));
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException or InvalidOperationException)
        {
            // Parsing rejects what the primitives refuse; this guards the contract that a stored
            // hash can never turn a login into a server error.
            return false;
        }
    }

    /// <summary>True when <paramref name="hash"/> is a well-formed hash in one of the supported formats.</summary>
    public static bool IsKnownFormat(string hash) => hash is not null && StoredHash.TryParse(hash, out _);

    /// <summary>
    /// Checks a hash an administrator imports: it must be in a supported format and declare cost
    /// parameters within Gatehouse's bounds (bcrypt cost ≤ 15; argon2 m ≤ 1 GiB, t ≤ 10, p ≤ 16;
    /// pbkdf2 i ≤ 10,000,000; scrypt N ≤ 2^17, r ≤ 8, p ≤ 10; sha-crypt rounds ≤ 10,000,000).
    /// </summary>
    public static HashImportCheck ValidateImport(string hash)
    {
        if (hash is null || !StoredHash.TryParse(hash, out var stored))
        {
            return HashImportCheck.UnknownFormat;
        }

        return stored.FindExceededBound(CostLimits.Import) is { } detail
            ? HashImportCheck.BoundsExceeded(detail)
            : HashImportCheck.Accepted;
    }

    /// <summary>
    /// True when <paramref name="hash"/> should be replaced by <see cref="Hash"/> after a successful
    /// login: it is not in the configured hasher's format, or it was made with weaker parameters
    /// (a lower bcrypt cost; lower argon2 memory, iterations, parallelism or key length).
    /// </summary>
    public bool NeedsRehash(string hash)
    {
        if (hash is null || !StoredHash.TryParse(hash, out var stored))
        {
            return true;
        }

        if (!_useArgon2)
        {
            return stored is not BcryptHash bcrypt || bcrypt.Cost < _options.Bcrypt.Cost;
        }

        var wanted = _options.Argon2;
        return stored is not Argon2Hash { IsArgon2id: true } argon2
            || argon2.MemoryKiB < wanted.Memory / 1024
            || argon2.Iterations < wanted.Iterations
            || argon2.Parallelism < wanted.Parallelism
            || argon2.KeyLength < wanted.KeyLength;
    }

    private static void ValidateArgon2(Argon2Options argon2)
    {
        if (argon2.Iterations < 1)
        {
            throw new ArgumentException($"hashers.argon2.iterations is {argon2.Iterations}; set it to 1 or more.", nameof(argon2));
        }

        if (argon2.Parallelism < 1)
        {
            throw new ArgumentException($"hashers.argon2.parallelism is {argon2.Parallelism}; set it to 1 or more.", nameof(argon2));
        }

        // Under 8 KiB per lane is taken as Kratos takes it (see Argon2Hash.Parse); under 1 KiB would be m=0.
        if (argon2.Memory / 1024 < 1 || argon2.Memory / 1024 > int.MaxValue)
        {
            throw new ArgumentException(
                $"hashers.argon2.memory is {argon2.Memory} bytes; argon2 needs at least 1 KiB and at most 2 TiB.",
                nameof(argon2));
        }

        if (argon2.SaltLength < 8)
        {
            throw new ArgumentException($"hashers.argon2.salt_length is {argon2.SaltLength}; set it to 8 or more.", nameof(argon2));
        }

        if (argon2.KeyLength < 4)
        {
            throw new ArgumentException($"hashers.argon2.key_length is {argon2.KeyLength}; set it to 4 or more.", nameof(argon2));
        }
    }
}
