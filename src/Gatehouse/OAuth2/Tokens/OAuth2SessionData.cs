using Gatehouse.OAuth2.Keys;

namespace Gatehouse.OAuth2.Tokens;

/// <summary>
/// Hydra's <c>oauth2.session.encrypt_at_rest</c> (default true; <c>driver/config/provider.go</c> <c>EncryptSessionData</c>)
/// for the session data a token row keeps — its custom claims, <see cref="OAuth2Token.Extra"/>, and the ID-token claims a
/// token hook gave it, <see cref="OAuth2Token.IdTokenExtra"/> (both are in Hydra's one session column): sealed with
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
    private const string IdTokenContext = "oauth2-token-session-id-token";

    /// <summary>What is stored for <paramref name="extra"/> of the token row <paramref name="pk"/>.</summary>
    public string Seal(Guid pk, string extra) => Seal(pk, extra, Context);

    /// <summary>The claims JSON of a stored row, or null when no configured secret decrypts them (the secrets changed).</summary>
    public string? Open(Guid pk, string stored) => Open(pk, stored, Context);

    private string Seal(Guid pk, string extra, string context) =>
        !settings.EncryptSessionAtRest || extra is "" or "{}" ? extra : cipher.Encrypt(extra, context, pk.ToString("D"));

    private string? Open(Guid pk, string stored, string context) =>
        stored.Length == 0 || stored[0] == '{' ? stored : cipher.TryDecrypt(stored, context, pk.ToString("D"));

    /// <summary>Writes <paramref name="rows"/> through <paramref name="add"/> with their claims sealed; the rows keep them in clear.</summary>
    public async Task AddSealedAsync(IReadOnlyList<OAuth2Token> rows, Func<IReadOnlyList<OAuth2Token>, Task> add)
    {
        var clear = new (string Extra, string? IdToken)[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            clear[i] = (rows[i].Extra, rows[i].IdTokenExtra);
            rows[i].Extra = Seal(rows[i].Pk, clear[i].Extra);
            if (clear[i].IdToken is { } idToken) rows[i].IdTokenExtra = Seal(rows[i].Pk, idToken, IdTokenContext);
        }
        try
        {
            await add(rows);
        }
        finally
        {
            for (var i = 0; i < rows.Count; i++) (rows[i].Extra, rows[i].IdTokenExtra) = clear[i];
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
        string? idToken = null;
        if (row.IdTokenExtra is { } sealedIdToken && (idToken = Open(row.Pk, sealedIdToken, IdTokenContext)) is null) return null;
        row.Extra = extra;
        row.IdTokenExtra = idToken;
        return row;
    }
}
