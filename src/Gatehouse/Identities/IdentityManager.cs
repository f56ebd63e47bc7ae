using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.Persistence;
using Gatehouse.Schemas;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Identities;

/// <summary>
/// Creates and changes identities: validates traits against the identity's schema, derives credential identifiers
/// and addresses from the <c>ory.sh/kratos</c> extension, imports credentials, and writes each identity whole
/// or not at all (a duplicate identifier, address or external id is a 409 and changes nothing).
/// </summary>
public sealed class IdentityManager(GatehouseDbContext db, IdentitySchemaRegistry schemas, CredentialImport import, CredentialKinds kinds, TimeProvider time, IEnumerable<IIdentityDeletedListener> deletedListeners)
{
    /// <summary>Builds a new identity from a create body without touching the database.</summary>
    public Identity Build(IdentityBody body, string where = "")
    {
        var now = Now();
        var identity = new Identity
        {
            Id = Guid.CreateVersion7(),
            Nid = db.Nid,
            State = body.State ?? IdentityStates.Active,
            CreatedAt = now,
            UpdatedAt = now,
            StateChangedAt = now,
            ExternalId = string.IsNullOrEmpty(body.ExternalId) ? null : body.ExternalId,
            OrganizationId = body.OrganizationId,
        };
        if (!IdentityStates.IsValid(identity.State)) throw InvalidState(identity.State, where);
        identity.MetadataPublic = RawOrNull(body.MetadataPublic);
        identity.MetadataAdmin = RawOrNull(body.MetadataAdmin);
        var imported = body.Credentials is null ? [] : import.Parse(body.Credentials, identity.Id, where);
        Materialize(identity, body.SchemaId ?? schemas.Default.Id, body.Traits, imported, now, where);
        ApplyImportedAddresses(identity, body, now, where);
        return identity;
    }

    public async Task<Identity> CreateAsync(IdentityBody body, CancellationToken ct)
    {
        var identity = Build(body);
        db.Identities.Add(identity);
        await SaveAsync(ct);
        return identity;
    }

    /// <summary>Saves an identity made by <see cref="Build"/> (a registration, after its pre-persist hooks).</summary>
    public async Task<Identity> InsertAsync(Identity identity, CancellationToken ct)
    {
        db.Identities.Add(identity);
        await SaveAsync(ct);
        return identity;
    }

    /// <summary>
    /// Applies the fields a hook returned (<see cref="IdentityChanges"/>) to an identity not saved yet: traits whole (and
    /// with them the addresses and credential identifiers), a new schema (the traits checked against it), state, external
    /// id, metadata whole, and the verification state of the addresses the traits give.
    /// </summary>
    public void Apply(Identity identity, IdentityChanges changes)
    {
        var now = Now();
        var schemaId = changes.SchemaId ?? identity.SchemaId;
        if (changes.Traits is not null || schemaId != identity.SchemaId)
            Materialize(identity, schemaId, (changes.Traits ?? JsonNode.Parse(identity.Traits))?.DeepClone(), [], now, "");
        if (changes.MetadataPublic is not null) identity.MetadataPublic = RawOrNull(changes.MetadataPublic);
        if (changes.MetadataAdmin is not null) identity.MetadataAdmin = RawOrNull(changes.MetadataAdmin);
        if (changes.State is { } state)
        {
            if (!IdentityStates.IsValid(state)) throw InvalidState(state, "");
            if (state != identity.State)
            {
                identity.State = state;
                identity.StateChangedAt = now;
            }
        }
        if (changes.ExternalId is { } externalId) identity.ExternalId = externalId.Length == 0 ? null : externalId;
        if (changes.VerifiableAddresses is { } addresses) ApplyVerifiableAddresses(identity, addresses, now, "");
    }

    /// <summary>Applies a hook's changes (<see cref="Apply"/>) to a stored identity and saves it.</summary>
    public async Task<Identity> ApplyFromHookAsync(Guid id, IdentityChanges changes, CancellationToken ct)
    {
        var identity = await GetAsync(id, ct, tracked: true);
        Apply(identity, changes);
        identity.UpdatedAt = Now();
        identity.Revision++;
        await SaveAsync(ct);
        return identity;
    }

    public Task<Identity?> FindAsync(Guid id, CancellationToken ct, bool tracked = false)
    {
        var q = db.Identities.Include(i => i.Credentials).ThenInclude(c => c.Identifiers)
            .Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses).AsSplitQuery();
        return (tracked ? q : q.AsNoTracking()).FirstOrDefaultAsync(i => i.Id == id, ct);
    }

    public async Task<Identity> GetAsync(Guid id, CancellationToken ct, bool tracked = false) =>
        await FindAsync(id, ct, tracked) ?? throw NotFound();

    /// <summary>PUT: replaces traits, state, metadata and external id; merges credentials as Kratos does.</summary>
    public async Task<Identity> UpdateAsync(Guid id, IdentityBody body, CancellationToken ct)
    {
        var identity = await GetAsync(id, ct, tracked: true);
        var now = Now();
        // As Kratos's PUT handler: an absent or empty state or schema_id keeps the current one.
        var state = string.IsNullOrEmpty(body.State) ? identity.State : body.State;
        var schemaId = string.IsNullOrEmpty(body.SchemaId) ? identity.SchemaId : body.SchemaId;
        if (!IdentityStates.IsValid(state)) throw InvalidState(state, "");
        if (identity.State != state)
        {
            identity.State = state;
            identity.StateChangedAt = now;
        }
        identity.MetadataPublic = RawOrNull(body.MetadataPublic);
        identity.MetadataAdmin = RawOrNull(body.MetadataAdmin);
        identity.ExternalId = string.IsNullOrEmpty(body.ExternalId) ? null : body.ExternalId;
        var imported = body.Credentials is null ? [] : import.Parse(body.Credentials, identity.Id);
        Materialize(identity, schemaId, body.Traits, imported, now, "");
        identity.UpdatedAt = now;
        identity.Revision++;
        await SaveAsync(ct);
        return identity;
    }

    /// <summary>Self-service profile update: new traits, everything else kept (settings flow's <c>profile</c> method).</summary>
    public async Task<Identity> UpdateTraitsAsync(Guid id, JsonNode traits, CancellationToken ct)
    {
        var identity = await GetAsync(id, ct, tracked: true);
        var now = Now();
        Materialize(identity, identity.SchemaId, traits, [], now, "");
        identity.UpdatedAt = now;
        identity.Revision++;
        await SaveAsync(ct);
        return identity;
    }

    /// <summary>
    /// Applies a profile change that waited for its new address to be verified (<c>verify_new_address</c>): the traits are
    /// replaced and the new address (<paramref name="via"/>, <paramref name="value"/>) is marked verified, in one save —
    /// only if the traits are still those the change was proposed against (<paramref name="traitsHash"/>, compared on the
    /// row the save is guarded by: the identity's revision is its concurrency token). Kratos's <c>ApplyPendingTraitsChange</c>.
    /// </summary>
    public async Task<PendingTraitsOutcome> ApplyPendingTraitsAsync(Guid id, Func<string, string> hashTraits, string traitsHash, JsonNode traits, string via, string value, CancellationToken ct)
    {
        var identity = await FindAsync(id, ct, tracked: true);
        if (identity is null || identity.State != IdentityStates.Active) return new(PendingTraitsResult.Refused, null);
        if (!string.Equals(hashTraits(identity.Traits), traitsHash, StringComparison.Ordinal)) return new(PendingTraitsResult.Refused, null);
        var now = Now();
        Materialize(identity, identity.SchemaId, traits, [], now, "");
        foreach (var address in identity.VerifiableAddresses.Where(a => a.Via == via && a.Value == value))
        {
            address.Verified = true;
            address.VerifiedAt = now;
            address.Status = VerifiableAddressStatus.Completed;
            address.UpdatedAt = now;
        }
        identity.UpdatedAt = now;
        identity.Revision++;
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return new(PendingTraitsResult.Refused, null);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return new(PendingTraitsResult.Duplicate, null);
        }
        return new(PendingTraitsResult.Applied, identity);
    }

    /// <summary>Self-service password change: the password credential gets a hash from the configured hasher.</summary>
    public Task<Identity> SetPasswordAsync(Guid id, string password, CancellationToken ct) =>
        ReplaceCredentialsAsync(id, identity => import.Parse(new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = password } } }, identity.Id), ct);

    /// <summary>
    /// A method's self-service credential change (a TOTP app enrolled): the identity's credential of that type is replaced
    /// by <paramref name="config"/> with <paramref name="identifiers"/>; the identity row is written too, so cached whoami
    /// answers (and their assurance decision) go stale.
    /// </summary>
    public Task<Identity> SetCredentialAsync(Guid id, string type, JsonObject config, IReadOnlyList<string> identifiers, CancellationToken ct) =>
        ReplaceCredentialsAsync(id, _ => [new CredentialImport.Imported(type, config, identifiers, Append: false)], ct);

    /// <summary>
    /// Adds to the identity's credential of that type (a social sign-in account linked): a provider entry joins the others,
    /// with its identifiers; a duplicate identifier is a 409 and changes nothing.
    /// </summary>
    public Task<Identity> AddCredentialAsync(Guid id, string type, JsonObject config, IReadOnlyList<string> identifiers, CancellationToken ct) =>
        ReplaceCredentialsAsync(id, _ => [new CredentialImport.Imported(type, config, identifiers, Append: true)], ct);

    /// <summary>Writes the credentials <paramref name="imported"/> makes for the stored identity, its traits unchanged.</summary>
    private async Task<Identity> ReplaceCredentialsAsync(Guid id, Func<Identity, IReadOnlyList<CredentialImport.Imported>> imported, CancellationToken ct)
    {
        var identity = await GetAsync(id, ct, tracked: true);
        var now = Now();
        Materialize(identity, identity.SchemaId, JsonNode.Parse(identity.Traits), imported(identity), now, "");
        identity.UpdatedAt = now;
        identity.Revision++;
        await SaveAsync(ct);
        return identity;
    }

    /// <summary>A method's self-service removal of its credential (a TOTP app unlinked); false when there was none.</summary>
    public async Task<Identity> RemoveCredentialAsync(Guid id, string type, CancellationToken ct)
    {
        var identity = await GetAsync(id, ct, tracked: true);
        identity.Credentials.RemoveAll(c => c.Type == type);
        identity.UpdatedAt = Now();
        identity.Revision++;
        await SaveAsync(ct);
        return identity;
    }

    /// <summary>Kratos's deny-list for identity patches (globs, compared lower-cased: <c>identity/handler.go</c> <c>patch</c>).</summary>
    private static readonly string[] KratosDeniedPatchPaths = ["/id", "/stateChangedAt", "/credentials", "/credentials/oidc/**"];

    /// <summary>Paths a JSON Patch may not touch (Kratos's deny-list, plus the fields the server owns).</summary>
    public static bool IsDeniedPatchPath(string path) =>
        path is "/id" or "/stateChangedAt" or "/state_changed_at" or "/credentials" or "/created_at" or "/updated_at" or "/schema_url"
        || path.StartsWith("/credentials/oidc", StringComparison.Ordinal)
        || path.StartsWith("/credentials/saml", StringComparison.Ordinal);

    /// <summary>
    /// PATCH, as Kratos's identity handler <c>patch</c>: the identity must exist (404 first, whatever the body), then the
    /// patch is checked whole and applied to the identity's admin JSON (with credentials) as ory/x <c>jsonx.ApplyJSONPatch</c>
    /// does — only <c>add</c>, <c>remove</c>, <c>replace</c>; <c>/id</c>, <c>/stateChangedAt</c>, <c>/credentials</c> and
    /// <c>/credentials/oidc/**</c> denied (plus the fields Gatehouse owns) — and stored. A patch that fails (a body that
    /// is not JSON: <paramref name="patch"/> null with <paramref name="unreadable"/> set) is 400 "An error occured when
    /// applying the JSON patch" with the library's words as the message; an invalid state names the supplied one. Nothing
    /// changes on error.
    /// </summary>
    public async Task<Identity> PatchAsync(Guid id, JsonNode? patch, IdentityJson json, CancellationToken ct, bool unreadable = false)
    {
        var identity = await GetAsync(id, ct, tracked: true);
        var document = json.ToNode(identity, IdentityView.Admin, CredentialTypes.Includable);
        JsonObject patched;
        try
        {
            // evanphx/json-patch's DecodePatch: a body that is not JSON is ErrInvalid.
            if (unreadable) throw new JsonPatchException("invalid state detected");
            JsonPatch.CheckAsOry(patch, KratosDeniedPatchPaths);
            patched = JsonPatch.Apply(document, patch ?? new JsonArray(), IsDeniedPatchPath).AsObject();
        }
        catch (JsonPatchException ex)
        {
            throw new GatehouseError(400, "An error occured when applying the JSON patch", message: ex.Message);
        }
        var now = Now();
        var state = IdentityBody.OptionalString(patched, "state");
        if (!IdentityStates.IsValid(state))
            throw new GatehouseError(400, $"The supplied state ('{state}') was not valid. Valid states are ('active', 'inactive').", message: "identity state is not valid");
        if (identity.State != state)
        {
            identity.State = state!;
            identity.StateChangedAt = now;
        }
        identity.MetadataPublic = RawOrNull(patched["metadata_public"]);
        identity.MetadataAdmin = RawOrNull(patched["metadata_admin"]);
        var external = IdentityBody.OptionalString(patched, "external_id");
        identity.ExternalId = string.IsNullOrEmpty(external) ? null : external;
        ApplyPatchedCredentials(identity, patched["credentials"] as JsonObject, now);
        var schemaId = IdentityBody.OptionalString(patched, "schema_id") ?? throw GatehouseError.BadRequest("failed to apply JSON patch: schema_id may not be removed.");
        Materialize(identity, schemaId, patched["traits"], [], now, "");
        identity.UpdatedAt = now;
        identity.Revision++;
        await SaveAsync(ct);
        return identity;
    }

    public async Task DeleteAsync(Guid id, CancellationToken ct)
    {
        var deleted = await db.Identities.Where(i => i.Id == id).ExecuteDeleteAsync(ct);
        foreach (var listener in deletedListeners) listener.IdentityDeleted(id);
        if (deleted == 0) throw NotFound();
    }

    /// <summary>DELETE /admin/identities/{id}/credentials/{type}, with Kratos's rules per type.</summary>
    public async Task DeleteCredentialAsync(Guid id, string type, string? identifier, CancellationToken ct)
    {
        var identity = await GetAsync(id, ct, tracked: true);
        var credential = identity.Credentials.FirstOrDefault(c => c.Type == type);
        var kind = kinds.Find(type);
        // Kratos looks for the credential first: a type the identity lacks (any name, known or not) is a 404, and only
        // a credential it has but the admin API does not remove (passkey, code) is the 400.
        if (credential is null || (kind is not null && !kind.IsSetUp(credential)))
            throw GatehouseError.NotFound($"You tried to remove a {type} but this user have no {type} set up.");
        if (kind is not { IsDeletable: true }) throw GatehouseError.BadRequest($"Credentials type {type} cannot be deleted.");
        var firstFactorsBefore = kinds.CountFirstFactor(identity);
        var now = Now();
        kind.Remove(identity, credential, identifier, now);
        // Removing a first factor must leave another one (Kratos); second factors may all go.
        var firstFactorsAfter = kinds.CountFirstFactor(identity);
        if (firstFactorsAfter < firstFactorsBefore && firstFactorsAfter == 0)
        {
            db.ChangeTracker.Clear();
            throw GatehouseError.BadRequest("You cannot remove the last first factor credential.");
        }
        identity.UpdatedAt = now;
        identity.Revision++;
        await SaveAsync(ct);
    }

    /// <summary>
    /// Validates the traits against the schema and brings the identity's credentials identifiers and addresses in line
    /// with what the schema's extension derives from them.
    /// </summary>
    public void Materialize(Identity identity, string schemaId, JsonNode? traits, IReadOnlyList<CredentialImport.Imported> imported, DateTime now, string where)
    {
        var schema = schemas.Find(schemaId) ?? throw GatehouseError.BadRequest($"{where}The identity schema \"{schemaId}\" is not configured (unknown schema_id).");
        traits ??= new JsonObject();
        var result = schema.Validate(traits);
        if (!result.IsValid)
        {
            var reason = string.Join("; ", result.Errors.Select(e => $"{e.InstancePointer}: {e.Message}"));
            throw new GatehouseError(400, where + "The traits are invalid for the identity schema: " + reason);
        }
        identity.SchemaId = schema.Id;
        identity.Traits = traits.ToJsonString();

        foreach (var imp in imported)
        {
            var credential = identity.Credentials.FirstOrDefault(c => c.Type == imp.Type);
            if (credential is null)
            {
                credential = NewCredential(identity, imp.Type, ToStored(imp.Type, imp.Config, null, identity.Id), now);
                identity.Credentials.Add(credential);
            }
            else
            {
                credential.Config = ToStored(imp.Type, Merge(imp, credential.Config), credential.Config, identity.Id).ToJsonString();
                credential.UpdatedAt = now;
            }
            if (imp.Identifiers.Count > 0)
            {
                var wanted = imp.Append ? credential.Identifiers.Select(i => i.Identifier).Concat(imp.Identifiers) : imp.Identifiers;
                SetIdentifiers(identity, credential, wanted);
            }
            // An admin import (which adds to what is stored; a method's own change replaces it) must leave a passkey that can sign in.
            if (imp.Append && imp.Type == CredentialTypes.Passkey) RequireUsablePasskey(credential.Config, where);
        }

        // Schema-derived identifiers: a credential the schema names is created (with an empty config) when missing.
        foreach (var type in new[] { CredentialTypes.Password, CredentialTypes.WebAuthn, CredentialTypes.Code })
        {
            var derived = result.CredentialIdentifiers.TryGetValue(type, out var list) ? list : [];
            var credential = identity.Credentials.FirstOrDefault(c => c.Type == type);
            if (derived.Count == 0)
            {
                if (credential is not null && type == CredentialTypes.Code) identity.Credentials.Remove(credential);
                else if (credential is not null) SetIdentifiers(identity, credential, []);
                continue;
            }
            if (credential is null)
            {
                credential = NewCredential(identity, type, [], now);
                identity.Credentials.Add(credential);
            }
            if (type == CredentialTypes.Code)
            {
                var addresses = new JsonArray();
                foreach (var address in derived.Distinct().Order(StringComparer.Ordinal))
                    addresses.Add(new JsonObject { ["channel"] = address.Contains('@', StringComparison.Ordinal) ? "email" : "sms", ["address"] = address });
                credential.Config = new JsonObject { ["addresses"] = addresses }.ToJsonString();
            }
            SetIdentifiers(identity, credential, derived);
        }

        SyncVerifiable(identity, result.VerifiableAddresses, now);
        SyncRecovery(identity, result.RecoveryAddresses, now);
    }

    /// <summary>
    /// Kratos (ory/kratos#4561): an imported passkey needs a user handle — given, or kept from the stored passkey — and at
    /// least one key, since a sign-in finds the account by the handle the authenticator returns; otherwise it could never
    /// be used, so it is refused rather than stored.
    /// </summary>
    private static void RequireUsablePasskey(string config, string where)
    {
        var o = JsonNode.Parse(config) as JsonObject;
        if (o?["user_handle"] is not JsonValue handle || handle.GetValueKind() != System.Text.Json.JsonValueKind.String || handle.GetValue<string>().Length == 0)
            throw GatehouseError.BadRequest(where + "Passkey credential import requires a non-empty user_handle. It must match the WebAuthn user handle stored on the authenticator.");
        if (o["credentials"] is not JsonArray { Count: > 0 })
            throw GatehouseError.BadRequest(where + "Passkey credential import requires at least one entry in credentials.passkey.config.credentials.");
    }

    private JsonObject ToStored(string type, JsonObject written, string? stored, Guid identityId) =>
        kinds.Find(type)?.ToStored(written, stored, identityId) ?? written;

    private static JsonObject Merge(CredentialImport.Imported imp, string existingConfig)
    {
        if (!imp.Append) return imp.Config;
        var existing = JsonNode.Parse(existingConfig) as JsonObject ?? [];
        var merged = (JsonObject)existing.DeepClone();
        foreach (var (key, value) in imp.Config)
        {
            if (value is JsonArray add && merged[key] is JsonArray current)
            {
                foreach (var item in add)
                {
                    var clone = item?.DeepClone();
                    // WebAuthn/passkey keys are merged by their id; everything else is appended.
                    if (clone is JsonObject { } obj && obj["id"] is JsonValue idv && current.OfType<JsonObject>().FirstOrDefault(c => c["id"]?.ToJsonString() == idv.ToJsonString()) is { } same)
                        current[current.IndexOf(same)] = obj;
                    else if (clone is JsonObject po && po["provider"] is not null && current.OfType<JsonObject>().Any(c => c["provider"]?.ToString() == po["provider"]?.ToString() && c["subject"]?.ToString() == po["subject"]?.ToString()))
                        continue;
                    else current.Add(clone);
                }
            }
            else
            {
                merged[key] = value?.DeepClone();
            }
        }
        return merged;
    }

    private void ApplyPatchedCredentials(Identity identity, JsonObject? patched, DateTime now)
    {
        if (patched is null) return;
        foreach (var (type, value) in patched)
        {
            if (type is CredentialTypes.Oidc or CredentialTypes.Saml) continue;
            if (value is not JsonObject entry) throw GatehouseError.BadRequest($"failed to apply JSON patch: credentials.{type} must be an object.");
            if (entry["type"] is JsonValue t && t.ToString() != type) throw GatehouseError.BadRequest($"credentials.{type}.type must equal \"{type}\".");
            var credential = identity.Credentials.FirstOrDefault(c => c.Type == type);
            var config = ToStored(type, entry["config"] as JsonObject ?? [], credential?.Config, identity.Id);
            var text = config.ToJsonString();
            if (credential is null)
            {
                identity.Credentials.Add(NewCredential(identity, type, config, now));
            }
            else if (credential.Config != text)
            {
                if (type == CredentialTypes.Password && config["hashed_password"] is JsonValue hp && hp.ToString() is { Length: > 0 } hash && Hashing.PasswordHasher.ValidateImport(hash) is { IsValid: false } problem)
                    throw GatehouseError.BadRequest(problem.Error!);
                credential.Config = text;
                credential.UpdatedAt = now;
            }
        }
    }

    private IdentityCredential NewCredential(Identity identity, string type, JsonObject config, DateTime now) => new()
    {
        Id = Guid.CreateVersion7(),
        Nid = db.Nid,
        IdentityId = identity.Id,
        Type = type,
        Config = config.ToJsonString(),
        Version = CredentialTypes.CurrentVersion(type),
        CreatedAt = now,
        UpdatedAt = now,
    };

    private void SetIdentifiers(Identity identity, IdentityCredential credential, IEnumerable<string> identifiers)
    {
        var wanted = identifiers.Where(i => i.Length > 0).Distinct(StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);
        credential.Identifiers.RemoveAll(i => !wanted.Contains(i.Identifier));
        foreach (var value in wanted)
        {
            if (credential.Identifiers.Any(i => i.Identifier == value)) continue;
            credential.Identifiers.Add(new CredentialIdentifier
            {
                Id = Guid.CreateVersion7(),
                Nid = db.Nid,
                IdentityId = identity.Id,
                CredentialId = credential.Id,
                Type = credential.Type,
                Identifier = value,
            });
        }
    }

    private void SyncVerifiable(Identity identity, IReadOnlyList<AddressSpec> wanted, DateTime now) =>
        SyncAddresses(identity.VerifiableAddresses, wanted, a => (a.Via, a.Value), w => new VerifiableAddress
        {
            Id = Guid.CreateVersion7(),
            Nid = db.Nid,
            IdentityId = identity.Id,
            Value = w.Value,
            Via = w.Via,
            Status = VerifiableAddressStatus.Pending,
            CreatedAt = now,
            UpdatedAt = now,
        });

    private void SyncRecovery(Identity identity, IReadOnlyList<AddressSpec> wanted, DateTime now) =>
        SyncAddresses(identity.RecoveryAddresses, wanted, a => (a.Via, a.Value), w => new RecoveryAddress
        {
            Id = Guid.CreateVersion7(),
            Nid = db.Nid,
            IdentityId = identity.Id,
            Value = w.Value,
            Via = w.Via,
            CreatedAt = now,
            UpdatedAt = now,
        });

    /// <summary>
    /// Makes an address list match what the schema derives: addresses no longer in the traits go, new ones come,
    /// and the ones that stay keep their state (e.g. verified).
    /// </summary>
    private static void SyncAddresses<T>(List<T> current, IReadOnlyList<AddressSpec> wanted, Func<T, (string Via, string Value)> key, Func<AddressSpec, T> create)
    {
        current.RemoveAll(a => !wanted.Any(w => (w.Via, w.Value) == key(a)));
        foreach (var w in wanted)
        {
            if (!current.Any(a => key(a) == (w.Via, w.Value))) current.Add(create(w));
        }
    }

    /// <summary>
    /// Imported <c>verifiable_addresses</c> carry their verification state; they apply to the addresses the schema
    /// derives (others would be dropped at the next update, as in Kratos, so they are not kept).
    /// </summary>
    private static void ApplyImportedAddresses(Identity identity, IdentityBody body, DateTime now, string where)
    {
        if (body.VerifiableAddresses is not null) ApplyVerifiableAddresses(identity, body.VerifiableAddresses, now, where);
    }

    private static void ApplyVerifiableAddresses(Identity identity, JsonArray addresses, DateTime now, string where)
    {
        foreach (var node in addresses)
        {
            if (node is not JsonObject o) throw GatehouseError.BadRequest($"{where}verifiable_addresses must contain objects.");
            var value = (IdentityBody.OptionalString(o, "value", where) ?? "").Trim().ToLowerInvariant();
            var via = IdentityBody.OptionalString(o, "via", where) ?? "email";
            var match = identity.VerifiableAddresses.FirstOrDefault(a => a.Via == via && a.Value == value);
            if (match is null) continue;
            var verified = o["verified"] is JsonValue v && v.GetValueKind() == JsonValueKind.True;
            match.Verified = verified;
            var status = IdentityBody.OptionalString(o, "status", where);
            if (status is not null and not (VerifiableAddressStatus.Pending or VerifiableAddressStatus.Sent or VerifiableAddressStatus.Completed))
                throw GatehouseError.BadRequest($"{where}verifiable_addresses[].status must be one of pending, sent, completed.");
            match.Status = status ?? (verified ? VerifiableAddressStatus.Completed : VerifiableAddressStatus.Pending);
            if (verified)
            {
                var at = IdentityBody.OptionalString(o, "verified_at", where);
                match.VerifiedAt = at is not null && DateTime.TryParse(at, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal, out var t) ? t : now;
            }
        }
    }

    private async Task SaveAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw GatehouseError.Conflict("The identity was changed by another request at the same time; fetch it again and retry.");
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            throw GatehouseError.IdentityConflict();
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    private DateTime Now()
    {
        // Stored times keep microseconds, the precision PostgreSQL keeps, so a value reads back as written.
        var t = time.GetUtcNow().UtcDateTime;
        return new DateTime(t.Ticks - (t.Ticks % 10), DateTimeKind.Utc);
    }

    private static string? RawOrNull(JsonNode? node) => node is null ? null : node.ToJsonString();

    private static GatehouseError InvalidState(string? state, string where) =>
        GatehouseError.BadRequest($"{where}The supplied state ('{state}') was not valid. Valid states are ('active', 'inactive').");

    public static GatehouseError NotFound() => GatehouseError.NotFound("Unable to locate the resource");
}

/// <summary>What became of a pending profile change (<see cref="IdentityManager.ApplyPendingTraitsAsync"/>).</summary>
public enum PendingTraitsResult
{
    Applied,

    /// <summary>Not applied: the identity's traits changed meanwhile, or it is gone or inactive.</summary>
    Refused,

    /// <summary>Not applied: another identity owns the new address (or another identifier of the change) by now.</summary>
    Duplicate,
}

/// <summary>The result and, when applied, the saved identity.</summary>
public sealed record PendingTraitsOutcome(PendingTraitsResult Result, Identity? Identity);
