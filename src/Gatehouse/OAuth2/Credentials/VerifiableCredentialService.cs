using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Protocol;
using Gatehouse.OAuth2.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gatehouse.OAuth2.Credentials;

/// <summary>
/// OpenID Connect UserInfo Verifiable Credentials (draft 00) as Hydra v26.2 serves them (<c>oauth2/handler.go</c>
/// <c>createVerifiableCredential</c>, fosite <c>handler/verifiable</c>): nonces for the holder's proof of possession,
/// handed out in the token response and by a priming request, and the credential itself — a JWT signed with the ID-token
/// key that binds the holder's key (as <c>did:jwk</c>) to the token's subject.
/// </summary>
public sealed class VerifiableCredentialService(OAuth2TokenService tokens, LoginConsentService flows, IVerifiableCredentialNonceStore nonces,
    JsonWebKeyManager keys, OAuth2Settings settings, TimeProvider time)
{
    /// <summary>The scope that asks for credentials (fosite's <c>draftScope</c>), together with <c>openid</c>.</summary>
    public const string Scope = "userinfo_credential_draft_00";

    /// <summary>The one credential format served (the request's <c>format</c>, discovery's <c>credentials_supported_draft_00</c>).</summary>
    public const string Format = "jwt_vc_json";

    /// <summary>How long a nonce can be used: Hydra's <c>ttl.vc_nonce</c> default, which its configuration schema does not let anyone change.</summary>
    public static readonly TimeSpan NonceLifespan = TimeSpan.FromHours(1);

    /// <summary>A credential is valid this long after it is issued (Hydra's fixed hour).</summary>
    public static readonly TimeSpan CredentialLifespan = TimeSpan.FromHours(1);

    /// <summary>Unspent nonces kept per access token: priming again drops the oldest beyond this.</summary>
    public const int NoncesPerToken = 10;

    /// <summary>The algorithms a proof may be signed with (discovery's <c>cryptographic_suites_supported</c>, Hydra's list).</summary>
    public static readonly IReadOnlyList<string> ProofAlgorithms = ["PS256", "RS256", "ES256", "PS384", "RS384", "ES384", "PS512", "RS512", "ES512", "EdDSA"];

    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>fosite's <c>verifiable.Handler.CanHandleTokenEndpointRequest</c>: the token response carries a nonce when <c>openid</c> and the draft scope were granted.</summary>
    public static bool PrimesTokenResponse(JsonObject response) =>
        response["access_token"] is JsonValue && ScopeStrategy.Split(response["scope"]?.GetValue<string>()) is var granted
        && granted.Contains("openid") && granted.Contains(Scope);

    /// <summary>The token response with <c>c_nonce_draft_00</c> and <c>c_nonce_expires_in_draft_00</c> for its access token, members in fosite's (sorted) order.</summary>
    public async Task<JsonObject> PrimeTokenResponseAsync(JsonObject response, CancellationToken ct)
    {
        var nonce = await NewNonceAsync(OpaqueToken.Hash(response["access_token"]!.GetValue<string>()), ct);
        var members = response.ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone(), StringComparer.Ordinal);
        members["c_nonce_draft_00"] = nonce;
        members["c_nonce_expires_in_draft_00"] = (long)NonceLifespan.TotalSeconds;
        var sorted = new JsonObject();
        foreach (var (name, value) in members.OrderBy(kv => kv.Key, StringComparer.Ordinal)) sorted[name] = value;
        return sorted;
    }

    /// <summary>
    /// <c>POST /credentials</c>: a 200 <c>verifiableCredentialResponse</c>, or for a request without proof the 400
    /// <c>verifiableCredentialPrimingResponse</c> with a fresh nonce; anything wrong is an <see cref="OAuth2Error"/>, checked
    /// in Hydra's order (token, body, format, proof type, proof JWT, nonce), and changes nothing.
    /// </summary>
    public async Task<(int Status, JsonObject Body)> CreateAsync(string? accessToken, Func<Task<JsonNode?>> readBody, CancellationToken ct)
    {
        var token = await AccessTokenAsync(accessToken, ct);
        JsonNode? body;
        try
        {
            body = await readBody();
        }
        catch (JsonException)
        {
            throw OAuth2Error.InvalidRequest("Unable to decode request body.");
        }
        var request = Decode(body) ?? throw OAuth2Error.InvalidRequest("Unable to decode request body.");
        if (request.Format != Format) throw OAuth2Error.InvalidRequest($"The format {GoQuote(request.Format)} is not supported.");
        if (!request.HasProof)
        {
            var nonce = await NewNonceAsync(token.Signature, ct);
            return (400, new JsonObject
            {
                ["format"] = "jwt_vc",
                ["c_nonce"] = nonce,
                ["c_nonce_expires_in"] = (long)NonceLifespan.TotalSeconds,
                ["error"] = "missing_proof",
                ["error_description"] = "Could not issue a verifiable credential because the proof is missing in the request.",
            });
        }
        if (request.ProofType != "jwt") throw OAuth2Error.InvalidRequest($"The proof type {GoQuote(request.ProofType)} is not supported.");
        var now = time.GetUtcNow();
        var proof = await CredentialProof.VerifyAsync(request.Jwt, now);
        switch (await nonces.SpendAsync(OpaqueToken.Hash(proof.Nonce), token.Signature, now.UtcDateTime, ct))
        {
            case NonceUse.Expired:
                throw OAuth2Error.InvalidRequest("The nonce has expired.");
            case NonceUse.Unknown:
                throw OAuth2Error.InvalidRequest("The nonce is invalid.");
        }
        return (200, new JsonObject { ["format"] = Format, ["credential_draft_00"] = await SignAsync(token, proof, now, ct) });
    }

    /// <summary>
    /// The bearer token as fosite's <c>IntrospectToken</c> judges it for an access token, with the scopes of the token
    /// endpoint's priming required (a Gatehouse addition: Hydra issues credentials for any access token).
    /// </summary>
    private async Task<OAuth2Token> AccessTokenAsync(string? accessToken, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(accessToken))
            throw new OAuth2Error(401, "request_unauthorized", "The request could not be authorized.", "Check that you provided valid credentials in the right format.");
        var row = await tokens.FindActiveAsync(accessToken, ct)
            ?? throw new OAuth2Error(401, "token_inactive", "Token is inactive because it is malformed, expired or otherwise invalid.", "Token validation failed.");
        if (row.Kind != OAuth2TokenKinds.AccessToken) throw OAuth2Error.InvalidRequest("The provided token is not an access token.");
        var granted = ScopeStrategy.Split(row.Scope);
        foreach (var required in new[] { "openid", Scope })
        {
            if (!settings.AllowsScope(granted, required))
                throw OAuth2Error.InvalidScope($"The request scope '{required}' has not been granted or is not allowed to be requested.");
        }
        return row;
    }

    private async Task<string> NewNonceAsync(byte[] accessTokenSignature, CancellationToken ct)
    {
        var nonce = Base64UrlRandom();
        await nonces.AddAsync(new VerifiableCredentialNonce
        {
            Pk = Http.MonotonicUuid.Next(), // the store keeps the newest ten by key
            Signature = OpaqueToken.Hash(nonce),
            AccessTokenSignature = accessTokenSignature,
            ExpiresAt = time.GetUtcNow().UtcDateTime + NonceLifespan,
        }, NoncesPerToken, ct);
        return nonce;
    }

    /// <summary>
    /// The credential: Hydra's claims in Go's (sorted) order — <c>exp</c>, <c>iat</c>, <c>iss</c>, <c>jti</c>, <c>nbf</c>,
    /// <c>sub</c> (the holder's <c>did:jwk</c>) and <c>vc</c> with the W3C context, the types and a
    /// <c>credentialSubject</c> of the grant's <c>session.id_token</c> claims and <c>sid</c>, with <c>id</c> (the holder)
    /// and <c>sub</c> (the token's subject) — signed with the newest key of <c>hydra.openid.id-token</c>.
    /// </summary>
    private async Task<string> SignAsync(OAuth2Token token, CredentialProof proof, DateTimeOffset now, CancellationToken ct)
    {
        var did = proof.HolderDid;
        var subject = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (await flows.FindFlowAsync(token.RequestId, ct) is { } flow)
        {
            if (JsonNode.Parse(flow.Consent)?["session"]?["id_token"] is JsonObject extra)
            {
                foreach (var (name, value) in extra) subject[name] = value?.DeepClone();
            }
            if (JsonNode.Parse(flow.Login)?["session_id"] is JsonValue sid && sid.TryGetValue<string>(out var s) && s.Length > 0) subject["sid"] = s;
        }
        // The holder and the subject are the credential's point: no session claim replaces them.
        subject["id"] = did;
        subject["sub"] = token.Subject;
        var credentialSubject = new JsonObject();
        foreach (var (name, value) in subject) credentialSubject[name] = value;

        var issuedAt = now.ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["exp"] = issuedAt + (long)CredentialLifespan.TotalSeconds,
            ["iat"] = issuedAt,
            ["iss"] = settings.Issuer,
            ["jti"] = Guid.NewGuid().ToString(),
            ["nbf"] = issuedAt,
            ["sub"] = did,
            ["vc"] = new JsonObject
            {
                ["@context"] = new JsonArray("https://www.w3.org/2018/credentials/v1"),
                ["credentialSubject"] = credentialSubject,
                ["type"] = new JsonArray("VerifiableCredential", "UserInfoCredential"),
            },
        };
        var signing = await keys.GetSigningKeyAsync(JsonWebKeyManager.IdTokenSet, ct);
        return Handler.CreateToken(claims.ToJsonString(), signing.Credentials);
    }

    private sealed record Request(string Format, bool HasProof, string ProofType, string Jwt);

    /// <summary>The body as Go decodes it into <c>CreateVerifiableCredentialRequestBody</c> (unknown members ignored, <c>null</c> as absent); null when a member has the wrong type.</summary>
    private static Request? Decode(JsonNode? body)
    {
        if (body is null) return new Request("", false, "", "");
        if (body is not JsonObject o) return null;
        if (!Text(o["format"], out var format)) return null;
        if (o["types"] is not (null or JsonArray) || o["types"] is JsonArray types && types.Any(t => t is not null && !Text(t, out _))) return null;
        if (o["proof"] is null) return new Request(format, false, "", "");
        if (o["proof"] is not JsonObject p || !Text(p["proof_type"], out var proofType) || !Text(p["jwt"], out var jwt)) return null;
        return new Request(format, true, proofType, jwt);
    }

    private static bool Text(JsonNode? node, out string value)
    {
        value = "";
        if (node is null) return true;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String) return false;
        value = v.GetValue<string>();
        return true;
    }

    /// <summary>Go's <c>%q</c> for the hints (fosite then shows its double quotes as single ones).</summary>
    private static string GoQuote(string value) => JsonSerializer.Serialize(value, Http.Json.HttpJson.Options);

    private static string Base64UrlRandom() => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
}
