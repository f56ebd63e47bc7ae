using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.Tests.Config;

/// <summary>Checks against Kratos's own files in <c>shared/reference/kratos</c>; skipped when that folder is absent.</summary>
public sealed class KratosCompatibilityTests
{
    // Keys Gatehouse adds on top of Kratos's schema.
    private static readonly HashSet<string> GatehouseAdditions = ["database.cleanup.janitor.enabled", "database.cleanup.janitor.interval", "database.cleanup.janitor.keep_last", "serve.admin.require_api_key", "session.devices.location_headers", "session.whoami.cache.enabled", "session.whoami.cache.max_entries", "session.whoami.cache.max_bytes", "session.whoami.cache.max_age", "courier.worker.retry_backoff", "courier.worker.retry_backoff_max", "ui.enabled",
        "gatehouse.trusted_proxies", "gatehouse.rate_limits.enabled", "gatehouse.rate_limits.exempt_loopback",
        "gatehouse.hashing.queue.concurrency", "gatehouse.hashing.queue.max_queued", "gatehouse.hashing.queue.max_wait", "gatehouse.hashing.queue.priority",
        // The built-in consent page of the OAuth2 provider (issue 14 deliverable 3); Hydra has no such keys.
        "oauth2.consent.remember_for", "oauth2.consent.claims_mapper_url",
        .. new[] { "login_per_identifier", "login_per_address", "code_attempts_per_recipient", "mails_per_recipient", "flows_per_address", "admin_key_failures_per_address", "second_factor_per_identity", "client_registrations_per_address" }
            .SelectMany(rule => new[] { "limit", "window", "progressive_delay" }.Select(key => $"gatehouse.rate_limits.{rule}.{key}")),
        // Issue 15 asks for serve.admin.cors; Kratos reads these keys (config.CORS(ctx, "admin")) but its schema lists only serve.public.cors.
        "serve.admin.cors.enabled", "serve.admin.cors.allowed_origins", "serve.admin.cors.allowed_methods", "serve.admin.cors.allowed_headers", "serve.admin.cors.exposed_headers", "serve.admin.cors.allow_credentials", "serve.admin.cors.max_age", "serve.admin.cors.debug", "serve.admin.cors.options_passthrough",
        // The jackson preset's redirect URI base (issue 13): Kratos reads it (ViperKeySAMLBaseRedirectURL) but its open-source schema omits it.
        "selfservice.methods.saml.config.base_redirect_uri"];

    // Hydra's keys, merged into Gatehouse's configuration for the OAuth2 provider (issue 14, "Configuration in Hydra's
    // YAML keys"): checked against Hydra's schema instead of Kratos's.
    private static readonly HashSet<string> HydraKeys = ["secrets.system", "serve.cookies.same_site_mode", "serve.cookies.same_site_legacy_workaround", "serve.cookies.secure", "serve.cookies.domain", "serve.cookies.names.login_csrf", "serve.cookies.names.consent_csrf", "serve.cookies.names.device_csrf", "serve.cookies.names.session", "serve.cookies.paths.session", "urls.registration", "oauth2.session.encrypt_at_rest", "oauth2.hashers.algorithm", "oauth2.hashers.bcrypt.cost", "oauth2.hashers.pbkdf2.iterations", "oauth2.expose_internal_errors", "urls.self.issuer", "urls.self.public", "urls.self.admin", "db.ignore_unknown_table_columns", "cgroups.v1.auto_max_procs_enabled", "sqa.opt_out", "urls.login", "urls.consent", "urls.error", "urls.logout", "urls.post_logout_redirect",
        "ttl.login_consent_request", "ttl.access_token", "ttl.refresh_token", "ttl.id_token", "ttl.auth_code", "ttl.authentication_session",
        "oauth2.pkce.enforced", "oauth2.pkce.enforced_for_public_clients",
        "oauth2.allowed_top_level_claims", "oauth2.mirror_top_level_claims", "oauth2.exclude_not_before_claim",
        "oauth2.grant.jwt.jti_optional", "oauth2.grant.jwt.iat_optional", "oauth2.grant.jwt.max_ttl",
        "oauth2.grant.refresh_token.rotation_grace_period", "oauth2.grant.refresh_token.rotation_grace_reuse_count",
        "webfinger.jwks.broadcast_keys", "webfinger.oidc_discovery.jwks_url", "webfinger.oidc_discovery.token_url", "webfinger.oidc_discovery.auth_url",
        "webfinger.oidc_discovery.device_authorization_url", "webfinger.oidc_discovery.client_registration_url",
        "webfinger.oidc_discovery.supported_claims", "webfinger.oidc_discovery.supported_scope", "webfinger.oidc_discovery.userinfo_url",
        "strategies.access_token", "strategies.jwt.scope_claim",
        "urls.device.verification", "urls.device.success", "ttl.device_user_code",
        "urls.identity_provider.url", "urls.identity_provider.publicUrl", "urls.identity_provider.headers",
        "oauth2.device_authorization.token_polling_interval", "oauth2.device_authorization.user_code",
        "oidc.dynamic_client_registration.enabled", "oidc.dynamic_client_registration.default_scope",
        "strategies.scope", "oauth2.client_credentials.default_grant_allowed_scope",
        "oidc.subject_identifiers.supported_types", "oidc.subject_identifiers.pairwise.salt",
        .. new[] { "oauth2.token_hook", "oauth2.refresh_token_hook" }
            .SelectMany(hook => new[] { "url", "auth.type", "auth.config.in", "auth.config.name", "auth.config.value" }.Select(key => $"{hook}.{key}"))];

    // Hydra's serve.tls: its schema takes the subtree from ory/x ("$ref": "ory://tls-config", oryx/configx/tls.schema.json
    // at v26.2.0), which the reference copy of Hydra's schema does not inline; checked by hand against that file.
    private static readonly HashSet<string> HydraTlsKeys = ["serve.tls.enabled", "serve.tls.cert.path", "serve.tls.cert.base64", "serve.tls.key.path", "serve.tls.key.base64", "serve.tls.allow_termination_from"];

    // Keys whose type deliberately differs: Kratos declares the cookie "secure" flags as strings but reads them as booleans.
    private static readonly HashSet<string> TypeDifferences = ["cookies.secure", "session.cookie.secure"];

    private static string KratosFile(string relative)
    {
        var folder = ConfigFiles.KratosReference();
        var path = folder is null ? null : Path.Combine(folder, relative);
        Assert.SkipWhen(path is null || !File.Exists(path), $"Kratos reference file {relative} is not available");
        return path!;
    }

    [Fact]
    public void The_email_password_quickstart_loads_with_only_warnings()
    {
        var file = KratosFile(Path.Combine("quickstart", "email-password", "kratos.yml"));

        var result = ConfigLoader.Load([file], new Dictionary<string, string?>(), dev: true);
        var o = result.Options;

        // Every key of Kratos's quickstart is known, its `version` included (accepted, not used).
        Assert.Empty(result.Warnings);
        Assert.Equal("v0.13.0", o.Version);
        Assert.Equal("xchacha20-poly1305", o.Ciphers.Algorithm);
        Assert.Equal("memory", o.Dsn);
        Assert.True(o.FeatureFlags.UseContinueWithTransitions);
        Assert.Equal("http://127.0.0.1:4433/", o.Serve.Public.BaseUrl);
        Assert.Equal("http://kratos:4434/", o.Serve.Admin.BaseUrl);
        Assert.True(o.Serve.Public.Cors.Enabled);
        Assert.Equal("http://127.0.0.1:4455/welcome", o.Selfservice.DefaultBrowserReturnUrl);
        Assert.Equal(3, o.Selfservice.AllowedReturnUrls.Count);
        Assert.True(o.Selfservice.Methods.Link.Enabled);
        Assert.True(o.Selfservice.Methods.LookupSecret.Enabled);
        Assert.True(o.Selfservice.Flows.Recovery.Enabled);
        Assert.True(o.Selfservice.Flows.Verification.Enabled);
        Assert.Equal("http://127.0.0.1:4455/welcome", o.Selfservice.Flows.Verification.After.DefaultBrowserReturnUrl);
        Assert.Equal(TimeSpan.FromMinutes(15), o.Selfservice.Flows.Settings.PrivilegedSessionMaxAge);
        Assert.Equal(TimeSpan.FromMinutes(10), o.Selfservice.Flows.Login.Lifespan);
        Assert.Equal("http://127.0.0.1:4455/login", o.Selfservice.Flows.Logout.After.DefaultBrowserReturnUrl);
        Assert.Equal(["session", "show_verification_ui"], o.Selfservice.Flows.Registration.After.HooksFor("password").Select(h => h.Hook));
        Assert.Equal("debug", o.Log.Level);
        Assert.True(o.Log.LeakSensitiveValues);
        Assert.Equal(["PLEASE-CHANGE-ME-I-AM-VERY-INSECURE"], o.Secrets.Cookie);
        Assert.Equal(8, o.Hashers.Bcrypt.Cost);
        Assert.Equal("file:///etc/config/kratos/identity.schema.json", Assert.Single(o.Identity.Schemas).Url);
        Assert.Equal("smtps://test:test@mailslurper:1025/?skip_ssl_verify=true", o.Courier.Smtp.ConnectionUri);
        Assert.Equal(Path.GetDirectoryName(file), result.BaseDirectory);
    }

    [Fact]
    public void Every_supported_key_exists_in_kratos_schema_with_the_same_type()
    {
        var kratos = JsonNode.Parse(File.ReadAllText(KratosFile("config.schema.json")))!.AsObject();
        var ours = ConfigSchema.Instance;
        var problems = new List<string>();

        foreach (var (path, schema) in Leaves(ours, ours.Root, ConfigPath.Root))
        {
            var key = path.ToString();
            if (GatehouseAdditions.Contains(key) || HydraKeys.Contains(key)) continue;
            // Kratos's schema takes `tracing` from ory/x (otelx/config.schema.json, "$ref": "ory://tracing-config"),
            // which the reference folder does not hold; The_tracing_key_is_ory_x_tracing_config covers the link.
            if (key.StartsWith("tracing.", StringComparison.Ordinal)) continue;
            if (HydraTlsKeys.Contains(key))
            {
                if (KratosSchemasAt(kratos, path).Count > 0) problems.Add($"{key}: also a Kratos key");
                continue;
            }
            var candidates = KratosSchemasAt(kratos, path);
            if (candidates.Count == 0)
            {
                problems.Add($"{key}: not in Kratos's schema");
                continue;
            }
            var ourTypes = ConfigSchema.Types(ours.Resolve(schema));
            var kratosTypes = candidates.SelectMany(c => ConfigSchema.Types(c)).ToHashSet();
            if (!TypeDifferences.Contains(key) && kratosTypes.Count > 0 && !ourTypes.Overlaps(kratosTypes))
                problems.Add($"{key}: ours is {string.Join("|", ourTypes)}, Kratos's is {string.Join("|", kratosTypes)}");
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void Every_hydra_key_exists_in_hydras_schema_with_the_same_type_and_not_in_kratos_schema()
    {
        var kratos = JsonNode.Parse(File.ReadAllText(KratosFile("config.schema.json")))!.AsObject();
        var hydraFile = Path.Combine(Path.GetDirectoryName(KratosFile("config.schema.json"))!, "..", "hydra", "config.schema.json");
        Assert.SkipWhen(!File.Exists(hydraFile), "Hydra reference file config.schema.json is not available");
        var hydra = JsonNode.Parse(File.ReadAllText(hydraFile))!.AsObject();
        var ours = ConfigSchema.Instance;
        var leaves = Leaves(ours, ours.Root, ConfigPath.Root).ToDictionary(l => l.Path.ToString(), l => l.Schema);
        var problems = new List<string>();
        foreach (var key in HydraKeys)
        {
            var path = ConfigPath.From(key.Split('.'));
            if (!leaves.TryGetValue(key, out var schema)) problems.Add($"{key}: not in Gatehouse's schema");
            var candidates = KratosSchemasAt(hydra, path);
            if (candidates.Count == 0) problems.Add($"{key}: not in Hydra's schema");
            else if (schema is not null)
            {
                var hydraTypes = candidates.SelectMany(c => ConfigSchema.Types(c)).ToHashSet();
                if (hydraTypes.Count > 0 && !ConfigSchema.Types(ours.Resolve(schema)).Overlaps(hydraTypes)) problems.Add($"{key}: type differs from Hydra's");
            }
            if (KratosSchemasAt(kratos, path).Count > 0) problems.Add($"{key}: also a Kratos key");
        }
        Assert.Empty(problems);
    }

    [Fact]
    public void The_tracing_key_is_ory_x_tracing_config()
    {
        var kratos = JsonNode.Parse(File.ReadAllText(KratosFile("config.schema.json")))!.AsObject();
        Assert.Equal("ory://tracing-config", kratos["properties"]!["tracing"]!["$ref"]!.GetValue<string>());
        Assert.Equal("#/$defs/hostPort", ConfigSchema.Instance.SchemaAt(ConfigPath.From(["tracing", "providers", "otlp", "server_url"]))!["$ref"]!.GetValue<string>());
    }

    [Fact]
    public void Every_gatehouse_addition_is_absent_from_kratos_schema()
    {
        var kratos = JsonNode.Parse(File.ReadAllText(KratosFile("config.schema.json")))!.AsObject();

        foreach (var key in GatehouseAdditions)
        {
            var path = ConfigPath.From(key.Split('.'));
            Assert.Empty(KratosSchemasAt(kratos, path));
        }
    }

    private static IEnumerable<(ConfigPath Path, JsonObject Schema)> Leaves(ConfigSchema schema, JsonObject node, ConfigPath path)
    {
        var resolved = schema.Resolve(node);
        var any = false;
        if (resolved["properties"] is JsonObject properties)
        {
            foreach (var (key, child) in properties)
            {
                any = true;
                foreach (var leaf in Leaves(schema, (JsonObject)child!, path.Append(key))) yield return leaf;
            }
        }
        if (resolved["items"] is JsonObject items && ConfigSchema.Types(schema.Resolve(items)).Contains("object"))
        {
            any = true;
            foreach (var leaf in Leaves(schema, items, path.Append(0))) yield return leaf;
        }
        if (!any && !path.IsRoot) yield return (path, node);
    }

    // Every subschema of Kratos's schema that can describe the value at the path (through $ref, allOf/anyOf/oneOf).
    private static List<JsonObject> KratosSchemasAt(JsonObject kratos, ConfigPath path)
    {
        var current = Expand(kratos, kratos);
        foreach (var segment in path.Segments)
        {
            current = [.. current.SelectMany(s => (segment is int ? s["items"] : s["properties"]?[(string)segment]) is JsonObject child ? Expand(kratos, child) : [])];
        }
        return current;
    }

    private static List<JsonObject> Expand(JsonObject kratos, JsonObject schema)
    {
        var result = new List<JsonObject>();
        var current = schema;
        // A reference outside the document (ory://tracing-config) has no properties here.
        while (current["$ref"] is JsonValue reference && reference.GetValue<string>().StartsWith("#/", StringComparison.Ordinal))
        {
            var name = reference.GetValue<string>().Replace("#/definitions/", "", StringComparison.Ordinal);
            current = kratos["definitions"]![name]!.AsObject();
        }
        result.Add(current);
        foreach (var combinator in new[] { "allOf", "anyOf", "oneOf" })
        {
            if (current[combinator] is JsonArray branches)
                result.AddRange(branches.OfType<JsonObject>().SelectMany(b => Expand(kratos, b)));
        }
        return result;
    }
}
