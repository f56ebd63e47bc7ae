using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Json;

namespace Gatehouse.OAuth2.Clients;

/// <summary>Hydra's client management (<c>client/handler.go</c> + <c>persister_client.go</c>) over the one database.</summary>
public sealed class OAuth2ClientService(IOAuth2ClientStore store, ClientSecretHasher hasher, TimeProvider time)
{
    public const int DefaultPageSize = 250;
    public const int MaxPageSize = 1000;
    private const int MaxClientIdLength = 255;

    /// <summary>A loaded client: the row and its parsed document.</summary>
    public sealed record Loaded(OAuth2Client Row, OAuth2ClientDocument Document)
    {
        public string ClientId => Row.ClientId;

        public JsonObject ToJson(string? secret = null) => Document.ToJson(Row.ClientId, Row.CreatedAt, Row.UpdatedAt, secret);
    }

    public sealed record Page(List<Loaded> Items, Guid? Next);

    /// <summary><c>createOAuth2Client</c>: the secret (picked when absent) is returned once, and only to confidential clients.</summary>
    public async Task<(Loaded Client, string Secret)> CreateAsync(JsonNode? body, CancellationToken ct)
    {
        var doc = OAuth2ClientDocument.Decode(body, out var clientId, out var secret);
        if (string.IsNullOrEmpty(secret)) secret = ClientSecretHasher.GenerateSecret();
        doc.Validate(secret);
        if (string.IsNullOrEmpty(clientId)) clientId = Guid.NewGuid().ToString();
        if (clientId.Length > MaxClientIdLength) throw OAuth2Error.InvalidClientMetadata($"Field client_id must be at most {MaxClientIdLength} characters long.");
        var now = Now();
        var row = new OAuth2Client
        {
            Pk = Guid.CreateVersion7(),
            ClientId = clientId,
            ClientName = doc.Name,
            Owner = doc.Owner,
            SecretHash = hasher.Hash(secret),
            Document = doc.Serialize(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (!await store.InsertAsync(row, ct)) throw OAuth2Error.Conflict();
        return (new Loaded(row, doc), secret);
    }

    public async Task<Loaded?> FindAsync(string clientId, CancellationToken ct)
    {
        if (clientId.Length is 0 or > MaxClientIdLength) return null;
        var row = await store.FindAsync(clientId, ct);
        return row is null ? null : new Loaded(row, OAuth2ClientDocument.Load(row.Document));
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
        return await UpdateAsync(clientId, doc, secret, ct);
    }

    /// <summary>
    /// <c>patchOAuth2Client</c>: RFC 6902 over the client JSON (without its secret); adding <c>/client_secret</c> sets a
    /// new secret. The client id cannot be patched.
    /// </summary>
    public async Task<(Loaded Client, string? NewSecret)> PatchAsync(string clientId, JsonNode? patch, CancellationToken ct)
    {
        var current = await GetAsync(clientId, ct);
        JsonNode patched;
        try
        {
            patched = JsonPatch.Apply(current.Document.ToPatchable(clientId), patch,
                path => path == "/client_id" || path.StartsWith("/client_id/", StringComparison.Ordinal));
        }
        catch (JsonPatchException ex)
        {
            throw OAuth2Error.BadRequest(ex.Message);
        }
        var doc = OAuth2ClientDocument.Decode(patched, out _, out var secret);
        return await UpdateAsync(clientId, doc, secret, ct);
    }

    /// <summary><c>setOAuth2ClientLifespans</c>: replaces all per-grant lifespans (absent ones are cleared), as Hydra does.</summary>
    public async Task<Loaded> SetLifespansAsync(string clientId, JsonNode? body, CancellationToken ct)
    {
        var current = await GetAsync(clientId, ct);
        var doc = current.Document.WithLifespans(body);
        return (await UpdateAsync(clientId, doc, null, ct)).Client;
    }

    public async Task DeleteAsync(string clientId, CancellationToken ct)
    {
        if (clientId.Length > MaxClientIdLength) throw OAuth2Error.NotFound();
        if (!await store.DeleteWithTokensAsync(clientId, ct)) throw OAuth2Error.NotFound();
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

    private async Task<(Loaded Client, string? NewSecret)> UpdateAsync(string clientId, OAuth2ClientDocument doc, string? secret, CancellationToken ct)
    {
        doc.Validate(secret);
        var row = await store.FindAsync(clientId, ct) ?? throw OAuth2Error.NotFound();
        var newSecret = string.IsNullOrEmpty(secret) ? null : secret;
        if (newSecret is not null)
        {
            // Hydra clears rotated secrets when a new secret is set explicitly.
            row.SecretHash = hasher.Hash(newSecret);
            row.RotatedSecretHashes = "[]";
        }
        row.ClientName = doc.Name;
        row.Owner = doc.Owner;
        row.Document = doc.Serialize();
        row.UpdatedAt = Now();
        await SaveAsync(row, ct);
        return (new Loaded(row, doc), newSecret);
    }

    private async Task SaveAsync(OAuth2Client row, CancellationToken ct)
    {
        if (!await store.UpdateAsync(row, ct)) throw OAuth2Error.Conflict();
    }

    /// <summary>Hydra stores client times rounded to the second.</summary>
    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }
}
