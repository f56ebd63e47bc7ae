using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Json;
using Gatehouse.OAuth2.Protocol;

namespace Gatehouse.OAuth2.Tokens;

/// <summary>
/// Hydra's <c>introspectOAuth2Token</c>. A singleton over <see cref="IOAuth2TokenLookup"/>: an introspection reads one row
/// and writes one small answer, so it takes no per-request services (no database context lease, no token service with
/// its key manager).
/// </summary>
public sealed class OAuth2TokenIntrospector(IOAuth2TokenLookup lookup, TimeProvider time, OAuth2Settings settings, OAuth2SessionData sessionData)
{
    private static readonly byte[] Inactive = "{\"active\":false}"u8.ToArray();
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = HttpJson.Options.Encoder };

    /// <summary>
    /// The answer as UTF-8 JSON: <c>{"active":false}</c> for anything unknown, revoked, used, expired, an authorization code
    /// or out of <paramref name="scope"/>. Written straight from the row: the stored audience and extra claims are copied
    /// as they are when they hold no escapes, else re-encoded as every other answer is (<see cref="HttpJson.Options"/>).
    /// </summary>
    public async Task<byte[]> IntrospectAsync(string token, string? scope, CancellationToken ct)
    {
        var row = await FindActiveAsync(token, ct);
        if (row is null) return Inactive;
        if (!string.IsNullOrEmpty(scope))
        {
            var granted = ScopeStrategy.Split(row.Scope);
            if (ScopeStrategy.Split(scope).Any(s => !settings.AllowsScope(granted, s))) return Inactive;
        }
        var obfuscated = await ObfuscatedSubjectAsync(row, ct);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteBoolean("active", true);
            if (row.Scope.Length > 0) w.WriteString("scope", row.Scope);
            w.WriteString("client_id", row.ClientId);
            w.WriteString("sub", row.Subject);
            if (obfuscated is not null) w.WriteString("obfuscated_subject", obfuscated);
            w.WriteNumber("exp", Unix(row.ExpiresAt == OAuth2TokenService.NeverExpires ? NoExpiryShownAs(row) : row.ExpiresAt));
            w.WriteNumber("iat", Unix(row.IssuedAt));
            w.WriteNumber("nbf", Unix(row.IssuedAt));
            w.WritePropertyName("aud");
            WriteStored(w, row.Audience);
            w.WriteString("iss", settings.Issuer);
            w.WriteString("token_type", "Bearer");
            w.WriteString("token_use", row.Kind);
            if (row.Kind == OAuth2TokenKinds.RefreshToken)
            {
                // A refresh token keeps its grant's claims (SessionClaims); its ext is the access-token part, as Hydra's is its session's Extra.
                if (SessionClaims.StoredAccessClaims(row.Extra) is { Count: > 0 } refreshExt)
                {
                    w.WritePropertyName("ext");
                    refreshExt.WriteTo(w, HttpJson.Options);
                }
            }
            else if (row.Extra is not ("{}" or "") && JsonNode.Parse(row.Extra) is JsonObject { Count: > 0 } ext)
            {
                w.WritePropertyName("ext");
                WriteStored(w, row.Extra, ext);
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The <c>exp</c> of a refresh token without expiry: Hydra's introspection (<c>oauth2/handler.go</c>) fills a zero expiry
    /// with the issue time plus <c>ttl.refresh_token</c>. When that is <c>-1</c> (-1 ns in Hydra) it is the issue time less
    /// a nanosecond, which Go's <c>Unix()</c> floors to the issue second: <c>exp</c> equals <c>iat</c> (the token stays active).
    /// </summary>
    private DateTime NoExpiryShownAs(OAuth2Token row) =>
        settings.RefreshTokenLifespan < TimeSpan.Zero ? row.IssuedAt : row.IssuedAt + settings.RefreshTokenLifespan;

    /// <summary>
    /// Hydra's <c>obfuscated_subject</c> (<c>oauth2/handler.go</c> introspection): the subject the grant's ID tokens name
    /// when it differs from the token's — a pairwise client's. Looked up only while <c>pairwise</c> is offered, so that
    /// introspection reads one row otherwise (a grant from a time pairwise was offered shows none once it is not).
    /// </summary>
    private async Task<string?> ObfuscatedSubjectAsync(OAuth2Token row, CancellationToken ct)
    {
        if (!settings.SubjectTypesSupported().Contains("pairwise")) return null;
        if (await lookup.FindFlowConsentAsync(row.RequestId, ct) is not { } consent) return null;
        return JsonNode.Parse(consent)?[Flows.LoginConsentService.SubjectObfuscatedKey] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 && s != row.Subject ? s : null;
    }

    /// <summary>The same test as <see cref="OAuth2TokenService.FindActiveAsync"/>, on a committed read.</summary>
    private async Task<OAuth2Token?> FindActiveAsync(string token, CancellationToken ct)
    {
        if (!OpaqueToken.LooksValid(token) && !OAuth2TokenService.LooksLikeJwt(token)) return null;
        var hash = OpaqueToken.Hash(token);
        var row = await lookup.FindAsync(hash, ct);
        if (row is null || !CryptographicOperations.FixedTimeEquals(row.Signature, hash)) return null;
        var now = OAuth2TokenService.WholeSeconds(time);
        // A used refresh token within its rotation grace period is active (Hydra's GetRefreshTokenSession returns it as such).
        return (row.Active || OAuth2TokenService.WithinGrace(row, settings, now)) && row.ExpiresAt > now && row.Kind != OAuth2TokenKinds.AuthorizationCode ? sessionData.Opened(row) : null;
    }

    /// <summary>Stored JSON (written by the token service) as a value: copied when it has no escapes, else re-encoded.</summary>
    private static void WriteStored(Utf8JsonWriter w, string json, JsonNode? parsed = null)
    {
        if (!json.Contains('\\', StringComparison.Ordinal)) w.WriteRawValue(json, skipInputValidation: true);
        else (parsed ?? JsonNode.Parse(json))!.WriteTo(w, HttpJson.Options);
    }

    private static long Unix(DateTime t) => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeSeconds();
}
