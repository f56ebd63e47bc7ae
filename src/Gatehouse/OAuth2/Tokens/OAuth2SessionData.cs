using Gatehouse.OAuth2.Keys;

namespace Gatehouse.OAuth2.Tokens;

/// <summary>
/// Hydra's <c>oauth2.session.encrypt_at_rest</c> (default true; <c>driver/config/provider.go</c> <c>EncryptSessionData</c>)
/// for the session data a token row keeps — its custom claims, <see cref="OAuth2Token.Extra"/>: sealed with
/// <see cref="SystemSecretCipher"/> (AES-GCM under <c>secrets.system</c>) before the row is written, as Hydra's
/// <c>persister_oauth2.go</c> <c>sqlSchemaFromRequest</c> encrypts the session column with its key cipher.
/// <para>
/// Reading needs no migration and no flag, as Hydra's <c>toRequest</c>: stored data that is JSON (it starts with <c>{</c>:
/// rows written before, or with the key off) is used as it is, anything else is decrypted. Rows without claims keep
/// <c>{}</c> in clear — there is nothing to hide, and most tokens have none, so introspection decrypts only when a token
/// carries claims. The row's primary key is the associated data, so sealed claims cannot be moved to another token.
/// </para>
/// </summary>
public sealed class OAuth2SessionData(SystemSecretCipher cipher, OAuth2Settings settings)
{
    private const string Context = "oauth2-token-session";

    /// <summary>What is stored for <paramref name="extra"/> of the token row <paramref name="pk"/>.</summary>
    public string Seal(Guid pk, string extra) =>
        !settings.EncryptSessionAtRest || extra is "" or "{}" ? extra : cipher.Encrypt(extra, Context, pk.ToString("D"));

    /// <summary>The claims JSON of a stored row, or null when no configured secret decrypts them (the secrets changed).</summary>
    public string? Open(Guid pk, string stored) =>
        stored.Length == 0 || stored[0] == '{' ? stored : cipher.TryDecrypt(stored, Context, pk.ToString("D"));

    /// <summary>Writes <paramref name="rows"/> through <paramref name="add"/> with their claims sealed; the rows keep them in clear.</summary>
    public async Task AddSealedAsync(IReadOnlyList<OAuth2Token> rows, Func<IReadOnlyList<OAuth2Token>, Task> add)
    {
        var clear = new string[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            clear[i] = rows[i].Extra;
            rows[i].Extra = Seal(rows[i].Pk, clear[i]);
        }
        try
        {
            await add(rows);
        }
        finally
        {
            for (var i = 0; i < rows.Count; i++) rows[i].Extra = clear[i];
        }
    }

    /// <summary>
    /// The row with its claims opened in place, or null when they cannot be (a token whose claims no configured secret
    /// decrypts is treated as unknown: Hydra's <c>toRequest</c> fails on it too).
    /// </summary>
    public OAuth2Token? Opened(OAuth2Token? row)
    {
        if (row is null) return null;
        if (Open(row.Pk, row.Extra) is not { } extra) return null;
        row.Extra = extra;
        return row;
    }
}
