using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.OAuth2.Tokens;

namespace Gatehouse.OAuth2.Clients;

/// <summary>
/// Hydra's client management (<c>client/handler.go</c> + <c>persister_client.go</c>) over the one database: the admin
/// API and OpenID Connect Dynamic Client Registration share its validation and storage. Loaded clients are kept in
/// <see cref="OAuth2ClientCache"/> (when given); every change invalidates it once committed.
/// </summary>
public sealed class OAuth2ClientService(IOAuth2ClientStore store, ClientSecretHasher hasher, TimeProvider time, OAuth2Settings settings, SectorIdentifierValidator sectors, OAuth2ClientCache? cache = null)
{
    public const int DefaultPageSize = 250;
    public const int MaxPageSize = 1000;
    private const int MaxClientIdLength = 255;

    /// <summary>A loaded client: the row and its parsed document. It may be shared through the cache: do not modify it.</summary>
    public sealed record Loaded(OAuth2Client Row, OAuth2ClientDocument Document)
    {
        public string ClientId => Row.ClientId;

        public JsonObject ToJson(string? secret = null, (string? AccessToken, string? ClientUri) registration = default) =>
            Document.ToJson(Row.ClientId, Row.CreatedAt, Row.UpdatedAt, secret, registration);
    }

    public sealed record Page(List<Loaded> Items, Guid? Next);

    /// <summary><c>createOAuth2Client</c>: the secret (picked when absent) is returned once, and only to confidential clients.</summary>
    public async Task<(Loaded Client, string Secret)> CreateAsync(JsonNode? body, CancellationToken ct)
    {
        var doc = OAuth2ClientDocument.Decode(body, out var clientId, out var secret);
        if (string.IsNullOrEmpty(secret)) secret = ClientSecretHasher.GenerateSecret();
        await doc.ValidateAsync(secret, settings, sectors, ct);
        if (string.IsNullOrEmpty(clientId)) clientId = Guid.NewGuid().ToString();
        if (clientId.Length > MaxClientIdLength) throw OAuth2Error.InvalidClientMetadata($"Field client_id must be at most {MaxClientIdLength} characters long.");
        return (await InsertAsync(doc, clientId, secret, "", ct), secret);
    }

    private async Task<Loaded> InsertAsync(OAuth2ClientDocument doc, string clientId, string secret, string registrationTokenHash, CancellationToken ct)
    {
        var now = Now();
        var row = new OAuth2Client
        {
            Pk = Guid.CreateVersion7(),
            ClientId = clientId,
            ClientName = doc.Name,
            Owner = doc.Owner,
            SecretHash = hasher.Hash(secret),
            RegistrationAccessTokenHash = registrationTokenHash,
            Document = doc.Serialize(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (!await store.InsertAsync(row, ct)) throw OAuth2Error.Conflict();
        return new Loaded(row, doc);
    }

    /// <summary>The client, from the cache when it holds it (no database read, no document parse), else from the database.</summary>
    public async Task<Loaded?> FindAsync(string clientId, CancellationToken ct)
    {
        if (clientId.Length is 0 or > MaxClientIdLength) return null;
        if (cache is not null && cache.TryGet(clientId, out var cached)) return cached;
        var stamp = cache?.Begin() ?? 0;
        var row = await store.FindAsync(clientId, ct);
        if (row is null) return null;
        var loaded = new Loaded(row, OAuth2ClientDocument.Load(row.Document));
        cache?.Add(loaded, stamp);
        return loaded;
    }

    public async Task<Loaded> GetAsync(string clientId, CancellationToken ct) =>
        await FindAsync(clientId, ct) ?? throw OAuth2Error.NotFound();

    /// <summary><c>listOAuth2Clients</c>: keyset pages in creation order, filtered by exact <c>client_name</c> / <c>owner</c>.</summary>
    public async Task<Page> ListAsync(int pageSize, Guid after, string? name, string? owner, CancellationToken ct)
    {
        var rows = await store.ListAsync(after, name, owner, pageSize + 1, ct);
        Guid? next = rows.Count > pageSize ? rows[pageSize - 1].Pk : null;
        return new Page([.. rows.Take(pageSize).Select(r => new Loaded(r, OAuth2ClientDocument.Load(r.Document)))], next);
    }

    /// <summary><c>setOAuth2Client</c>: replaces the document; a secret in the body replaces the secret and is echoed.</summary>
    public async Task<(Loaded Client, string? NewSecret)> SetAsync(string clientId, JsonNode? body, CancellationToken ct)
    {
        var doc = OAuth2ClientDocument.Decode(body, out _, out var secret);
        // Hydra writes the whole client from the body, whose registration access token is always empty: a client
        // created through dynamic registration can no longer be managed with its token after this.
        return await UpdateAsync(clientId, doc, secret, ct, clearRegistrationToken: true);
    }

    private static OAuth2Error InvalidPatch(string reason) => OAuth2Error.BadRequest($"Unable to apply the JSON Patch: {reason}");

    private const string DecodeErrorPrefix = "Unable to decode the request body: ";

    /// <summary>
    /// <c>patchOAuth2Client</c> as Hydra's <c>client/handler.go</c> with ory/x <c>jsonx.ApplyJSONPatch</c>: the client must
    /// exist (before the body is read); the patch (<c>add</c>, <c>remove</c>, <c>replace</c>; <c>/id</c> denied; a
    /// <c>replace</c> of an object member acts as <c>add</c>) works on the client's full JSON as Hydra answers it, with its
    /// secret (a placeholder here) and times. Every failure of reading or applying the patch, and a type error in its
    /// result, is a 400 naming the reason (Hydra answers its catch-all <c>500 "The error is unrecognizable"</c>, which
    /// would blame the server for the caller's patch): for the checks made before anything is applied — an operation
    /// without <c>value</c>, <c>path</c> or a known <c>op</c>, another operation, <c>/id</c> — and for a type error in the
    /// result, the reason is the library's or Go's own words (see <see cref="JsonPatch.CheckAsOry"/>); the patched client is then validated like a
    /// <c>PUT</c> (<c>400 invalid_client_metadata</c> …). A failing patch changes nothing. A new <c>client_secret</c> is set
    /// and shown once; removing it keeps the old one.
    /// </summary>
    /// <param name="readBody">Reads the patch; called only once the client was found (Hydra's order).</param>
    public async Task<(Loaded Client, string? NewSecret)> PatchAsync(string clientId, Func<Task<JsonNode?>> readBody, CancellationToken ct)
    {
        var current = await GetAsync(clientId, ct);
        JsonNode? patch;
        try
        {
            // Go's decoder takes "null" as an empty patch; anything that is not JSON fails.
            patch = await readBody() ?? new JsonArray();
        }
        catch (GatehouseError e) when (e.Code == 400)
        {
            throw InvalidPatch(e.Reason ?? e.Message);
        }
        // Hydra patches the client as it loaded it, secret hash included; a placeholder no one can guess stands for it.
        var unchangedSecret = current.Row.SecretHash.Length > 0 ? "unchanged-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)) : null;
        JsonNode patched;
        OAuth2ClientDocument doc;
        string? patchedId, secret;
        try
        {
            // First the whole patch is checked as evanphx/json-patch's DecodePatch and ory/x's loop check it, with their texts.
            JsonPatch.CheckAsOry(patch, "/id");
            patched = JsonPatch.Apply(current.ToJson(unchangedSecret), patch,
                path => path.Equals("/id", StringComparison.OrdinalIgnoreCase));
            doc = OAuth2ClientDocument.Decode(patched, out patchedId, out secret);
        }
        catch (JsonPatchException e)
        {
            throw InvalidPatch(e.Message);
        }
        catch (OAuth2Error e) when (e.StatusCode == 400)
        {
            // A value of the wrong type: Hydra's json.Unmarshal of the patched document (ory/x jsonx.ApplyJSONPatch) fails
            // the same catch-all way, with Go's error as it is (no "Unable to decode the request body" before it).
            var reason = e.FullDescription;
            throw InvalidPatch(reason.StartsWith(DecodeErrorPrefix, StringComparison.Ordinal) ? reason[DecodeErrorPrefix.Length..] : reason);
        }
        if (secret == unchangedSecret) secret = null;
        if (patchedId != clientId)
        {
            // Hydra validates, then updates the client the patched client_id names: an unknown one is its 404. Gatehouse
            // never lets one client's patch overwrite another client (Hydra would): that is a 409.
            await doc.ValidateAsync(secret, settings, sectors, ct);
            if (patchedId is { Length: > 0 } other && await FindAsync(other, ct) is not null) throw OAuth2Error.Conflict();
            throw OAuth2Error.NotFound();
        }
        return await UpdateAsync(clientId, doc, secret, ct);
    }

    /// <summary><c>setOAuth2ClientLifespans</c>: replaces all per-grant lifespans (absent ones are cleared), as Hydra does.</summary>
    /// <param name="readBody">Reads the body; called only once the client was found (Hydra's order: an unknown client is a 404 whatever the body).</param>
    public async Task<Loaded> SetLifespansAsync(string clientId, Func<Task<JsonNode?>> readBody, CancellationToken ct)
    {
        var current = await GetAsync(clientId, ct);
        var doc = current.Document.WithLifespans(await readBody());
        return (await UpdateAsync(clientId, doc, null, ct)).Client;
    }

    public async Task DeleteAsync(string clientId, CancellationToken ct)
    {
        if (clientId.Length > MaxClientIdLength) throw OAuth2Error.NotFound();
        bool deleted;
        try
        {
            deleted = await store.DeleteWithTokensAsync(clientId, ct);
        }
        finally
        {
            cache?.InvalidateAll();
        }
        if (!deleted) throw OAuth2Error.NotFound();
    }

    /// <summary>
    /// <c>rotateOAuth2ClientSecret</c> (Ory Network): a new secret is issued and returned once; the old one keeps working
    /// until <c>deleteRotatedOAuth2ClientSecrets</c>.
    /// </summary>
    public async Task<(Loaded Client, string NewSecret)> RotateSecretAsync(string clientId, CancellationToken ct)
    {
        var row = await store.FindAsync(clientId, ct) ?? throw OAuth2Error.NotFound();
        var rotated = JsonSerializer.Deserialize<List<string>>(row.RotatedSecretHashes) ?? [];
        if (row.SecretHash.Length > 0) rotated.Insert(0, row.SecretHash);
        var secret = ClientSecretHasher.GenerateSecret();
        row.SecretHash = hasher.Hash(secret);
        row.RotatedSecretHashes = JsonSerializer.Serialize(rotated);
        row.UpdatedAt = Now();
        await SaveAsync(row, ct);
        return (new Loaded(row, OAuth2ClientDocument.Load(row.Document)), secret);
    }

    public async Task<Loaded> DeleteRotatedSecretsAsync(string clientId, CancellationToken ct)
    {
        var row = await store.FindAsync(clientId, ct) ?? throw OAuth2Error.NotFound();
        row.RotatedSecretHashes = "[]";
        row.UpdatedAt = Now();
        await SaveAsync(row, ct);
        return new Loaded(row, OAuth2ClientDocument.Load(row.Document));
    }

    /// <summary>True when <paramref name="secret"/> is the client's secret or one of its rotated secrets.</summary>
    public bool VerifySecret(OAuth2Client client, string secret)
    {
        if (hasher.Verify(secret, client.SecretHash)) return true;
        var rotated = JsonSerializer.Deserialize<List<string>>(client.RotatedSecretHashes) ?? [];
        return rotated.Any(h => hasher.Verify(secret, h));
    }

    private async Task<(Loaded Client, string? NewSecret)> UpdateAsync(string clientId, OAuth2ClientDocument doc, string? secret, CancellationToken ct, bool clearRegistrationToken = false)
    {
        await doc.ValidateAsync(secret, settings, sectors, ct);
        var row = await store.FindAsync(clientId, ct) ?? throw OAuth2Error.NotFound();
        var newSecret = string.IsNullOrEmpty(secret) ? null : secret;
        if (newSecret is not null)
        {
            // Hydra clears rotated secrets when a new secret is set explicitly.
            row.SecretHash = hasher.Hash(newSecret);
            row.RotatedSecretHashes = "[]";
        }
        if (clearRegistrationToken) row.RegistrationAccessTokenHash = "";
        row.ClientName = doc.Name;
        row.Owner = doc.Owner;
        row.Document = doc.Serialize();
        row.UpdatedAt = Now();
        await SaveAsync(row, ct);
        return (new Loaded(row, doc), newSecret);
    }

    // ---- OpenID Connect Dynamic Client Registration (Hydra's createOidcDynamicClient & co., client/handler.go) ----

    /// <summary>A registration request that passed Hydra's checks, before it is counted and stored.</summary>
    public sealed record Registration(OAuth2ClientDocument Document, string Secret);

    /// <summary>A client created or updated through dynamic registration, with its new registration access token (shown once).</summary>
    public sealed record Registered(Loaded Client, string RegistrationAccessToken);

    /// <summary>
    /// Decodes and validates a <c>createOidcDynamicClient</c> body without touching the database: the server picks the
    /// client id and secret; <c>client_secret</c>, <c>metadata</c>, <c>access_token_strategy</c>, <c>skip_consent</c>
    /// and <c>skip_logout_consent</c> are refused as Hydra refuses them.
    /// </summary>
    /// <param name="beforeFetch">Called once before a <c>sector_identifier_uri</c> is fetched (the caller's rate limit), if one is.</param>
    public async Task<Registration> PrepareRegistrationAsync(JsonNode? body, Func<Task>? beforeFetch, CancellationToken ct)
    {
        var doc = OAuth2ClientDocument.Decode(body, out _, out var secret);
        if (!string.IsNullOrEmpty(secret)) throw OAuth2Error.BadRequest("It is not allowed to choose your own OAuth2 Client secret.");
        secret = ClientSecretHasher.GenerateSecret();
        await ValidateDynamicAsync(body, doc, secret, beforeFetch, ct);
        return new Registration(doc, secret);
    }

    /// <summary>Stores a prepared registration under a new random client id, with a new registration access token.</summary>
    public async Task<Registered> RegisterAsync(Registration registration, CancellationToken ct)
    {
        var token = OpaqueToken.New(OpaqueToken.AccessPrefix);
        var client = await InsertAsync(registration.Document, Guid.NewGuid().ToString(), registration.Secret, RegistrationTokenHash(token), ct);
        return new Registered(client, token);
    }

    /// <summary><c>registration_client_uri</c>: where the client is read, updated and deleted with its registration access token.</summary>
    public string RegistrationClientUri(string clientId) => settings.Endpoint(RegistrationPath + "/" + Uri.EscapeDataString(clientId));

    public const string RegistrationPath = "/oauth2/register";

    /// <summary>
    /// Hydra's <c>ValidDynamicAuth</c>: the client must exist, have a registration access token, and the presented one
    /// must match it (compared as hashes, in constant time). Every failure is the same 401.
    /// </summary>
    public async Task<Loaded> AuthenticateRegistrationAsync(string clientId, string? token, CancellationToken ct)
    {
        // Read from the database, not the cache: the caller may modify the row it gets (setOidcDynamicClient).
        var client = clientId.Length is 0 or > MaxClientIdLength ? null : await store.FindAsync(clientId, ct) is { } found ? new Loaded(found, OAuth2ClientDocument.Load(found.Document)) : null;
        if (client is null || client.Row.RegistrationAccessTokenHash.Length == 0 || string.IsNullOrEmpty(token) || token.Length > 512)
            throw RegistrationUnauthorized();
        var presented = Encoding.ASCII.GetBytes(RegistrationTokenHash(token));
        var stored = Encoding.ASCII.GetBytes(client.Row.RegistrationAccessTokenHash);
        if (!CryptographicOperations.FixedTimeEquals(presented, stored)) throw RegistrationUnauthorized();
        return client;
    }

    /// <summary><c>getOidcDynamicClient</c>: the client without its secret and without <c>metadata</c>.</summary>
    public async Task<Loaded> GetRegisteredAsync(string clientId, string? token, CancellationToken ct)
    {
        var client = await AuthenticateRegistrationAsync(clientId, token, ct);
        return client with { Document = client.Document.WithoutMetadata() };
    }

    /// <summary>
    /// <c>setOidcDynamicClient</c>: replaces the client's metadata (its secret stays), under the same checks as
    /// registration, and replaces the registration access token: the old one stops working.
    /// </summary>
    /// <param name="readBody">Reads the request body; called only once the token was accepted (Hydra's order).</param>
    public async Task<Registered> SetRegisteredAsync(string clientId, string? token, Func<Task<JsonNode?>> readBody, CancellationToken ct)
    {
        var current = await AuthenticateRegistrationAsync(clientId, token, ct);
        JsonNode? body;
        OAuth2ClientDocument doc;
        string? secret;
        try
        {
            body = await readBody();
            doc = OAuth2ClientDocument.Decode(body, out _, out secret);
        }
        catch (OAuth2Error e) when (e.StatusCode == 400)
        {
            throw OAuth2Error.BadRequest("Unable to decode the request body. Is it valid JSON?");
        }
        if (!string.IsNullOrEmpty(secret))
            throw new OAuth2Error(403, GatehouseError.DefaultMessage(403), "It is not allowed to choose your own OAuth2 Client secret.");
        var newToken = OpaqueToken.New(OpaqueToken.AccessPrefix);
        await ValidateDynamicAsync(body, doc, null, null, ct);
        var row = current.Row;
        var previousHash = row.RegistrationAccessTokenHash;
        row.RegistrationAccessTokenHash = RegistrationTokenHash(newToken);
        row.ClientName = doc.Name;
        row.Owner = doc.Owner;
        row.Document = doc.Serialize();
        row.UpdatedAt = Now();
        // Conditional on the token just checked: of two updates with one token, only the first succeeds.
        bool updated;
        try
        {
            updated = await store.UpdateIfRegistrationTokenAsync(row, previousHash, ct);
        }
        finally
        {
            cache?.InvalidateAll();
        }
        if (!updated) throw RegistrationUnauthorized();
        return new Registered(new Loaded(row, doc), newToken);
    }

    /// <summary><c>deleteOidcDynamicClient</c>: deletes the client and its tokens.</summary>
    public async Task DeleteRegisteredAsync(string clientId, string? token, CancellationToken ct)
    {
        var current = await AuthenticateRegistrationAsync(clientId, token, ct);
        bool deleted;
        try
        {
            deleted = await store.DeleteWithTokensIfRegistrationTokenAsync(clientId, current.Row.RegistrationAccessTokenHash, ct);
        }
        finally
        {
            cache?.InvalidateAll();
        }
        if (!deleted) throw RegistrationUnauthorized();
    }

    /// <summary>Hydra's <c>ValidateDynamicRegistration</c>: the admin-only fields first, then the admin API's validation.</summary>
    private async Task ValidateDynamicAsync(JsonNode? body, OAuth2ClientDocument doc, string? secret, Func<Task>? beforeFetch, CancellationToken ct)
    {
        // Go decodes "metadata": null into a non-nil raw message too, so any metadata member is refused.
        if (body is JsonObject o && o.ContainsKey("metadata"))
            throw OAuth2Error.InvalidClientMetadata("\"metadata\" cannot be set for dynamic client registration");
        if (doc.AccessTokenStrategy.Length > 0) throw OAuth2Error.BadRequest("It is not allowed to choose your own access token strategy.");
        if (doc.SkipConsent) throw ClientInvalidRequest("\"skip_consent\" cannot be set for dynamic client registration");
        if (doc.SkipLogoutConsent) throw ClientInvalidRequest("\"skip_logout_consent\" cannot be set for dynamic client registration");
        await doc.ValidateAsync(secret, settings, sectors, ct, beforeFetch);
        // Gatehouse addition: an anonymous registrant cannot make each stored row as large as a request body may be.
        if (Encoding.UTF8.GetByteCount(doc.Serialize()) > MaxRegisteredDocumentBytes)
            throw OAuth2Error.InvalidClientMetadata($"The client metadata must not exceed {MaxRegisteredDocumentBytes} bytes.");
    }

    /// <summary>The largest client document dynamic registration stores (a few dozen URIs and a JWKS fit easily).</summary>
    public const int MaxRegisteredDocumentBytes = 64 * 1024;

    /// <summary>Hydra's <c>client.ErrInvalidRequest</c> with its description replaced (<c>WithDescription</c>).</summary>
    private static OAuth2Error ClientInvalidRequest(string description) => new(400, "invalid_request", description);

    private static OAuth2Error RegistrationUnauthorized() => new(401, GatehouseError.DefaultMessage(401),
        "The requested OAuth 2.0 client does not exist or you provided incorrect credentials.");

    /// <summary>
    /// The stored form of a registration access token: SHA-256, base64url (256 random bits leave nothing to guess, so a
    /// fast hash suffices). Hydra strips the <c>ory_at_</c> prefix before checking, so the token works with or without it.
    /// </summary>
    private static string RegistrationTokenHash(string token)
    {
        var bare = token.StartsWith(OpaqueToken.AccessPrefix, StringComparison.Ordinal) ? token[OpaqueToken.AccessPrefix.Length..] : token;
        return System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(bare)));
    }

    private async Task SaveAsync(OAuth2Client row, CancellationToken ct)
    {
        bool saved;
        try
        {
            saved = await store.UpdateAsync(row, ct);
        }
        finally
        {
            // Committed or not (a failed save may be ambiguous), the cached copy may be stale now.
            cache?.InvalidateAll();
        }
        if (!saved) throw OAuth2Error.Conflict();
    }

    /// <summary>Hydra stores client times rounded to the second.</summary>
    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }
}
