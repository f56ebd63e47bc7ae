using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.OAuth2.Keys;

/// <summary>
/// Hydra's JSON Web Key sets (<c>jwk/handler.go</c>, <c>persister_jwk.go</c>, <c>jwk/helper.go</c>): generate, read,
/// replace and delete keys, find the key that signs for a set (generating the set on first use), and the public keys
/// of <c>/.well-known/jwks.json</c>.
/// <para>
/// Rotation is adding a key to a set (<c>createJsonWebKeySet</c> on an existing set): a set lists newest first (by creation time), its
/// newest private key signs, and older keys stay published so tokens they signed keep verifying until the keys are
/// deleted. A stored key no configured secret decrypts (the secrets changed) is shown by its public part only and
/// never signs; if no key of a set can sign, a new one is generated, as Hydra does for a set without a private key.
/// </para>
/// </summary>
public sealed class JsonWebKeyManager(IJsonWebKeyStore store, SystemSecretCipher cipher, KeyGeneration generation, TimeProvider time, ILogger<JsonWebKeyManager> logger, SigningKeyMemo? memo = null)
{
    /// <summary>The set ID tokens are signed with (Hydra's <c>x.OpenIDConnectKeyName</c>).</summary>
    public const string IdTokenSet = "hydra.openid.id-token";

    /// <summary>The set that signs JWT access tokens (Hydra's <c>hydra.jwt.access-token</c>).</summary>
    public const string AccessTokenSet = "hydra.jwt.access-token";

    /// <summary>The sets <c>/.well-known/jwks.json</c> publishes (Hydra's <c>webfinger.jwks.broadcast_keys</c>, generated when missing; the JWT access-token set is published once it exists).</summary>
    public static readonly IReadOnlyList<string> BroadcastSets = [IdTokenSet];

    private const int MaxNameLength = 255;

    public sealed record SigningKey(Jwk Key, SigningCredentials Credentials);

    /// <summary><c>createJsonWebKeySet</c>: generates a key and adds it to the set (creating the set).</summary>
    public async Task<List<Jwk>> CreateAsync(string set, JsonNode? body, CancellationToken ct)
    {
        CheckName(set);
        if (body is not JsonObject o)
            throw OAuth2Error.BadRequest("Unable to decode the request body: json: cannot unmarshal " + (body is JsonArray ? "array" : body is null ? "null" : "value") + " into Go value of type jwk.createJsonWebKeySetBody");
        var alg = Field(o, "alg");
        var kid = Field(o, "kid");
        var use = Field(o, "use");
        if (!Jwk.GeneratableAlgorithms.Contains(alg)) throw UnsupportedAlgorithm();
        if (use.Length > 0 && use is not ("sig" or "enc")) throw OAuth2Error.BadRequest("Field 'use' must be 'sig' or 'enc'.");
        if (kid.Length > MaxNameLength) throw OAuth2Error.BadRequest($"Field 'kid' must be at most {MaxNameLength} characters long.");
        var key = Jwk.Generate(alg, kid.Length > 0 ? kid : Guid.NewGuid().ToString(), use, generation.RsaBits);
        await store.AddAsync([Row(set, key)], ct);
        return [key];
    }

    /// <summary><c>getJsonWebKeySet</c>: the set with private keys (as Hydra's admin API), newest first; 404 when empty.</summary>
    public async Task<List<Jwk>> GetSetAsync(string set, CancellationToken ct)
    {
        var rows = set.Length > MaxNameLength ? [] : await store.ListAsync(set, ct);
        var keys = rows.Select(Readable).OfType<Jwk>().ToList();
        if (keys.Count == 0) throw SetNotFound();
        return keys;
    }

    /// <summary><c>getJsonWebKey</c>: one key, as a set.</summary>
    public async Task<List<Jwk>> GetKeyAsync(string set, string kid, CancellationToken ct)
    {
        var row = set.Length > MaxNameLength || kid.Length > MaxNameLength ? null : await store.FindAsync(set, kid, ct);
        return row is not null && Readable(row) is { } key ? [key] : throw OAuth2Error.NotFound();
    }

    /// <summary><c>setJsonWebKeySet</c>: replaces the whole set with the body's keys.</summary>
    public async Task<List<Jwk>> SetSetAsync(string set, JsonNode? body, CancellationToken ct)
    {
        CheckName(set);
        if (body is not JsonObject o)
            throw OAuth2Error.BadRequest("Unable to decode the request body: json: cannot unmarshal " + (body is JsonArray ? "array" : "value") + " into Go value of type jose.JSONWebKeySet");
        var keys = new List<Jwk>();
        if (o["keys"] is { } list)
        {
            if (list is not JsonArray array) throw OAuth2Error.BadRequest("Unable to decode the request body: json: cannot unmarshal value into Go struct field JSONWebKeySet.keys of type []jose.JSONWebKey");
            foreach (var item in array) keys.Add(ParseKey(item));
        }
        if (keys.GroupBy(k => k.Kid, StringComparer.Ordinal).Any(g => g.Count() > 1)) throw OAuth2Error.Conflict();
        // The first key of the body is the newest row (a microsecond apart), so the set reads back in the body's order
        // and its first key signs.
        var created = Now();
        var rows = keys.Select((k, i) => Row(set, k, created.AddTicks(-i * 10))).ToList();
        await store.ReplaceSetAsync(set, rows, ct);
        return keys;
    }

    /// <summary><c>setJsonWebKey</c>: replaces (or adds) the body's key, by the body's <c>kid</c> (Hydra ignores the path's).</summary>
    public async Task<Jwk> SetKeyAsync(string set, JsonNode? body, CancellationToken ct)
    {
        CheckName(set);
        var key = ParseKey(body);
        await store.ReplaceKeyAsync(Row(set, key), ct);
        return key;
    }

    public Task DeleteKeyAsync(string set, string kid, CancellationToken ct) =>
        set.Length > MaxNameLength || kid.Length > MaxNameLength ? Task.CompletedTask : store.DeleteKeyAsync(set, kid, ct);

    public Task DeleteSetAsync(string set, CancellationToken ct) =>
        set.Length > MaxNameLength ? Task.CompletedTask : store.DeleteSetAsync(set, ct);

    /// <summary>
    /// The key that signs for <paramref name="set"/>: its newest key that can sign (an RSA or EC private key this process
    /// can decrypt); when there is none, a new RS256 key is generated and added (Hydra's <c>GetOrGenerateKeys</c>).
    /// </summary>
    public async Task<SigningKey> GetSigningKeyAsync(string set, CancellationToken ct)
    {
        if (await FindSigningKeyAsync(set, ct) is { } found) return found;
        await generation.Lock.WaitAsync(ct);
        try
        {
            if (await FindSigningKeyAsync(set, ct) is { } raced) return raced;
            if ((await store.ListAsync(set, ct)).Count == 0) logger.LogInformation("JSON Web Key Set {Set} does not exist yet, generating a new RS256 key pair", set);
            else logger.LogWarning("JSON Web Key Set {Set} has no key that can sign, generating a new RS256 key pair", set);
            var key = Jwk.Generate("RS256", Guid.NewGuid().ToString(), "sig", generation.FirstUseRsaBits);
            await store.AddAsync([Row(set, key)], ct);
            return new SigningKey(key, key.SigningCredentials()!);
        }
        finally
        {
            generation.Lock.Release();
        }
    }

    /// <summary>
    /// <c>/.well-known/jwks.json</c>: the public keys of the broadcast sets, each set newest first; a set that does not
    /// exist yet is generated first (as Hydra's <c>discoverJsonWebKeys</c>). Symmetric keys have no public part and are left out.
    /// The sets are Hydra's <c>WellKnownKeys</c>: <c>webfinger.jwks.broadcast_keys</c> (<paramref name="configured"/>), then
    /// the JWT access-token set and the ID-token set, each once; the ID-token set and the configured ones are generated when
    /// missing, the access-token set is published once it exists (Hydra generates it here too).
    /// </summary>
    public Task<List<Jwk>> PublicKeysAsync(CancellationToken ct) => PublicKeysAsync(BroadcastSets, ct);

    /// <inheritdoc cref="PublicKeysAsync(CancellationToken)"/>
    public async Task<List<Jwk>> PublicKeysAsync(IReadOnlyList<string> configured, CancellationToken ct)
    {
        IReadOnlyList<string> published = [.. configured.Concat([AccessTokenSet, IdTokenSet]).Distinct(StringComparer.Ordinal)];
        IReadOnlyList<string> generated = [.. configured.Concat(BroadcastSets).Distinct(StringComparer.Ordinal)];
        var rows = await store.ListAsync(published, ct);
        foreach (var set in generated.Where(s => !rows.Any(r => r.SetId == s)))
        {
            await GetSigningKeyAsync(set, ct);
            rows = await store.ListAsync(published, ct);
        }
        var keys = new List<Jwk>();
        // The JWT access-token set is published once it exists (the JWKS endpoint creates it first when JWT access tokens
        // are the global strategy), so resource servers can verify JWT access tokens.
        foreach (var set in published)
        {
            keys.AddRange(rows.Where(r => r.SetId == set && r.PublicKey is not null).Select(r => Jwk.Load(r.PublicKey!)));
        }
        return keys;
    }

    private async Task<SigningKey?> FindSigningKeyAsync(string set, CancellationToken ct)
    {
        foreach (var row in await store.ListAsync(set, ct))
        {
            if ((memo is null ? Decode(row) : memo.GetOrDecode(row, Decode)) is { } found) return found;
        }
        return null;
    }

    /// <summary>The row's key with its signing credentials, or null when this process cannot decrypt it or it cannot sign.</summary>
    private SigningKey? Decode(StoredJsonWebKey row)
    {
        if (cipher.TryDecrypt(row.EncryptedKey, row.SetId, row.KeyId) is not { } json) return null;
        var key = Jwk.Load(json);
        return key.SigningCredentials() is { } credentials ? new SigningKey(key, credentials) : null;
    }

    /// <summary>The whole key when this process can decrypt it, else its public part (null for a symmetric key).</summary>
    private Jwk? Readable(StoredJsonWebKey row)
    {
        if (cipher.TryDecrypt(row.EncryptedKey, row.SetId, row.KeyId) is { } json) return Jwk.Load(json);
        logger.LogWarning("JSON Web Key {Kid} of set {Set} cannot be decrypted with the configured secrets; showing its public part only", row.KeyId, row.SetId);
        return row.PublicKey is null ? null : Jwk.Load(row.PublicKey);
    }

    private StoredJsonWebKey Row(string set, Jwk key, DateTime? created = null) => new()
    {
        Pk = Guid.CreateVersion7(),
        SetId = set,
        KeyId = key.Kid,
        PublicKey = key.Public()?.Serialize(),
        EncryptedKey = cipher.Encrypt(key.Serialize(), set, key.Kid),
        CreatedAt = created ?? Now(),
    };

    private static Jwk ParseKey(JsonNode? node)
    {
        if (!Jwk.TryParse(node, out var key, out var error)) throw OAuth2Error.BadRequest("Unable to decode the request body: " + error);
        if (key.Kid.Length == 0) throw OAuth2Error.BadRequest("Unable to decode the request body: the JSON Web Key must have a 'kid'.");
        if (key.Kid.Length > MaxNameLength) throw OAuth2Error.BadRequest($"Field 'kid' must be at most {MaxNameLength} characters long.");
        return key;
    }

    private static string Field(JsonObject o, string name) => o[name] switch
    {
        null => "",
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => v.GetValue<string>(),
        var other => throw OAuth2Error.BadRequest($"Unable to decode the request body: json: cannot unmarshal {other.GetValueKind().ToString().ToLowerInvariant()} into Go struct field createJsonWebKeySetBody.{name} of type string"),
    };

    private static void CheckName(string set)
    {
        if (set.Length > MaxNameLength) throw OAuth2Error.BadRequest($"The JSON Web Key Set name must be at most {MaxNameLength} characters long.");
    }

    /// <summary>Hydra's <c>jwk.ErrUnsupportedKeyAlgorithm</c>.</summary>
    private static OAuth2Error UnsupportedAlgorithm() => new(400, "Bad Request", "Unsupported key algorithm");

    /// <summary>Hydra's <c>x.ErrNotFound</c> (what <c>GetKeySet</c> answers for a set without keys).</summary>
    private static OAuth2Error SetNotFound() => new(404, "Not Found", "Unable to locate the requested resource");

    /// <summary>Microsecond precision (what PostgreSQL keeps): keys created within one second still order newest first.</summary>
    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % 10, DateTimeKind.Utc);
    }
}
