using System.Collections.Concurrent;

namespace Gatehouse.OAuth2.Keys;

/// <summary>
/// Decrypted, imported signing keys of this process, by the stored row they came from. Which key signs is still read
/// from the database on every use (so a rotation or deletion by any instance takes effect at once); this only spares
/// decrypting the row, parsing its JWK and importing the key — and keeps the imported key, whose first signature pays
/// for the cryptographic library's per-key set-up, for the next token.
/// </summary>
public sealed class SigningKeyMemo
{
    // A handful of keys in practice (one per set and rotation); a bound in case sets are created in bulk.
    private const int MaxKeys = 256;

    private readonly ConcurrentDictionary<(string Set, string Kid, string Encrypted), JsonWebKeyManager.SigningKey> _keys = new();

    /// <summary>The memoised key of this exact stored row (same set, id and ciphertext), or the one <paramref name="decode"/> makes (null: the row cannot sign).</summary>
    public JsonWebKeyManager.SigningKey? GetOrDecode(StoredJsonWebKey row, Func<StoredJsonWebKey, JsonWebKeyManager.SigningKey?> decode)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(decode);
        var key = (row.SetId, row.KeyId, row.EncryptedKey);
        if (_keys.TryGetValue(key, out var known)) return known;
        var decoded = decode(row);
        if (decoded is null) return null;
        if (_keys.Count >= MaxKeys) _keys.Clear();
        return _keys.GetOrAdd(key, decoded);
    }
}
