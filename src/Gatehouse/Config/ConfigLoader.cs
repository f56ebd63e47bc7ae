using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Gatehouse.Config;

/// <summary>
/// Loads the configuration as Kratos does: config files merged in order, then environment overrides,
/// validated against Gatehouse's schema, bound to <see cref="GatehouseOptions"/>, and completed with the
/// defaults Kratos derives at run time (base URLs, cookie secrets, session extension).
/// </summary>
public static class ConfigLoader
{
    /// <summary>Where <c>--dev</c> without any config keeps its data.</summary>
    public const string DevDsn = "sqlite://gatehouse.db?_fk=true";

    /// <summary>Kratos's lowest bcrypt cost outside <c>--dev</c>; lower configured costs are raised to it.</summary>
    public const int MinimumProductionBcryptCost = 12;

    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private static readonly JsonSerializerOptions BindingOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // The schema and the options tree must agree; a key the schema lets through but the tree lacks is a bug.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { PopulateNestedOptions } },
    };

    /// <summary>The process's environment variables, in the shape <see cref="Load"/> takes.</summary>
    public static IReadOnlyDictionary<string, string?> ProcessEnvironment() =>
        Environment.GetEnvironmentVariables()
            .Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);

    /// <param name="files">Config files (YAML, or JSON when the name ends in <c>.json</c>), merged in order.</param>
    /// <param name="environment">Environment variables; names that match a supported key override the files.</param>
    /// <param name="dev">Whether Gatehouse runs with <c>--dev</c>; the <c>dev</c> key (file or <c>DEV</c>) turns it on too.</param>
    /// <exception cref="ConfigException">A file cannot be read or parsed, or a key has an invalid value.</exception>
    public static ConfigLoadResult Load(IReadOnlyList<string> files, IReadOnlyDictionary<string, string?> environment, bool dev)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(environment);
        var schema = ConfigSchema.Instance;
        var warnings = new List<string>();
        var origins = new Dictionary<ConfigPath, string>();

        var config = Read(files, environment, schema, origins, warnings);
        // Kratos's `dev` key (the --dev flag, DEV=true or `dev: true` in a file) turns dev mode on as the flag does. A value
        // that is not a boolean is left to the schema check below, which names it.
        if (!dev && config["dev"] is JsonValue devKey && devKey.TryGetValue<bool>(out var devSet) && devSet)
        {
            dev = true;
            // The flag is hard to miss on a command line; a variable or a line in a file is not.
            var from = origins.TryGetValue(ConfigPath.Root.Append("dev"), out var origin) ? origin : "the configuration";
            warnings.Add($"dev: true ({from}) runs in dev mode, as --dev: relaxed cookies and no API key on the admin API; never in production");
        }

        if (config["dsn"] is null)
        {
            if (dev && files.Count == 0) config["dsn"] = DevDsn;
            else throw new ConfigException("dsn: is required (set it in the config file or with the DSN environment variable)");
        }

        if (dev && files.Count == 0) ApplyDevDefaults(config);

        if (schema.Validate(config) is { } failure) throw new ConfigException(Explain(failure, config, schema, origins));

        GatehouseOptions options;
        try
        {
            options = config.Deserialize<GatehouseOptions>(BindingOptions) ?? new GatehouseOptions();
        }
        catch (JsonException ex)
        {
            var path = ex.Path is { Length: > 2 } p ? p[2..] : "(root)";
            throw new ConfigException($"{path}: {ex.Message}", ex);
        }

        options.Dev = dev;
        options.ConfigHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(config.ToJsonString())));
        Complete(options, dev, warnings);
        return new ConfigLoadResult
        {
            Options = options,
            Warnings = warnings,
            BaseDirectory = files.Count > 0 ? Path.GetDirectoryName(Path.GetFullPath(files[0])) : null,
        };
    }

    /// <summary>
    /// Only the <c>hashers</c> section, for <c>gatehouse hashers argon2 …</c>: the files and environment overrides are
    /// read as for <see cref="Load"/>, but only <c>hashers.*</c> is validated and bound, and no <c>dsn</c> is needed —
    /// as Kratos's <c>configProvider</c> (<c>cmd/hashers/argon2/root.go</c>) reads the config with validation skipped.
    /// Warnings are about <c>hashers.*</c> keys only; the rest of a config is none of these commands' business.
    /// </summary>
    /// <exception cref="ConfigException">A file cannot be read or parsed, or a <c>hashers</c> key has an invalid value.</exception>
    public static (HashersOptions Hashers, IReadOnlyList<string> Warnings) LoadHashers(IReadOnlyList<string> files, IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(environment);
        var schema = ConfigSchema.Instance;
        var warnings = new List<string>();
        var origins = new Dictionary<ConfigPath, string>();
        var config = Read(files, environment, schema, origins, warnings);
        var hashers = new JsonObject();
        if (config["hashers"] is { } section) hashers["hashers"] = section.DeepClone();
        if (schema.Validate(hashers) is { } failure) throw new ConfigException(Explain(failure, hashers, schema, origins));
        try
        {
            var options = hashers.Deserialize<GatehouseOptions>(BindingOptions) ?? new GatehouseOptions();
            return (options.Hashers, warnings.Where(w => w.StartsWith("\"hashers.", StringComparison.Ordinal)).ToList());
        }
        catch (JsonException ex)
        {
            var path = ex.Path is { Length: > 2 } p ? p[2..] : "hashers";
            throw new ConfigException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>The files merged in order, then the environment overrides; keys the schema does not know are dropped with a warning.</summary>
    private static JsonObject Read(IReadOnlyList<string> files, IReadOnlyDictionary<string, string?> environment, ConfigSchema schema, Dictionary<ConfigPath, string> origins, List<string> warnings)
    {
        var config = new JsonObject();
        foreach (var file in files)
        {
            if (!File.Exists(file)) throw new ConfigException($"{file}: config file not found");
            Merge(config, ConfigFileReader.Read(file), ConfigPath.Root, origins, file);
        }
        EnvironmentOverrides.Apply(config, environment, schema, origins);
        schema.PruneUnknownKeys(config, warnings);
        return config;
    }

    // Maps merge key by key; lists and scalars from later files replace earlier ones.
    private static void Merge(JsonObject target, JsonObject source, ConfigPath path, Dictionary<ConfigPath, string> origins, string file)
    {
        foreach (var (key, value) in source.ToList())
        {
            var childPath = path.Append(key);
            if (value is JsonObject incoming && target[key] is JsonObject existing)
            {
                Merge(existing, incoming, childPath, origins, file);
                continue;
            }
            source.Remove(key);
            target[key] = value;
            origins[childPath] = file;
        }
    }

    private static string Explain(SchemaFailure failure, JsonObject config, ConfigSchema schema, Dictionary<ConfigPath, string> origins)
    {
        var value = Find(config, failure.Path);
        var keySchema = schema.SchemaAt(failure.Path);
        var origin = Origin(failure.Path, origins);
        if (failure.Keywords.Contains("required") && keySchema is not null && value is JsonObject present
            && schema.Resolve(keySchema)["required"] is JsonArray required
            && required.Select(r => r!.GetValue<string>()).FirstOrDefault(k => present[k] is null) is { } missing)
        {
            return $"{failure.Path.Append(missing)}: is required{origin}";
        }
        var name = failure.Path.IsRoot ? "(root)" : failure.Path.ToString();
        var problem = keySchema is null
            ? $"is invalid ({string.Join(", ", failure.Keywords)})"
            : $"expected {schema.Describe(keySchema)}, got {Render(value, schema.IsSensitive(failure.Path))}";
        return $"{name}: {problem}{origin}";
    }

    private static JsonNode? Find(JsonNode root, ConfigPath path)
    {
        JsonNode? current = root;
        foreach (var segment in path.Segments)
        {
            current = (current, segment) switch
            {
                (JsonObject map, string key) => map[key],
                (JsonArray list, int index) when index < list.Count => list[index],
                _ => null,
            };
        }
        return current;
    }

    private static string Render(JsonNode? value, bool sensitive)
    {
        if (value is null) return "null";
        if (sensitive) return value.GetValueKind() == JsonValueKind.String ? $"a value of {Characters(value.GetValue<string>().Length)}" : $"a {value.GetValueKind().ToString().ToLowerInvariant()}";
        var text = value.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        return text.Length > 80 ? text[..77] + "..." : text;
    }

    private static string Characters(int count) => count == 1 ? "1 character" : $"{count} characters";

    private static string Origin(ConfigPath path, Dictionary<ConfigPath, string> origins)
    {
        for (var current = path; current is not null; current = current.Parent)
        {
            if (origins.TryGetValue(current, out var origin))
                return origin.StartsWith("environment variable ", StringComparison.Ordinal) ? $" (from {origin})" : $" (in {origin})";
        }
        return "";
    }

    // Defaults Kratos computes at run time rather than in its schema.
    /// <summary>
    /// <c>--dev</c> with no config file behaves like Kratos's email-password quickstart: registering signs the user in
    /// (the <c>session</c> hook after password registration), so the built-in pages work end to end.
    /// Environment overrides still win.
    /// </summary>
    private static void ApplyDevDefaults(JsonObject config)
    {
        var selfservice = config["selfservice"] as JsonObject ?? (JsonObject)(config["selfservice"] = new JsonObject());
        var flows = selfservice["flows"] as JsonObject ?? (JsonObject)(selfservice["flows"] = new JsonObject());
        var registration = flows["registration"] as JsonObject ?? (JsonObject)(flows["registration"] = new JsonObject());
        var after = registration["after"] as JsonObject ?? (JsonObject)(registration["after"] = new JsonObject());
        if (after["password"] is null) after["password"] = new JsonObject { ["hooks"] = new JsonArray(new JsonObject { ["hook"] = "session" }) };
    }

    private static void Complete(GatehouseOptions options, bool dev, List<string> warnings)
    {
        // Read the certificates now, so a missing file or a key that does not match stops the start with the key's path.
        Http.ListenerTls.From(options.Serve.Public.Tls, "serve.public", TimeProvider.System);
        Http.ListenerTls.From(options.Serve.Admin.Tls, "serve.admin", TimeProvider.System);
        // Hydra's serve.tls: its pair is read when enabled (else Hydra ignores it); its CIDR ranges must parse (ory/x
        // tlsx.EnforceTLSRequests fails the start on a bad one).
        if (options.Serve.Tls.Enabled) Http.ListenerTls.From(new TlsOptions { Cert = options.Serve.Tls.Cert, Key = options.Serve.Tls.Key }, "serve", TimeProvider.System);
        for (var i = 0; i < options.Serve.Tls.AllowTerminationFrom.Count; i++)
        {
            if (!IsCidr(options.Serve.Tls.AllowTerminationFrom[i]))
                throw new ConfigException($"serve.tls.allow_termination_from[{i}]: \"{options.Serve.Tls.AllowTerminationFrom[i]}\" is not a CIDR address range (e.g. 10.0.0.0/8)");
        }
        var shared = Http.UnixSockets.Shared(options.Serve);
        if (shared && options.Serve.Admin.Tls.Configured)
        {
            throw new ConfigException("serve.admin.tls: the admin listener shares serve.public.port, so it is served with serve.public.tls; set TLS there");
        }
        foreach (var (listener, name) in new[] { (options.Serve.Public, "serve.public"), (options.Serve.Admin, "serve.admin") })
        {
            if (Http.UnixSockets.PathOf(listener.Host) is not { } socket) continue;
            if (socket.Length == 0) throw new ConfigException($"{name}.host: expected a socket path after \"unix:\" (e.g. unix:/run/gatehouse/{name[6..]}.sock)");
            if (listener.BaseUrl is null)
            {
                warnings.Add($"{name}.base_url is not set while {name}.host is a unix socket: links and redirects will name http://127.0.0.1:{listener.Port}/; set it to the URL the proxy in front serves");
            }
        }
        options.Serve.Public.BaseUrl ??= DeriveBaseUrl(options.Serve, options.Serve.Public);
        options.Serve.Admin.BaseUrl ??= DeriveBaseUrl(options.Serve, shared ? options.Serve.Public : options.Serve.Admin);
        options.Session.EarliestPossibleExtend ??= options.Session.Lifespan;
        if (options.Database.Cleanup.Janitor.Enabled && options.Database.Cleanup.Janitor.Interval <= TimeSpan.Zero)
            throw new ConfigException("database.cleanup.janitor.interval: expected a duration above zero (e.g. \"1h\") when the janitor is enabled");

        // A Hydra configuration sets only secrets.system, which Hydra's cookie secrets default to (driver/config/provider.go
        // GetCookieSecrets); Gatehouse's secrets.default (verifiers, user codes, rate-limit keys) then takes it too, rather than
        // a secret per process. Only then: with secrets.default or secrets.cookie set they stay as they are, so adding
        // secrets.system to a Kratos configuration changes no key that existing sessions, codes or flows were made with.
        if (options.Secrets.Default.Count == 0 && options.Secrets.Cookie.Count == 0 && options.Secrets.System.Count > 0)
            options.Secrets.Default = [.. options.Secrets.System];
        if (options.Secrets.Cookie.Count == 0) options.Secrets.Cookie = [.. options.Secrets.Default];
        if (options.Secrets.Default.Count == 0 && options.Secrets.Cookie.Count == 0)
        {
            var secret = RandomNumberGenerator.GetString(SecretAlphabet, 32);
            options.Secrets.Default = [secret];
            options.Secrets.Cookie = [secret];
            warnings.Add("secrets.default, secrets.cookie and secrets.system are not set: generated a random secret for this process, so sessions and flows will not survive a restart");
        }

        if (!dev && options.Hashers.Bcrypt.Cost < MinimumProductionBcryptCost)
        {
            warnings.Add($"hashers.bcrypt.cost: {options.Hashers.Bcrypt.Cost} is below {MinimumProductionBcryptCost}, the minimum outside --dev; using {MinimumProductionBcryptCost}");
            options.Hashers.Bcrypt.Cost = MinimumProductionBcryptCost;
        }

        // Hydra clamps the grace period to its maximum (driver/config/provider.go GracefulRefreshTokenRotation) rather than
        // refusing it; Gatehouse does the same and says so.
        var grace = options.Oauth2.Grant.RefreshToken;
        if (grace.EffectiveGracePeriod != grace.RotationGracePeriod)
        {
            warnings.Add(grace.RotationGraceReuseCount > 0
                ? $"oauth2.grant.refresh_token.rotation_grace_period: {GoDuration.Format(grace.RotationGracePeriod)} is above the maximum of 180 days (4320h); using 4320h"
                : $"oauth2.grant.refresh_token.rotation_grace_period: {GoDuration.Format(grace.RotationGracePeriod)} is above the maximum of 5m without a rotation_grace_reuse_count (up to 180 days with one); using 5m");
        }

        foreach (var proxy in options.Gatehouse.TrustedProxies)
        {
            try
            {
                RateLimiting.ClientAddresses.ParseNetwork(proxy);
            }
            catch (ArgumentException e)
            {
                throw new ConfigException(e.Message, e);
            }
        }

        // Kratos's config schema forbids both (an anyOf over the two flags): a code cannot be both the first and the second factor.
        if (options.Selfservice.Methods.Code is { PasswordlessEnabled: true, MfaEnabled: true })
        {
            throw new ConfigException("selfservice.methods.code: passwordless_enabled and mfa_enabled cannot both be true; " +
                "set selfservice.methods.code.passwordless_enabled (sign in by code) or selfservice.methods.code.mfa_enabled (code as a second factor), not both");
        }

        if (options.Selfservice.Flows.Registration.EnableLegacyOneStep)
        {
            // Kratos's words (driver/config/config.go SelfServiceFlowRegistrationTwoSteps).
            warnings.Add("Found use of deprecated configuration key \"selfservice.flows.registration.enable_legacy_one_step\". Please use key \"selfservice.flows.registration.style\" instead and delete key \"selfservice.flows.registration.enable_legacy_one_step\". Will use value from \"selfservice.flows.registration.enable_legacy_one_step\" to configure registration style.");
        }

        CheckOidcProviders(options.Selfservice.Methods.Oidc);
        CheckSubjectIdentifiers(options, warnings);
        CheckTracing(options.Tracing, warnings);

        var schemas = options.Identity.Schemas;
        if (schemas.Count > 0 && !schemas.Exists(s => s.Id == options.Identity.DefaultSchemaId))
        {
            throw new ConfigException($"identity.default_schema_id: expected the id of an entry in identity.schemas ({string.Join(", ", schemas.Select(s => s.Id))}), got \"{options.Identity.DefaultSchemaId}\"");
        }
    }

    /// <summary>
    /// What the schema cannot say about <c>tracing</c>: the chosen provider's <c>server_url</c> is required (Kratos's schema
    /// does not say so; without one nothing can be sent), and <c>jaeger</c> is refused with the way to keep using Jaeger.
    /// </summary>
    private static void CheckTracing(TracingOptions tracing, List<string> warnings)
    {
        switch (tracing.Provider)
        {
            case null or "":
                return;
            case "jaeger":
                // Kratos sends to the Jaeger agent over UDP (Thrift compact) through OpenTelemetry Go's Jaeger exporter,
                // which OpenTelemetry deprecated in 2023 and removed; Jaeger 2 has no agent, and Jaeger since 1.35 takes OTLP.
                throw new ConfigException("tracing.provider: \"jaeger\" (the Jaeger agent's UDP protocol) is not supported by Gatehouse; " +
                    "Jaeger 1.35 and later receive OTLP: set tracing.provider to otel and tracing.providers.otlp.server_url to the Jaeger collector's OTLP/HTTP address (e.g. jaeger:4318, with insecure: true for plain http)");
            case "otel":
                if (string.IsNullOrEmpty(tracing.Providers.Otlp.ServerUrl))
                    throw new ConfigException("tracing.providers.otlp.server_url: is required when tracing.provider is otel (host:port of an OTLP/HTTP receiver, e.g. localhost:4318)");
                if (tracing.Providers.Otlp.AuthorizationHeader is { } header && header.Any(char.IsControl))
                    throw new ConfigException($"tracing.providers.otlp.authorization_header: must not contain line breaks or other control characters, got a value of {Characters(header.Length)}");
                return;
            case "zipkin":
                if (string.IsNullOrEmpty(tracing.Providers.Zipkin.ServerUrl))
                    throw new ConfigException("tracing.providers.zipkin.server_url: is required when tracing.provider is zipkin (e.g. http://localhost:9411/api/v2/spans)");
                if (tracing.Providers.Zipkin.Sampling.SamplingRatio is null)
                {
                    warnings.Add("tracing.providers.zipkin.sampling.sampling_ratio is not set: as in Kratos it is 0 for zipkin, and zipkin reads no caller's sampling decision, so no span is sent; set it (e.g. 1)");
                }
                return;
        }
    }

    /// <summary>
    /// Hydra's <c>SubjectTypesSupported</c> checks (<c>driver/config/provider.go</c>), made at start-up: <c>pairwise</c> with
    /// <c>strategies.access_token: jwt</c> is dropped with Hydra's warning; otherwise it needs a salt of at least 8
    /// characters (Hydra stops with this message). Gatehouse addition: <c>pairwise</c> alone with <c>jwt</c> would leave no
    /// subject type at all (Hydra then fails every client without a subject_type), so that is refused too.
    /// </summary>
    private static void CheckSubjectIdentifiers(GatehouseOptions options, List<string> warnings)
    {
        var subjects = options.Oidc.SubjectIdentifiers;
        if (!subjects.SupportedTypes.Contains("pairwise")) return;
        if (options.Strategies.AccessToken == "jwt")
        {
            if (!subjects.SupportedTypes.Contains("public"))
                throw new ConfigException("oidc.subject_identifiers.supported_types: only pairwise is listed, but pairwise is not supported with strategies.access_token jwt, which would leave no subject type; add public or set strategies.access_token to opaque");
            warnings.Add("The pairwise subject identifier algorithm is not supported by the JWT OAuth 2.0 Access Token Strategy and is thus being disabled. Please remove \"pairwise\" from oidc.subject_identifiers.supported_types\" (e.g. oidc.subject_identifiers.supported_types=public) or set strategies.access_token to \"opaque\".");
            return;
        }
        // Go's len: bytes of UTF-8.
        var length = System.Text.Encoding.UTF8.GetByteCount(subjects.Pairwise.Salt);
        if (length < 8)
            throw new ConfigException($"oidc.subject_identifiers.pairwise.salt: The pairwise subject identifier algorithm was set but length of oidc.subject_identifier.salt is too small ({length} < 8), please set oidc.subject_identifiers.pairwise.salt to a random string with 8 characters or more.");
    }

    /// <summary>
    /// What the schema cannot say about the oidc providers: ids are unique (they name the callback route and the
    /// credential), the <c>provider</c> is a preset Gatehouse serves, with the keys that preset needs (a generic provider
    /// its <c>issuer_url</c>, microsoft its tenant, …).
    /// </summary>
    private static void CheckOidcProviders(OidcMethodOptions oidc)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < oidc.Config.Providers.Count; i++)
        {
            var p = oidc.Config.Providers[i];
            var at = $"selfservice.methods.oidc.config.providers[{i}]";
            if (!seen.Add(p.Id)) throw new ConfigException($"{at}.id: \"{p.Id}\" is used by another provider; every provider needs its own id");
            SelfService.Strategies.Oidc.Presets.OidcPresets.Check(p, at);
        }
    }

    /// <summary>Go's <c>net.ParseCIDR</c> rule: an IP address, <c>/</c>, a prefix length that fits it (host bits may be set).</summary>
    private static bool IsCidr(string value)
    {
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !System.Net.IPAddress.TryParse(value.AsSpan(0, slash), out var address) || value.AsSpan(0, slash).Contains('%')) return false;
        if (address.AddressFamily == AddressFamily.InterNetwork && value.AsSpan(0, slash).Count('.') != 3) return false;
        var bits = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        var prefix = value.AsSpan(slash + 1);
        return prefix.Length is > 0 and <= 3 && prefix.IndexOfAnyExceptInRange('0', '9') < 0
            && int.Parse(prefix, System.Globalization.CultureInfo.InvariantCulture) <= bits;
    }

    /// <summary><c>http://&lt;host&gt;:&lt;port&gt;/</c>, with a wildcard host replaced by loopback so the URL is reachable.</summary>
    private static string DeriveBaseUrl(ServeOptions serve, ListenerOptions listener)
    {
        var host = listener.Host;
        if (host is "" or "0.0.0.0" or "::" or "[::]" || Http.UnixSockets.PathOf(host) is not null) host = "127.0.0.1";
        else if (System.Net.IPAddress.TryParse(host, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6) host = $"[{host}]";
        return $"{(Http.ListenerTls.Enabled(serve, listener) ? "https" : "http")}://{host}:{listener.Port}/";
    }

    // Nested option objects are filled in place, so a file that sets serve.public.base_url keeps the
    // default port; lists and dictionaries are replaced, as Kratos replaces them. A property with its own converter
    // (a key that is a string or an object, such as oauth2.token_hook) is replaced too: the converter builds it whole.
    private static void PopulateNestedOptions(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object) return;
        foreach (var property in typeInfo.Properties)
        {
            if (property.PropertyType.IsClass && !property.PropertyType.IsAbstract && property.CustomConverter is null
                && property.PropertyType.Namespace == typeof(GatehouseOptions).Namespace && property.Set is not null)
            {
                property.ObjectCreationHandling = JsonObjectCreationHandling.Populate;
            }
        }
    }
}
