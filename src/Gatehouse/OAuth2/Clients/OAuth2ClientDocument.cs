using Gatehouse.Http.Json;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.OAuth2.Clients;

/// <summary>
/// Hydra's <c>oAuth2Client</c> document without its id, secret and times: decoded from request bodies with Go's
/// type rules, validated and defaulted as Hydra's <c>client/validator.go</c> does, and written back in Hydra's field
/// order with its <c>omitempty</c> rules. Unknown fields are ignored, as Go's decoder does.
/// </summary>
public sealed class OAuth2ClientDocument
{
    private enum Kind { String, StringList, Bool, NullableBool, Jwks, Raw, Duration }

    /// <summary>The per-grant token lifespans of <c>oAuth2ClientTokenLifespans</c>, in Hydra's order.</summary>
    public static readonly string[] LifespanFields =
    [
        "authorization_code_grant_access_token_lifespan",
        "authorization_code_grant_id_token_lifespan",
        "authorization_code_grant_refresh_token_lifespan",
        "client_credentials_grant_access_token_lifespan",
        "implicit_grant_access_token_lifespan",
        "implicit_grant_id_token_lifespan",
        "jwt_bearer_grant_access_token_lifespan",
        "refresh_token_grant_id_token_lifespan",
        "refresh_token_grant_access_token_lifespan",
        "refresh_token_grant_refresh_token_lifespan",
        "device_authorization_grant_id_token_lifespan",
        "device_authorization_grant_access_token_lifespan",
        "device_authorization_grant_refresh_token_lifespan",
    ];

    /// <summary>Fields in Hydra's output order (client/client.go); <c>OmitEmpty</c> mirrors the Go struct tags.</summary>
    private static readonly (string Name, Kind Kind, bool OmitEmpty)[] Fields =
    [
        ("client_name", Kind.String, false),
        ("redirect_uris", Kind.StringList, false),
        ("grant_types", Kind.StringList, false),
        ("response_types", Kind.StringList, false),
        ("scope", Kind.String, false),
        ("audience", Kind.StringList, false),
        ("owner", Kind.String, false),
        ("policy_uri", Kind.String, false),
        ("allowed_cors_origins", Kind.StringList, false),
        ("tos_uri", Kind.String, false),
        ("client_uri", Kind.String, false),
        ("logo_uri", Kind.String, false),
        ("contacts", Kind.StringList, false),
        // client_secret_expires_at (always 0) is written here by ToJson.
        ("subject_type", Kind.String, false),
        ("sector_identifier_uri", Kind.String, true),
        ("jwks_uri", Kind.String, true),
        ("jwks", Kind.Jwks, true),
        ("token_endpoint_auth_method", Kind.String, true),
        ("token_endpoint_auth_signing_alg", Kind.String, true),
        ("request_uris", Kind.StringList, true),
        ("request_object_signing_alg", Kind.String, true),
        ("userinfo_signed_response_alg", Kind.String, true),
        // created_at / updated_at are written here by ToJson.
        ("frontchannel_logout_uri", Kind.String, true),
        ("frontchannel_logout_session_required", Kind.Bool, true),
        ("post_logout_redirect_uris", Kind.StringList, true),
        ("backchannel_logout_uri", Kind.String, true),
        ("backchannel_logout_session_required", Kind.Bool, true),
        ("metadata", Kind.Raw, true),
        ("access_token_strategy", Kind.String, true),
        ("skip_consent", Kind.Bool, false),
        ("skip_logout_consent", Kind.NullableBool, false),
        .. LifespanFields.Select(n => (n, Kind.Duration, true)),
    ];

    private static readonly HashSet<string> SupportedAuthSigningAlgs = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    /// <summary>Hydra's default <c>oidc.dynamic_client_registration.default_scope</c>, given to clients created without a scope.</summary>
    public static readonly string[] DefaultScope = ["offline_access", "offline", "openid"];

    private readonly JsonObject _values;

    private OAuth2ClientDocument(JsonObject values) => _values = values;

    // ---- typed reads for the protocol ----
    public string Name => Str("client_name");
    public string Owner => Str("owner");
    public string Scope => Str("scope");
    public string TokenEndpointAuthMethod => Str("token_endpoint_auth_method") is { Length: > 0 } m ? m : "client_secret_basic";
    public bool IsPublic => TokenEndpointAuthMethod == "none";
    public bool SkipConsent => _values["skip_consent"]?.GetValue<bool>() ?? false;
    public IReadOnlyList<string> RedirectUris => List("redirect_uris");
    public IReadOnlyList<string> Audience => List("audience");
    public IReadOnlyList<string> PostLogoutRedirectUris => List("post_logout_redirect_uris");
    public string FrontChannelLogoutUri => Str("frontchannel_logout_uri");
    public string BackChannelLogoutUri => Str("backchannel_logout_uri");
    public bool SkipLogoutConsent => _values["skip_logout_consent"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
    public string AccessTokenStrategy => Str("access_token_strategy");
    public string UserinfoSignedResponseAlg => Str("userinfo_signed_response_alg");
    public string JwksUri => Str("jwks_uri");
    public string SubjectType => Str("subject_type");
    public string SectorIdentifierUri => Str("sector_identifier_uri");
    public JsonObject? Jwks => _values["jwks"] as JsonObject;

    /// <summary>Admin-only fields that dynamic client registration refuses (Hydra's <c>ValidateDynamicRegistration</c>).</summary>
    public bool HasMetadata => _values["metadata"] is not null;

    /// <summary>A copy without <c>metadata</c>: what <c>getOidcDynamicClient</c> shows.</summary>
    public OAuth2ClientDocument WithoutMetadata()
    {
        var copy = (JsonObject)_values.DeepClone();
        copy["metadata"] = null;
        return new OAuth2ClientDocument(copy);
    }

    /// <summary>The algorithm <c>private_key_jwt</c> assertions must use; Hydra's default is <c>RS256</c>.</summary>
    public string TokenEndpointAuthSigningAlg => Str("token_endpoint_auth_signing_alg") is { Length: > 0 } a ? a : "RS256";

    /// <summary>Grant types the client may use; Hydra's default when none are registered is <c>authorization_code</c>.</summary>
    public IReadOnlyList<string> GrantTypes => List("grant_types") is { Count: > 0 } g ? g : ["authorization_code"];

    /// <summary>Response types the client may use; Hydra's default when none are registered is <c>code</c>.</summary>
    public IReadOnlyList<string> ResponseTypes => List("response_types") is { Count: > 0 } r ? r : ["code"];

    /// <summary>A per-client lifespan override (e.g. <c>client_credentials_grant_access_token_lifespan</c>), or null.</summary>
    public TimeSpan? Lifespan(string field) =>
        _values[field] is JsonValue v && v.TryGetValue<string>(out var s) && GoDuration.TryParse(s, out var d) ? d : null;

    private string Str(string name) => _values[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    private List<string> List(string name) => _values[name] is JsonArray a ? [.. a.Select(x => x!.GetValue<string>())] : [];

    /// <summary>
    /// Decodes a request body as Go's <c>json.Decode(&amp;client.Client)</c> would: type mismatches are 400s; the id
    /// and secret are returned separately. Server-set fields (<c>created_at</c>, <c>updated_at</c>,
    /// <c>client_secret_expires_at</c>, <c>registration_access_token</c>, <c>registration_client_uri</c>) are fields of
    /// Hydra's <c>client.Client</c> too, so Go decodes them — a value of the wrong type fails the request — and Hydra then
    /// overwrites them; their values are ignored here.
    /// </summary>
    public static OAuth2ClientDocument Decode(JsonNode? body, out string? clientId, out string? secret)
    {
        if (body is not JsonObject o) throw DecodeError($"json: cannot unmarshal {GoJsonKind.Of(body)} into Go value of type client.Client");
        // time.Time's UnmarshalJSON error stops Go's decoder where it occurs, ahead of any type error it recorded before.
        foreach (var (name, node) in o)
        {
            if (name is not ("created_at" or "updated_at") || node is null) continue;
            if (node is not JsonValue t || t.GetValueKind() != JsonValueKind.String) throw DecodeError(GoTime.NotAJsonString);
            if (GoTime.Rfc3339ParseError(t.GetValue<string>()) is { } timeError) throw DecodeError(timeError);
        }
        ReadGoInt(o, "client_secret_expires_at");
        ReadString(o, "registration_access_token");
        ReadString(o, "registration_client_uri");
        clientId = ReadString(o, "client_id");
        secret = ReadString(o, "client_secret");
        var values = Empty();
        foreach (var (name, kind, _) in Fields)
        {
            if (!o.TryGetPropertyValue(name, out var node) || node is null) continue;
            values[name] = kind switch
            {
                Kind.String => ReadString(o, name),
                Kind.StringList => ReadList(node, name),
                Kind.Bool or Kind.NullableBool => node is JsonValue b && b.GetValueKind() is JsonValueKind.True or JsonValueKind.False
                    ? b.GetValue<bool>()
                    : throw TypeError(node, name, "bool"),
                Kind.Jwks => node is JsonObject ? node.DeepClone() : throw TypeError(node, name, "x.JoseJSONWebKeySet"),
                Kind.Raw => node.DeepClone(),
                _ => ReadDuration(node, name, "Client"),
            };
        }
        return new OAuth2ClientDocument(values);
    }

    /// <summary>Reads a stored document (already validated).</summary>
    public static OAuth2ClientDocument Load(string json)
    {
        var values = Empty();
        if (JsonNode.Parse(json) is JsonObject stored)
        {
            foreach (var (name, value) in stored) values[name] = value?.DeepClone();
        }
        return new OAuth2ClientDocument(values);
    }

    public string Serialize() => _values.ToJsonString();

    /// <summary>A copy with the lifespans replaced by those of <paramref name="lifespans"/> (<c>setOAuth2ClientLifespans</c>).</summary>
    public OAuth2ClientDocument WithLifespans(JsonNode? lifespans)
    {
        if (lifespans is not JsonObject o) throw DecodeError($"json: cannot unmarshal {GoJsonKind.Of(lifespans)} into Go value of type client.Lifespans");
        var copy = (JsonObject)_values.DeepClone();
        foreach (var name in LifespanFields)
        {
            copy[name] = o.TryGetPropertyValue(name, out var node) && node is not null ? ReadDuration(node, name, "Lifespans") : null;
        }
        return new OAuth2ClientDocument(copy);
    }

    /// <summary>
    /// Hydra's <c>Validator.Validate</c>: defaults (auth method, scope, subject type, userinfo alg) are filled in, and the
    /// first invalid field is reported as <c>invalid_client_metadata</c> / <c>invalid_redirect_uri</c>. A
    /// <c>sector_identifier_uri</c> is fetched and checked where Hydra checks it (<see cref="SectorIdentifierValidator"/>);
    /// the subject type must be one of <see cref="OAuth2Settings.SubjectTypesSupported"/> for the client's access-token strategy.
    /// </summary>
    /// <param name="beforeFetch">Called just before the <c>sector_identifier_uri</c> is fetched, if it is.</param>
    public async Task ValidateAsync(string? secret, OAuth2Settings settings, SectorIdentifierValidator sectors, CancellationToken ct, Func<Task>? beforeFetch = null)
    {
        ValidateBeforeSector(secret, settings.DefaultClientScope);
        if (Str("sector_identifier_uri") is { Length: > 0 } sector) await sectors.ValidateAsync(sector, List("redirect_uris"), beforeFetch, ct);
        ValidateAfterSector(settings);
    }

    private void ValidateBeforeSector(string? secret, IReadOnlyList<string> defaultScope)
    {
        var authMethod = Str("token_endpoint_auth_method");
        if (authMethod.Length == 0) _values["token_endpoint_auth_method"] = authMethod = "client_secret_basic";
        if (authMethod is not ("client_secret_basic" or "client_secret_post" or "private_key_jwt" or "none"))
            throw OAuth2Error.InvalidClientMetadata($"Field token_endpoint_auth_method must be one of client_secret_basic, client_secret_post, private_key_jwt or none, got '{authMethod}'.");
        var hasJwks = _values["jwks"] is JsonObject;
        if (authMethod == "private_key_jwt")
        {
            if (Str("jwks_uri").Length == 0 && !hasJwks)
                throw OAuth2Error.InvalidClientMetadata("When token_endpoint_auth_method is 'private_key_jwt', either jwks or jwks_uri must be set.");
            var alg = Str("token_endpoint_auth_signing_alg");
            if (alg.Length > 0 && !SupportedAuthSigningAlgs.Contains(alg))
                throw OAuth2Error.InvalidClientMetadata("Only RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 and ES512 are supported as algorithms for private key authentication.");
        }
        if (Str("jwks_uri").Length > 0 && hasJwks)
            throw OAuth2Error.InvalidClientMetadata("Fields jwks and jwks_uri can not both be set, you must choose one.");
        if (hasJwks && !JwksIsValid((JsonObject)_values["jwks"]!))
            throw OAuth2Error.InvalidClientMetadata("Invalid JSON web key in set.");

        foreach (var field in new[] { "tos_uri", "policy_uri", "logo_uri", "client_uri" })
        {
            var uri = Str(field);
            if (uri.Length == 0) continue;
            if (!TryParseRequestUri(uri, out var u)) throw OAuth2Error.InvalidClientMetadata($"Field {field} must be a valid URI.");
            if (u?.Scheme is not ("http" or "https"))
                throw OAuth2Error.InvalidClientMetadata($"{uri} must use https:// or http:// as HTTP scheme for field {field}.");
        }

        if (!string.IsNullOrEmpty(secret) && secret.Length < 6)
            throw OAuth2Error.InvalidClientMetadata("Field client_secret must contain a secret that is at least 6 characters long.");

        if (Str("scope").Length == 0) _values["scope"] = string.Join(' ', defaultScope);

        var origins = List("allowed_cors_origins");
        for (var i = 0; i < origins.Count; i++) origins[i] = CanonicalOrigin(origins[i]);
        _values["allowed_cors_origins"] = new JsonArray([.. origins.Select(x => (JsonNode?)x)]);
    }

    private void ValidateAfterSector(OAuth2Settings settings)
    {
        var userinfoAlg = Str("userinfo_signed_response_alg");
        if (userinfoAlg.Length == 0) _values["userinfo_signed_response_alg"] = userinfoAlg = "none";
        if (userinfoAlg is not ("none" or "RS256"))
            throw OAuth2Error.InvalidClientMetadata("Field userinfo_signed_response_alg can either be 'none' or 'RS256'.");

        var redirects = new List<Uri?>();
        foreach (var r in List("redirect_uris"))
        {
            if (r.Contains('#', StringComparison.Ordinal)) throw OAuth2Error.InvalidRedirectUri("Redirect URIs must not contain fragments (#).");
            if (!TryParseRequestUri(r, out var u)) throw OAuth2Error.InvalidRedirectUri($"Unable to parse redirect URL: {r}");
            redirects.Add(u);
        }

        // The types of the client's own access-token strategy (pairwise is not offered to JWT access tokens); Go's %v of the list.
        var supportedTypes = settings.SubjectTypesSupported(Str("access_token_strategy"));
        var subjectType = Str("subject_type");
        if (subjectType.Length == 0) _values["subject_type"] = supportedTypes.Contains("public") ? "public" : supportedTypes[0];
        else if (!supportedTypes.Contains(subjectType))
            throw OAuth2Error.InvalidClientMetadata($"Subject type {subjectType} is not supported by server, only [{string.Join(' ', supportedTypes)}] are allowed.");

        foreach (var l in List("post_logout_redirect_uris"))
        {
            if (!TryParseRequestUri(l, out var u)) throw OAuth2Error.InvalidClientMetadata($"Unable to parse post_logout_redirect_uri: {l}");
            if (!redirects.Any(r => r is not null && u is not null && r.Scheme == u.Scheme && r.Host == u.Host && r.Port == u.Port))
                throw OAuth2Error.InvalidClientMetadata($"post_logout_redirect_uri \"{l}\" must match the domain, port, scheme of at least one of the registered redirect URIs but did not");
        }

        var strategy = Str("access_token_strategy");
        if (strategy.Length > 0)
        {
            var canonical = strategy.ToLowerInvariant();
            if (canonical is not ("jwt" or "opaque"))
                throw OAuth2Error.InvalidClientMetadata($"invalid access token strategy: Invalid access token strategy \"{strategy}\". Valid values are: opaque, jwt.");
            _values["access_token_strategy"] = canonical;
        }
    }

    /// <summary>The <c>oAuth2Client</c> JSON Hydra answers with; <paramref name="secret"/> only where Hydra shows it (create, secret change).</summary>
    /// <param name="registration">The registration access token and client URI, given only when Hydra shows them (dynamic registration's create and update).</param>
    public JsonObject ToJson(string clientId, DateTime createdAt, DateTime updatedAt, string? secret, (string? AccessToken, string? ClientUri) registration = default)
    {
        var o = new JsonObject { ["client_id"] = clientId };
        foreach (var (name, kind, omitEmpty) in Fields)
        {
            if (name == "client_name")
            {
                o[name] = Str(name);
                if (!string.IsNullOrEmpty(secret)) o["client_secret"] = secret;
                continue;
            }
            if (name == "subject_type") o["client_secret_expires_at"] = 0;
            if (name == "frontchannel_logout_uri")
            {
                o["created_at"] = FormatTime(createdAt);
                o["updated_at"] = FormatTime(updatedAt);
            }
            var value = _values[name];
            var empty = value switch
            {
                null => true,
                JsonArray a => a.Count == 0,
                JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>().Length == 0,
                JsonValue v when v.GetValueKind() == JsonValueKind.False => true,
                _ => false,
            };
            if (name == "access_token_strategy")
            {
                if (registration.AccessToken is { Length: > 0 } token) o["registration_access_token"] = token;
                if (registration.ClientUri is { Length: > 0 } uri) o["registration_client_uri"] = uri;
            }
            if (omitEmpty && empty) continue;
            o[name] = kind switch
            {
                Kind.StringList => value?.DeepClone() ?? new JsonArray(),
                Kind.String => value?.DeepClone() ?? "",
                Kind.Bool => value?.DeepClone() ?? false,
                _ => value?.DeepClone(),
            };
        }
        return o;
    }

    private static string FormatTime(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static JsonObject Empty()
    {
        var o = new JsonObject();
        foreach (var (name, kind, _) in Fields)
        {
            o[name] = kind switch
            {
                Kind.String => "",
                Kind.StringList => new JsonArray(),
                Kind.Bool => false,
                _ => null,
            };
        }
        return o;
    }

    private static string? ReadString(JsonObject o, string name) =>
        !o.TryGetPropertyValue(name, out var node) || node is null ? null
        : node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
        : throw TypeError(node, name, "string");

    /// <summary>A Go <c>int</c> field: an integer literal within int64 (<c>strconv.ParseInt</c> on its text), else Go's type error.</summary>
    private static void ReadGoInt(JsonObject o, string name)
    {
        if (!o.TryGetPropertyValue(name, out var node) || node is null) return;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) throw TypeError(node, name, "int");
        var text = v.ToJsonString();
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            throw DecodeError($"json: cannot unmarshal number {text} into Go struct field Client.{name} of type int");
    }

    private static JsonArray ReadList(JsonNode node, string name)
    {
        if (node is not JsonArray a) throw TypeError(node, name, "[]string");
        var result = new JsonArray();
        foreach (var item in a)
        {
            if (item is JsonValue v && v.GetValueKind() == JsonValueKind.String) result.Add(v.GetValue<string>());
            else throw TypeError(item, name, "string");
        }
        return result;
    }

    /// <summary>
    /// Hydra's <c>x.NullDuration.UnmarshalJSON</c>: a string for <c>time.ParseDuration</c>, whose error is passed on as Go
    /// words it (no field named); a value of another type is the inner string decode's type error, which Go's decoder
    /// places in the field of <paramref name="goStruct"/> (<c>Client</c>, or <c>Lifespans</c> for the lifespans endpoint).
    /// A negative duration is kept, as Hydra keeps it (no check in <c>client/validator.go</c>): the tokens it governs are
    /// issued expired, and an ID token cannot be issued at all (see <see cref="Protocol.IdTokens.EffectiveLifespan"/>).
    /// </summary>
    private static JsonNode? ReadDuration(JsonNode node, string name, string goStruct)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
            throw DecodeError($"json: cannot unmarshal {GoJsonKind.Of(node)} into Go struct field {goStruct}.{name} of type string");
        var s = v.GetValue<string>();
        if (!GoDuration.TryParse(s, out var d)) throw DecodeError(GoDuration.ParseError(s));
        // Stored and answered as Hydra writes a NullDuration: Go's Duration.String() ("-1h0m0s").
        return GoDuration.ToGoString(d);
    }

    private static OAuth2Error TypeError(JsonNode? node, string name, string goType) =>
        DecodeError($"json: cannot unmarshal {GoJsonKind.Of(node)} into Go struct field Client.{name} of type {goType}");

    private static OAuth2Error DecodeError(string detail) => OAuth2Error.BadRequest($"Unable to decode the request body: {detail}");

    /// <summary>Go's <c>url.ParseRequestURI</c>: an absolute URI, or an absolute path (then <paramref name="uri"/> is null).</summary>
    internal static bool TryParseRequestUri(string s, out Uri? uri)
    {
        uri = null;
        if (s.Length == 0 || s.Any(char.IsWhiteSpace)) return false;
        if (s[0] == '/') return true;
        var colon = s.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && Uri.TryCreate(s, UriKind.Absolute, out uri);
    }

    private static string CanonicalOrigin(string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var u) || origin[0] == '/')
            throw OAuth2Error.InvalidClientMetadata($"Origin URL {origin} must use https:// or http:// as HTTP scheme.");
        if (u.Scheme is not ("http" or "https")) throw OAuth2Error.InvalidClientMetadata($"Origin URL {origin} must use https:// or http:// as HTTP scheme.");
        if (u.UserInfo.Length > 0) throw OAuth2Error.InvalidClientMetadata($"Origin URL {origin} has HTTP user and/or password set which is not allowed.");
        if (u.AbsolutePath.TrimEnd('/').Length + u.Query.Length + u.Fragment.Length > 0)
            throw OAuth2Error.InvalidClientMetadata($"Origin URL {origin} must have an empty path, query, and fragment but one of the parts is not empty.");
        return u.IsDefaultPort ? $"{u.Scheme}://{u.Host}" : $"{u.Scheme}://{u.Host}:{u.Port}";
    }

    /// <summary>Every key names its type and carries that type's public material (go-jose's <c>JSONWebKey.Valid</c>).</summary>
    private static bool JwksIsValid(JsonObject jwks)
    {
        if (jwks["keys"] is not JsonArray keys) return false;
        foreach (var k in keys)
        {
            if (k is not JsonObject key) return false;
            string? Member(string n) => key[n] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
            var ok = Member("kty") switch
            {
                "RSA" => Member("n") is not null && Member("e") is not null,
                "EC" => Member("crv") is not null && Member("x") is not null && Member("y") is not null,
                "OKP" => Member("crv") is not null && Member("x") is not null,
                "oct" => Member("k") is not null,
                _ => false,
            };
            if (!ok) return false;
        }
        return true;
    }
}
