using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.Jsonnet;

namespace Gatehouse.Sessions.Tokenizer;

/// <summary>
/// Kratos's session tokenizer (<c>session/tokenizer.go</c>): <c>GET /sessions/whoami?tokenize_as=NAME</c> adds the
/// session as a JWT signed by template <c>session.whoami.tokenizer.templates.NAME</c>.
/// <para>
/// Claims: <c>jti</c> (random UUID), <c>iss</c> (the public base URL), <c>exp</c> (now + <c>ttl</c>), <c>sid</c>,
/// <c>nbf</c>, <c>iat</c>, <c>sub</c> (the identity id, or its <c>external_id</c> with <c>subject_source:
/// external_id</c>), then whatever the claims mapper returns as <c>claims</c> — it may replace every claim but
/// <c>sub</c>, which is set again afterwards. The mapper reads the whoami session JSON as <c>std.extVar('session')</c>
/// and the claims so far as <c>std.extVar('claims')</c>.
/// </para>
/// <para>
/// Loading follows Kratos: the key set is read from <c>file://</c> or <c>base64://</c> and kept for an hour per URL
/// (a rotated file is picked up within the hour); a <c>file://</c> mapper is read on every call, an
/// <c>http(s)://</c> one is kept for an hour. <see cref="ValidateAsync"/> reads every template once at start-up, so a
/// broken template stops <c>serve</c> with the key to fix rather than failing requests.
/// </para>
/// </summary>
public sealed partial class SessionTokenizer(GatehouseOptions options, JsonnetEngine jsonnet, IHttpClientFactory httpClients, TimeProvider time, ILogger<SessionTokenizer> logger)
{
    /// <summary>The HTTP client that fetches <c>http(s)://</c> claims mappers.</summary>
    public const string MapperClientName = "session_tokenizer_mapper";

    /// <summary>How long a key set (and a claims mapper fetched over HTTP) is kept, as Kratos keeps them.</summary>
    public static readonly TimeSpan CacheTtl = TimeSpan.FromHours(1);

    /// <summary>The largest claims mapper fetched over HTTP.</summary>
    public const int MaxMapperBytes = 1024 * 1024;

    public const string JsonnetFailed = "Unable to execute tokenizer JsonNet.";
    public const string ClaimsNotAnObject = "Expected tokenizer JsonNet to return a claims object but it did not.";
    public const string NoExternalId = "The session's identity does not have an external ID set, but it is required for the subject claim.";

    private static readonly JsonSerializerOptions PayloadOptions = HttpJson.Options;

    private readonly ConcurrentDictionary<string, Cached<TokenizerSigningKey>> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Cached<string>> _remoteMappers = new(StringComparer.Ordinal);

    private sealed record Cached<T>(T Value, DateTimeOffset LoadedAt);

    /// <summary>A template's key set or claims mapper cannot be read (a 500 in Kratos: the fetcher's error).</summary>
    private sealed class SourceUnreadable(string detail) : Exception(detail);

    public static string UnknownTemplate(string name) => $"Unable to find tokenizer template \"{name}\".";

    /// <summary>Limits for one claims-mapper evaluation, as for a web hook body: a runaway mapper fails fast.</summary>
    public static JsonnetEvaluationOptions Limits(string sessionJson, string claimsJson) => new()
    {
        ExtVars = { ["session"] = ExternalValue.Json(sessionJson), ["claims"] = ExternalValue.Json(claimsJson) },
        MaxSteps = 20_000_000,
        MaxAllocatedBytes = 128L * 1024 * 1024,
        MaxOutputLength = 4 * 1024 * 1024,
        MaxValueLength = 4 * 1024 * 1024,
        Timeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>The session as a JWT signed by template <paramref name="templateName"/>.</summary>
    /// <param name="sessionJson">The session as whoami answers it (without <c>tokenized</c>): what the claims mapper reads.</param>
    /// <exception cref="GatehouseError">Kratos's 400s (unknown template, key set, Jsonnet, subject, signing) and 500 (unreadable key set or mapper).</exception>
    public async Task<string> TokenizeAsync(string templateName, Session session, string sessionJson, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!options.Session.Whoami.Tokenizer.Templates.TryGetValue(templateName, out var template))
            throw GatehouseError.BadRequest(UnknownTemplate(templateName));

        TokenizerSigningKey key;
        try
        {
            key = await KeyAsync(template.JwksUrl, ct);
        }
        catch (SourceUnreadable e)
        {
            LogUnreadable(logger, templateName, "jwks_url", e.Message);
            throw Unreadable(templateName, "JSON Web Key Set");
        }

        var now = time.GetUtcNow();
        var claims = new JsonObject
        {
            ["jti"] = Guid.NewGuid().ToString(),
            ["iss"] = ReturnUrlPolicy.PublicBaseUrl(options),
            ["exp"] = now.Add(template.Ttl).ToUnixTimeSeconds(),
            ["sid"] = session.Id.ToString(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["iat"] = now.ToUnixTimeSeconds(),
        };
        SetSubject(claims, session, template.SubjectSource);

        if (!string.IsNullOrEmpty(template.ClaimsMapperUrl))
        {
            JsonnetProgram mapper;
            try
            {
                mapper = await MapperAsync(template.ClaimsMapperUrl, ct);
            }
            catch (SourceUnreadable e)
            {
                LogUnreadable(logger, templateName, "claims_mapper_url", e.Message);
                throw Unreadable(templateName, "claims mapper");
            }
            catch (JsonnetException e)
            {
                LogJsonnetFailed(logger, templateName, OneLine(e.Formatted));
                throw GatehouseError.BadRequest(JsonnetFailed);
            }

            string output;
            try
            {
                output = mapper.EvaluateMinified(Limits(sessionJson, claims.ToJsonString(PayloadOptions)), ct);
            }
            catch (JsonnetException e)
            {
                LogJsonnetFailed(logger, templateName, OneLine(e.Formatted));
                throw GatehouseError.BadRequest(JsonnetFailed);
            }
            if (JsonNode.Parse(output) is not JsonObject result || result["claims"] is not JsonObject mapped)
                throw GatehouseError.BadRequest(ClaimsNotAnObject);
            foreach (var name in mapped.Select(p => p.Key).ToList())
            {
                var value = mapped[name];
                mapped.Remove(name);
                claims[name] = value;
            }
            // The mapper may not choose the subject.
            SetSubject(claims, session, template.SubjectSource);
        }

        return key.Sign(Canonical(claims)!.ToJsonString(PayloadOptions));
    }

    /// <summary>
    /// Reads every template's key set (and checks that its first key signs with its <c>alg</c>) and claims mapper
    /// (and compiles it), so that a template that cannot work stops start-up with the key to fix.
    /// </summary>
    /// <exception cref="ConfigException">A template cannot sign or its mapper cannot be read or compiled.</exception>
    public async Task ValidateAsync(CancellationToken ct)
    {
        foreach (var (name, template) in options.Session.Whoami.Tokenizer.Templates.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var at = $"session.whoami.tokenizer.templates.{name}";
            try
            {
                var key = await KeyAsync(template.JwksUrl, ct);
                key.Sign("{}");
            }
            catch (SourceUnreadable e)
            {
                throw new ConfigException($"{at}.jwks_url: cannot be read: {e.Message}");
            }
            catch (GatehouseError e)
            {
                throw new ConfigException($"{at}.jwks_url: {KeyProblem(e.Reason)}");
            }

            if (string.IsNullOrEmpty(template.ClaimsMapperUrl)) continue;
            try
            {
                await MapperAsync(template.ClaimsMapperUrl, ct);
            }
            catch (SourceUnreadable e)
            {
                throw new ConfigException($"{at}.claims_mapper_url: cannot be read: {e.Message}");
            }
            catch (JsonnetException e)
            {
                throw new ConfigException($"{at}.claims_mapper_url: is not valid Jsonnet: {OneLine(e.Formatted)}");
            }
        }
    }

    /// <summary>Kratos's <c>SetSubjectClaim</c>.</summary>
    private static void SetSubject(JsonObject claims, Session session, string subjectSource)
    {
        if (subjectSource == "external_id")
        {
            var externalId = session.Identity?.ExternalId;
            if (string.IsNullOrEmpty(externalId)) throw GatehouseError.BadRequest(NoExternalId);
            claims["sub"] = externalId;
        }
        else
        {
            claims["sub"] = session.IdentityId.ToString();
        }
    }

    private async Task<TokenizerSigningKey> KeyAsync(string location, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_keys.TryGetValue(location, out var cached) && now - cached.LoadedAt < CacheTtl) return cached.Value;
        var key = TokenizerSigningKey.Parse(await ReadLocalAsync(location, ct));
        _keys[location] = new Cached<TokenizerSigningKey>(key, now);
        return key;
    }

    private async Task<JsonnetProgram> MapperAsync(string location, CancellationToken ct)
    {
        if (location.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || location.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            var now = time.GetUtcNow();
            if (!_remoteMappers.TryGetValue(location, out var cached) || now - cached.LoadedAt >= CacheTtl)
            {
                cached = new Cached<string>(await FetchAsync(location, ct), now);
                _remoteMappers[location] = cached;
            }
            return jsonnet.Compile(cached.Value, new Uri(location).AbsolutePath);
        }
        // The engine caches parsed programs by text, so reading the file on every call (as Kratos does) is cheap.
        var text = Encoding.UTF8.GetString(await ReadLocalAsync(location, ct));
        return jsonnet.Compile(text, location.StartsWith("file://", StringComparison.Ordinal) ? location["file://".Length..] : "claims_mapper.jsonnet");
    }

    /// <summary>A <c>file://</c> (path as written, relative to the working directory, as Kratos's fetcher) or <c>base64://</c> source.</summary>
    private static async Task<byte[]> ReadLocalAsync(string location, CancellationToken ct)
    {
        if (location.StartsWith("base64://", StringComparison.Ordinal))
        {
            var encoded = location["base64://".Length..].Trim().Replace('-', '+').Replace('_', '/');
            encoded = encoded.PadRight(encoded.Length + ((4 - (encoded.Length % 4)) % 4), '=');
            try
            {
                return Convert.FromBase64String(encoded);
            }
            catch (FormatException)
            {
                throw new SourceUnreadable("base64://[redacted] is not valid base64");
            }
        }
        if (location.StartsWith("file://", StringComparison.Ordinal))
        {
            var path = location["file://".Length..];
            try
            {
                return await File.ReadAllBytesAsync(path, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new SourceUnreadable($"{location}: {e.Message}");
            }
        }
        var scheme = location.Contains("://", StringComparison.Ordinal) ? location[..location.IndexOf("://", StringComparison.Ordinal)] : "(none)";
        throw new SourceUnreadable($"unknown scheme \"{scheme}\" (allowed: file, base64)");
    }

    private async Task<string> FetchAsync(string location, CancellationToken ct)
    {
        try
        {
            using var client = httpClients.CreateClient(MapperClientName);
            using var response = await client.GetAsync(location, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode)
                throw new SourceUnreadable($"{location}: expected status code 200, got {(int)response.StatusCode}");
            if (response.Content.Headers.ContentLength > MaxMapperBytes)
                throw new SourceUnreadable($"{location}: larger than {MaxMapperBytes} bytes");
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > MaxMapperBytes) throw new SourceUnreadable($"{location}: larger than {MaxMapperBytes} bytes");
                buffer.Write(chunk, 0, read);
            }
            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (HttpRequestException e)
        {
            throw new SourceUnreadable($"{location}: {e.Message}");
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new SourceUnreadable($"{location}: timed out ({e.Message})");
        }
    }

    /// <summary>
    /// The claims as golang-jwt writes them (from Go maps): keys sorted at every level, numbers as integers when they
    /// are whole (Go reads the mapper's numbers as float64 and writes whole ones without a fraction).
    /// </summary>
    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Canonical)]),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => Number(v),
        _ => node?.DeepClone(),
    };

    private static JsonValue Number(JsonValue value)
    {
        if (value.TryGetValue<long>(out var whole)) return JsonValue.Create(whole);
        var number = value.GetValue<double>();
        return Math.Floor(number) == number && Math.Abs(number) < 9e18 ? JsonValue.Create((long)number) : JsonValue.Create(number);
    }

    private static GatehouseError Unreadable(string templateName, string what) =>
        new(500, $"Unable to read the {what} of tokenizer template \"{templateName}\".");

    /// <summary>What is wrong with a key set, for the start-up error.</summary>
    private static string KeyProblem(string? reason) => reason switch
    {
        TokenizerSigningKey.ParseFailed => "is not a JSON Web Key Set (or a JSON Web Key) whose keys all parse",
        TokenizerSigningKey.NoKey => "the key set has no key",
        TokenizerSigningKey.DecodeFailed => "the first key of the set cannot be decoded (a missing or malformed member, an unknown curve, or an Ed25519 private key that does not match its public key)",
        TokenizerSigningKey.SignFailed => "the first key of the set cannot sign with its \"alg\": it must be a private key of the algorithm's kind (RSA for RS*/PS*, EC on P-256/P-384/P-521 for ES256/ES384/ES512, OKP Ed25519 for EdDSA) or an oct key of at least 128 bits for HS*",
        _ => $"the first key of the set: {reason} (one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)",
    };

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Replace('\t', ' ').Trim();

    [LoggerMessage(Level = LogLevel.Error, Message = "session tokenizer template \"{Template}\": {Key} cannot be read: {Detail}")]
    private static partial void LogUnreadable(ILogger logger, string template, string key, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "session tokenizer template \"{Template}\": the claims mapper failed: {Error}")]
    private static partial void LogJsonnetFailed(ILogger logger, string template, string error);
}
