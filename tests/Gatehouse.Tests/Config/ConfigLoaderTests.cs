using Gatehouse.Config;

namespace Gatehouse.Tests.Config;

public sealed class ConfigLoaderTests : IDisposable
{
    private const string Secret = "a-cookie-secret-of-32-characters";
    private static readonly Dictionary<string, string?> NoEnvironment = [];
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    private string MinimalFile(string extra = "") => _files.Write("kratos.yml", "dsn: memory\n" + extra);

    private static ConfigLoadResult Load(string file, Dictionary<string, string?>? environment = null, bool dev = false) =>
        ConfigLoader.Load([file], environment ?? NoEnvironment, dev);

    private ConfigException LoadFails(string yaml, Dictionary<string, string?>? environment = null) =>
        Assert.Throws<ConfigException>(() => Load(_files.Write("bad.yml", yaml), environment));

    [Fact]
    public void Clients_smtp_disallow_private_ip_ranges_is_read_not_ignored()
    {
        // Kratos's key after v26.2 (driver/config/config.go ViperKeyClientSMTPNoPrivateIPRanges, default false).
        var result = Load(MinimalFile("secrets: {default: [a-default-secret-value]}\nclients:\n  smtp:\n    disallow_private_ip_ranges: true\n"));
        Assert.Empty(result.Warnings);
        Assert.True(result.Options.Clients.Smtp.DisallowPrivateIpRanges);
        Assert.False(Load(MinimalFile()).Options.Clients.Smtp.DisallowPrivateIpRanges);
    }

    [Fact]
    public void Expose_metrics_port_is_read_not_ignored_and_must_be_a_port()
    {
        // Kratos v26.2's top-level key (driver/config/config.go CourierExposeMetricsPort), read by courier watch.
        var result = Load(MinimalFile("secrets: {default: [a-default-secret-value]}\nexpose-metrics-port: 9102\n"));
        Assert.Empty(result.Warnings);
        Assert.Equal(9102, result.Options.ExposeMetricsPort);
        Assert.Equal(0, Load(MinimalFile()).Options.ExposeMetricsPort);
        Assert.Contains("expose-metrics-port", LoadFails("dsn: memory\nexpose-metrics-port: 70000\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Kratos_dev_key_turns_dev_mode_on_from_a_file_or_the_environment_as_the_flag_does()
    {
        // Kratos reads `dev` from its provider (driver/config/config.go IsInsecureDevMode): the flag, DEV=true or the file.
        var file = MinimalFile("secrets: {default: [a-default-secret-value]}\ndev: true\n");
        var fromFile = Load(file);
        Assert.True(fromFile.Options.Dev);
        // The flag is seen on the command line; the key is said out loud.
        Assert.Equal($"dev: true ({file}) runs in dev mode, as --dev: relaxed cookies and no API key on the admin API; never in production", Assert.Single(fromFile.Warnings));
        var fromEnvironment = Load(MinimalFile("secrets: {default: [a-default-secret-value]}\n"), new Dictionary<string, string?> { ["DEV"] = "true" });
        Assert.True(fromEnvironment.Options.Dev);
        Assert.StartsWith("dev: true (environment variable DEV) runs in dev mode", Assert.Single(fromEnvironment.Warnings), StringComparison.Ordinal);
        Assert.Empty(Load(file, dev: true).Warnings);
        Assert.True(Load(MinimalFile("dev: false\n"), dev: true).Options.Dev);
        Assert.False(Load(MinimalFile("secrets: {default: [a-default-secret-value]}\ndev: false\n"), new Dictionary<string, string?> { ["DEV"] = "false" }).Options.Dev);
        Assert.False(Load(MinimalFile("secrets: {default: [a-default-secret-value]}\n")).Options.Dev);
        Assert.Contains("dev", LoadFails("dsn: memory\ndev: sometimes\n").Message, StringComparison.Ordinal);

        // DEV=true without a file is `gatehouse serve --dev` without one: the dev database and defaults.
        var bare = ConfigLoader.Load([], new Dictionary<string, string?> { ["DEV"] = "true" }, dev: false);
        Assert.True(bare.Options.Dev);
        Assert.Equal(ConfigLoader.Load([], NoEnvironment, dev: true).Options.Dsn, bare.Options.Dsn);
    }

    [Fact]
    public void Kratos_watch_courier_sqa_opt_out_and_help_keys_load_without_warnings()
    {
        var result = Load(MinimalFile("secrets: {default: [a-default-secret-value]}\nwatch-courier: true\nsqa-opt-out: true\nhelp: false\n"));
        Assert.Empty(result.Warnings);
        Assert.True(result.Options.WatchCourier);
        Assert.True(result.Options.SqaOptOut);
        Assert.False(result.Options.Dev);
        Assert.False(Load(MinimalFile()).Options.WatchCourier);
        Assert.Contains("watch-courier", LoadFails("dsn: memory\nwatch-courier: 3\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Version_and_revision_are_read_not_ignored_and_the_config_hash_follows_the_loaded_configuration()
    {
        // Kratos's quickstart files carry `version: v0.13.0`; Kratos's pattern for it ends in `|$`, so any string passes.
        foreach (var version in new[] { "v0.13.0", "v26.2.0", "latest" })
        {
            var loaded = Load(MinimalFile($"secrets: {{default: [a-default-secret-value]}}\nversion: {version}\nrevision: deploy-42\n"));
            Assert.Empty(loaded.Warnings);
            Assert.Equal(version, loaded.Options.Version);
            Assert.Equal("deploy-42", loaded.Options.Revision);
        }
        Assert.Contains("version", LoadFails("dsn: memory\nversion: [1]\n").Message, StringComparison.Ordinal);

        var first = Load(MinimalFile("secrets: {default: [a-default-secret-value]}\n")).Options.ConfigHash;
        Assert.Matches("^[0-9a-f]{64}$", first);
        Assert.Equal(first, Load(MinimalFile("secrets: {default: [a-default-secret-value]}\n")).Options.ConfigHash);
        Assert.NotEqual(first, Load(MinimalFile("secrets: {default: [another-secret-value]}\n")).Options.ConfigHash);
        Assert.NotEqual(first, Load(MinimalFile("secrets: {default: [a-default-secret-value]}\n"),
            new Dictionary<string, string?> { ["LOG_LEVEL"] = "debug" }).Options.ConfigHash);
    }

    [Fact]
    public void Hydras_sqa_opt_out_is_accepted_without_a_warning()
    {
        var result = Load(MinimalFile("secrets: {default: [a-default-secret-value]}\nsqa:\n  opt_out: true\n"));
        Assert.Empty(result.Warnings);
        Assert.True(result.Options.Sqa.OptOut);
        Assert.Contains("sqa.opt_out", LoadFails("dsn: memory\nsqa:\n  opt_out: sometimes\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Choose_recovery_address_is_read_not_ignored()
    {
        // Kratos v26.2: feature_flags.choose_recovery_address (driver/config/config.go ViperKeyChooseRecoveryAddress, default false).
        var result = Load(MinimalFile("secrets: {default: [a-default-secret-value]}\nfeature_flags:\n  choose_recovery_address: true\n"));
        Assert.Empty(result.Warnings);
        Assert.True(result.Options.FeatureFlags.ChooseRecoveryAddress);
        Assert.False(Load(MinimalFile()).Options.FeatureFlags.ChooseRecoveryAddress);
    }

    [Fact]
    public void Password_profile_registration_node_group_is_accepted_and_validated_not_ignored()
    {
        // Kratos v26.2's schema lists feature_flags.password_profile_registration_node_group with enum [password, default].
        var result = Load(MinimalFile("secrets: {default: [a-default-secret-value]}\nfeature_flags:\n  password_profile_registration_node_group: password\n"));
        Assert.Empty(result.Warnings);
        Assert.Equal("password", result.Options.FeatureFlags.PasswordProfileRegistrationNodeGroup);
        Assert.Equal("default", Load(MinimalFile()).Options.FeatureFlags.PasswordProfileRegistrationNodeGroup);

        var bad = LoadFails("dsn: memory\nfeature_flags:\n  password_profile_registration_node_group: oidc\n");
        Assert.Contains("feature_flags.password_profile_registration_node_group", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hydra_token_hooks_bind_as_a_url_or_as_an_object_with_an_api_key()
    {
        // Hydra's schema: oauth2.token_hook / refresh_token_hook are a URI string or webhook_config {url, auth}.
        var result = Load(MinimalFile("""
            secrets: {default: [a-default-secret-value]}
            oauth2:
              token_hook: https://hooks.example/token
              refresh_token_hook:
                url: https://hooks.example/refresh
                auth:
                  type: api_key
                  config: {in: cookie, name: hook_key, value: s3cret-value}
            """));
        Assert.Empty(result.Warnings);
        Assert.Equal("https://hooks.example/token", result.Options.Oauth2.TokenHook!.Url);
        Assert.Null(result.Options.Oauth2.TokenHook.Auth);
        var legacy = result.Options.Oauth2.RefreshTokenHook!;
        Assert.Equal("https://hooks.example/refresh", legacy.Url);
        Assert.Equal("api_key", legacy.Auth!.Type);
        Assert.Equal(("cookie", "hook_key", "s3cret-value"), (legacy.Auth.Config.In, legacy.Auth.Config.Name, legacy.Auth.Config.Value));
        Assert.DoesNotContain("s3cret-value", legacy.Auth.Config.ToString(), StringComparison.Ordinal);
        Assert.Null(Load(MinimalFile()).Options.Oauth2.TokenHook);
        // An environment variable sets the URL form.
        var env = Load(MinimalFile(), new Dictionary<string, string?> { ["OAUTH2_TOKEN_HOOK"] = "https://env.example/hook" });
        Assert.Equal("https://env.example/hook", env.Options.Oauth2.TokenHook!.Url);
    }

    [Fact]
    public void A_token_hook_that_is_not_an_absolute_url_or_has_another_auth_type_stops_start_up()
    {
        var notUrl = LoadFails("dsn: memory\noauth2:\n  token_hook: hooks.example/token\n");
        Assert.StartsWith("oauth2.token_hook: expected", notUrl.Message);
        var noUrl = LoadFails("dsn: memory\noauth2:\n  token_hook:\n    auth: {type: api_key, config: {name: k, value: v}}\n");
        Assert.StartsWith("oauth2.token_hook.url: is required", noUrl.Message);
        var relative = LoadFails("dsn: memory\noauth2:\n  refresh_token_hook:\n    url: /hook\n");
        Assert.StartsWith("oauth2.refresh_token_hook.url: expected", relative.Message);
        var basic = LoadFails("dsn: memory\noauth2:\n  token_hook:\n    url: https://hooks.example/\n    auth: {type: basic_auth, config: {name: k, value: topsecret}}\n");
        Assert.StartsWith("oauth2.token_hook.auth.type: expected", basic.Message);
        var placement = LoadFails("dsn: memory\noauth2:\n  token_hook:\n    url: https://hooks.example/\n    auth: {type: api_key, config: {in: query, name: k, value: topsecret}}\n");
        Assert.StartsWith("oauth2.token_hook.auth.config.in: expected", placement.Message);
        var secretType = LoadFails("dsn: memory\noauth2:\n  token_hook:\n    url: https://hooks.example/\n    auth: {type: api_key, config: {in: header, name: k, value: [topsecret]}}\n");
        Assert.StartsWith("oauth2.token_hook.auth.config.value: expected", secretType.Message);
        Assert.DoesNotContain("topsecret", basic.Message + placement.Message + secretType.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hydras_subject_identifier_strategy_and_client_credentials_keys_are_read_and_checked_as_hydra_does()
    {
        const string Secrets = "secrets: {default: [a-default-secret-value]}\n";
        var result = Load(MinimalFile(Secrets + """
            oidc:
              subject_identifiers:
                supported_types: [public, pairwise]
                pairwise:
                  salt: some-random-salt
            strategies:
              scope: exact
            oauth2:
              client_credentials:
                default_grant_allowed_scope: true
            """));
        Assert.Empty(result.Warnings);
        var settings = Gatehouse.OAuth2.OAuth2Settings.From(result.Options);
        Assert.Equal(["public", "pairwise"], settings.SubjectTypesSupported());
        Assert.Equal(["public"], settings.SubjectTypesSupported("JWT"));
        Assert.Equal("some-random-salt", settings.PairwiseSalt);
        Assert.True(settings.ExactScopes);
        Assert.False(settings.AllowsScope(["photos.*"], "photos.read"));
        Assert.True(settings.ClientCredentialsDefaultGrantAllowedScope);

        // Hydra's defaults: public only, wildcard scopes, no scope granted by default.
        var defaults = Gatehouse.OAuth2.OAuth2Settings.From(Load(MinimalFile(Secrets)).Options);
        Assert.Equal(["public"], defaults.SubjectTypesSupported());
        Assert.True(defaults.AllowsScope(["photos.*"], "photos.read"));
        Assert.False(defaults.ClientCredentialsDefaultGrantAllowedScope);

        // Only pairwise listed: public is no longer offered (Hydra's SubjectTypesSupported).
        var onlyPairwise = Load(MinimalFile(Secrets + "oidc: {subject_identifiers: {supported_types: [pairwise], pairwise: {salt: some-random-salt}}}\n"));
        Assert.Equal(["pairwise"], Gatehouse.OAuth2.OAuth2Settings.From(onlyPairwise.Options).SubjectTypesSupported());

        // Hydra's Fatalf: a salt shorter than 8 bytes (or none) stops the start.
        var shortSalt = LoadFails("dsn: memory\noidc: {subject_identifiers: {supported_types: [public, pairwise], pairwise: {salt: short}}}\n");
        Assert.Equal("oidc.subject_identifiers.pairwise.salt: The pairwise subject identifier algorithm was set but length of oidc.subject_identifier.salt is too small (5 < 8), please set oidc.subject_identifiers.pairwise.salt to a random string with 8 characters or more.", shortSalt.Message);
        Assert.Contains("(0 < 8)", LoadFails("dsn: memory\noidc: {subject_identifiers: {supported_types: [pairwise]}}\n").Message);

        // Hydra's warning: pairwise is dropped with JWT access tokens; pairwise alone would leave no type at all.
        var jwt = Load(MinimalFile(Secrets + "strategies: {access_token: jwt}\noidc: {subject_identifiers: {supported_types: [public, pairwise]}}\n"));
        Assert.Contains(jwt.Warnings, w => w.StartsWith("The pairwise subject identifier algorithm is not supported by the JWT OAuth 2.0 Access Token Strategy and is thus being disabled.", StringComparison.Ordinal));
        Assert.Equal(["public"], Gatehouse.OAuth2.OAuth2Settings.From(jwt.Options).SubjectTypesSupported());
        Assert.Equal(["public", "pairwise"], Gatehouse.OAuth2.OAuth2Settings.From(jwt.Options).SubjectTypesSupported("opaque"));
        Assert.StartsWith("oidc.subject_identifiers.supported_types: only pairwise is listed", LoadFails("dsn: memory\nstrategies: {access_token: jwt}\noidc: {subject_identifiers: {supported_types: [pairwise]}}\n").Message);

        // Values outside Hydra's enums are refused by the schema.
        LoadFails("dsn: memory\noidc: {subject_identifiers: {supported_types: [secret]}}\n");
        LoadFails("dsn: memory\nstrategies: {scope: hierarchic}\n");
    }

    [Fact]
    public void A_single_file_is_bound_to_the_options_tree()
    {
        var file = MinimalFile("""
            serve:
              public:
                base_url: https://auth.example.com/
                port: 4000
                cors:
                  enabled: true
                  allowed_origins: [https://app.example.com]
            log:
              level: debug
            identity:
              default_schema_id: customer
              schemas:
                - id: customer
                  url: file:///etc/gatehouse/customer.schema.json
            session:
              lifespan: 720h
              cookie:
                name: my_session
                same_site: Strict
            selfservice:
              default_browser_return_url: https://app.example.com/
              flows:
                login:
                  ui_url: https://app.example.com/login
                  lifespan: 10m
                registration:
                  style: unified
                  after:
                    password:
                      hooks:
                        - hook: session
                        - hook: web_hook
                          config:
                            url: https://hooks.example.com/registered
                            method: POST
              methods:
                password:
                  config:
                    min_password_length: 12
                    haveibeenpwned_enabled: false
                link:
                  enabled: true
            courier:
              smtp:
                connection_uri: smtps://user:pass@mail.example.com:465/
                from_name: Example
                headers:
                  X-Tenant: example
            secrets:
              cookie: [a-cookie-secret-of-32-characters]
            """);

        var result = Load(file);
        var o = result.Options;

        Assert.Empty(result.Warnings);
        Assert.Equal("memory", o.Dsn);
        Assert.Equal("https://auth.example.com/", o.Serve.Public.BaseUrl);
        Assert.Equal(4000, o.Serve.Public.Port);
        Assert.True(o.Serve.Public.Cors.Enabled);
        Assert.Equal(["https://app.example.com"], o.Serve.Public.Cors.AllowedOrigins);
        Assert.Equal(["POST", "GET", "PUT", "PATCH", "DELETE"], o.Serve.Public.Cors.AllowedMethods);
        Assert.Equal(4434, o.Serve.Admin.Port);
        Assert.Equal("debug", o.Log.Level);
        Assert.Equal("customer", o.Identity.DefaultSchemaId);
        Assert.Equal("file:///etc/gatehouse/customer.schema.json", Assert.Single(o.Identity.Schemas).Url);
        Assert.Equal(TimeSpan.FromDays(30), o.Session.Lifespan);
        Assert.Equal("my_session", o.Session.Cookie.Name);
        Assert.True(o.Session.Cookie.Persistent);
        Assert.Equal("Strict", o.Session.Cookie.SameSite);
        Assert.Equal("https://app.example.com/login", o.Selfservice.Flows.Login.UiUrl);
        Assert.Equal(TimeSpan.FromMinutes(10), o.Selfservice.Flows.Login.Lifespan);
        Assert.Equal(TimeSpan.FromHours(1), o.Selfservice.Flows.Registration.Lifespan);
        Assert.Equal("unified", o.Selfservice.Flows.Registration.Style);
        var hooks = o.Selfservice.Flows.Registration.After.HooksFor("password");
        Assert.Equal(["session", "web_hook"], hooks.Select(h => h.Hook));
        Assert.Equal("https://hooks.example.com/registered", (string?)hooks[1].Config?["url"]);
        Assert.Empty(o.Selfservice.Flows.Registration.After.HooksFor("oidc"));
        Assert.Equal(12, o.Selfservice.Methods.Password.Config.MinPasswordLength);
        Assert.False(o.Selfservice.Methods.Password.Config.HaveibeenpwnedEnabled);
        Assert.True(o.Selfservice.Methods.Password.Config.IgnoreNetworkErrors);
        Assert.True(o.Selfservice.Methods.Link.Enabled);
        Assert.Equal(TimeSpan.FromHours(1), o.Selfservice.Methods.Link.Config.Lifespan);
        Assert.Equal("smtps://user:pass@mail.example.com:465/", o.Courier.Smtp.ConnectionUri);
        Assert.Equal("no-reply@ory.kratos.sh", o.Courier.Smtp.FromAddress);
        Assert.Equal("example", o.Courier.Smtp.Headers["X-Tenant"]);
        Assert.Equal([Secret], o.Secrets.Cookie);
        Assert.Equal(_files.Folder, result.BaseDirectory);
    }

    [Fact]
    public void A_json_file_is_read_like_yaml()
    {
        var file = _files.Write("kratos.json", """{"dsn": "memory", "serve": {"admin": {"port": 5000}}, "secrets": {"default": ["a-default-secret-value"]}}""");

        var options = Load(file).Options;

        Assert.Equal(5000, options.Serve.Admin.Port);
        Assert.Equal(["a-default-secret-value"], options.Secrets.Cookie);
    }

    [Fact]
    public void Later_files_merge_maps_deeply_and_replace_lists_and_scalars()
    {
        var first = _files.Write("base.yml", """
            dsn: sqlite:///var/lib/gatehouse.db
            serve:
              public:
                port: 4000
                cors:
                  enabled: true
                  allowed_origins: [https://a.example.com, https://b.example.com]
            selfservice:
              allowed_return_urls: [https://a.example.com/]
            """);
        var second = _files.Write("override.yml", """
            serve:
              public:
                cors:
                  allowed_origins: [https://c.example.com]
            selfservice:
              allowed_return_urls: []
            log:
              level: error
            """);

        var result = ConfigLoader.Load([first, second], NoEnvironment, dev: false);
        var o = result.Options;

        Assert.Equal("sqlite:///var/lib/gatehouse.db", o.Dsn);
        Assert.Equal(4000, o.Serve.Public.Port);
        Assert.True(o.Serve.Public.Cors.Enabled);
        Assert.Equal(["https://c.example.com"], o.Serve.Public.Cors.AllowedOrigins);
        Assert.Empty(o.Selfservice.AllowedReturnUrls);
        Assert.Equal("error", o.Log.Level);
        Assert.Equal(_files.Folder, result.BaseDirectory);
    }

    [Fact]
    public void Database_cleanup_older_than_is_accepted_without_a_warning_and_keep_last_stays_as_configured()
    {
        // In Kratos v26.2's schema, read by none of its code (cleanup sql takes --keep-last).
        var result = Load(MinimalFile("database:\n  cleanup:\n    older_than: 72h\n"));
        Assert.DoesNotContain(result.Warnings, w => w.Contains("older_than", StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromHours(72), result.Options.Database.Cleanup.OlderThan);
        Assert.Equal(TimeSpan.Zero, result.Options.Database.Cleanup.Janitor.KeepLast);
        Assert.Equal(TimeSpan.Zero, Load(MinimalFile()).Options.Database.Cleanup.OlderThan);
        Assert.Contains("database.cleanup.older_than", LoadFails("dsn: memory\ndatabase: {cleanup: {older_than: later}}\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Argon2_calibration_keys_are_accepted_without_warnings_and_change_no_hashing_parameter()
    {
        // As in Kratos, only the `hashers argon2` commands read them (cmd/hashers/argon2; see HashersConfigTests).
        var result = Load(MinimalFile("hashers:\n  argon2:\n    memory: 64MB\n    dedicated_memory: 2GB\n    expected_duration: 750ms\n    expected_deviation: 1s\n"));
        Assert.DoesNotContain(result.Warnings, w => w.Contains("argon2", StringComparison.Ordinal));
        var argon2 = result.Options.Hashers.Argon2;
        Assert.Equal((2L * 1024 * 1024 * 1024, TimeSpan.FromMilliseconds(750), TimeSpan.FromSeconds(1)), (argon2.DedicatedMemory, argon2.ExpectedDuration, argon2.ExpectedDeviation));
        Assert.Equal(64L * 1024 * 1024, argon2.Memory);
        var defaults = Load(MinimalFile()).Options.Hashers.Argon2;
        Assert.Equal((1024L * 1024 * 1024, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500)), (defaults.DedicatedMemory, defaults.ExpectedDuration, defaults.ExpectedDeviation));
        Assert.Contains("hashers.argon2.expected_duration", LoadFails("dsn: memory\nhashers: {argon2: {expected_duration: soon}}\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_overrides_coerce_integers_booleans_and_strings()
    {
        var result = Load(MinimalFile("serve: {public: {port: 4000}}\n"), new()
        {
            ["SERVE_PUBLIC_PORT"] = "4455",
            ["SERVE_ADMIN_HOST"] = "0.0.0.0",
            ["SERVE_PUBLIC_CORS_ENABLED"] = "true",
            ["LOG_LEVEL"] = "warning",
            ["HASHERS_ALGORITHM"] = "argon2",
            ["HASHERS_ARGON2_MEMORY"] = "64MB",
            ["DSN"] = "postgres://u:p@db:5432/gatehouse",
        });
        var o = result.Options;

        Assert.Equal(4455, o.Serve.Public.Port);
        Assert.Equal("0.0.0.0", o.Serve.Admin.Host);
        Assert.True(o.Serve.Public.Cors.Enabled);
        Assert.Equal("warning", o.Log.Level);
        Assert.Equal("argon2", o.Hashers.Algorithm);
        Assert.Equal(64L * 1024 * 1024, o.Hashers.Argon2.Memory);
        Assert.Equal("postgres://u:p@db:5432/gatehouse", o.Dsn);
    }

    [Fact]
    public void Environment_names_resolve_keys_that_contain_underscores()
    {
        var o = Load(MinimalFile(), new()
        {
            ["SELFSERVICE_DEFAULT_BROWSER_RETURN_URL"] = "https://app.example.com/welcome",
            ["SERVE_PUBLIC_BASE_URL"] = "https://auth.example.com/",
            ["SERVE_ADMIN_REQUIRE_API_KEY"] = "false",
            ["SELFSERVICE_FLOWS_LOGIN_UI_URL"] = "https://app.example.com/login",
            ["SELFSERVICE_FLOWS_SETTINGS_PRIVILEGED_SESSION_MAX_AGE"] = "15m",
            ["SELFSERVICE_METHODS_PASSWORD_CONFIG_HAVEIBEENPWNED_ENABLED"] = "0",
            ["SESSION_EARLIEST_POSSIBLE_EXTEND"] = "1h",
            ["COURIER_SMTP_CONNECTION_URI"] = "smtp://mail:25/?disable_starttls=true",
        }).Options;

        Assert.Equal("https://app.example.com/welcome", o.Selfservice.DefaultBrowserReturnUrl);
        Assert.Equal("https://auth.example.com/", o.Serve.Public.BaseUrl);
        Assert.False(o.Serve.Admin.RequireApiKey);
        Assert.Equal("https://app.example.com/login", o.Selfservice.Flows.Login.UiUrl);
        Assert.Equal(TimeSpan.FromMinutes(15), o.Selfservice.Flows.Settings.PrivilegedSessionMaxAge);
        Assert.False(o.Selfservice.Methods.Password.Config.HaveibeenpwnedEnabled);
        Assert.Equal(TimeSpan.FromHours(1), o.Session.EarliestPossibleExtend);
        Assert.Equal("smtp://mail:25/?disable_starttls=true", o.Courier.Smtp.ConnectionUri);
    }

    [Fact]
    public void String_arrays_from_the_environment_accept_json_or_comma_separated_values()
    {
        var o = Load(MinimalFile(), new()
        {
            ["SECRETS_COOKIE"] = """["first-cookie-secret-value","second-cookie-secret-value"]""",
            ["SELFSERVICE_ALLOWED_RETURN_URLS"] = "https://a.example.com/, https://b.example.com/",
        }).Options;

        Assert.Equal(["first-cookie-secret-value", "second-cookie-secret-value"], o.Secrets.Cookie);
        Assert.Equal(["https://a.example.com/", "https://b.example.com/"], o.Selfservice.AllowedReturnUrls);
    }

    [Fact]
    public void Objects_and_lists_of_objects_come_from_json_in_the_environment()
    {
        var o = Load(MinimalFile(), new()
        {
            ["IDENTITY_SCHEMAS"] = """[{"id":"default","url":"file:///x.json"},{"id":"staff","url":"https://example.com/staff.json"}]""",
            ["COURIER_SMTP_HEADERS"] = """{"X-Mailer":"gatehouse"}""",
            ["SELFSERVICE_FLOWS_LOGIN_AFTER_HOOKS"] = """[{"hook":"web_hook","config":{"url":"https://hooks.example.com/"}}]""",
        }).Options;

        Assert.Equal(["default", "staff"], o.Identity.Schemas.Select(s => s.Id));
        Assert.Equal("file:///x.json", o.Identity.Schemas[0].Url);
        Assert.Equal("gatehouse", o.Courier.Smtp.Headers["X-Mailer"]);
        Assert.Equal("https://hooks.example.com/", (string?)Assert.Single(o.Selfservice.Flows.Login.After.Hooks).Config?["url"]);
    }

    [Fact]
    public void Indexed_environment_names_set_single_array_elements()
    {
        var file = MinimalFile("""
            secrets:
              cookie: [file-cookie-secret-one, file-cookie-secret-two]
            identity:
              schemas:
                - id: default
                  url: file:///from/file.json
            """);

        var o = Load(file, new()
        {
            ["SECRETS_COOKIE_1"] = "env-cookie-secret-number-two",
            ["SECRETS_COOKIE_2"] = "env-cookie-secret-number-three",
            ["IDENTITY_SCHEMAS_0_URL"] = "file:///from/env.json",
        }).Options;

        Assert.Equal(["file-cookie-secret-one", "env-cookie-secret-number-two", "env-cookie-secret-number-three"], o.Secrets.Cookie);
        Assert.Equal("default", o.Identity.Schemas[0].Id);
        Assert.Equal("file:///from/env.json", o.Identity.Schemas[0].Url);
    }

    [Fact]
    public void Environment_variables_that_name_no_supported_key_are_ignored()
    {
        var result = Load(MinimalFile(), new()
        {
            ["PATH"] = "/usr/bin",
            ["PREVIEW_DEFAULT_READ_CONSISTENCY_LEVEL"] = "strong",
            ["serve_public_port"] = "1",
            ["LOG_LEVEL"] = "",
        });

        Assert.Equal(4433, result.Options.Serve.Public.Port);
        Assert.Equal("info", result.Options.Log.Level);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("preview", StringComparison.Ordinal));
    }

    [Fact]
    public void An_invalid_integer_from_the_environment_names_the_key_and_the_variable()
    {
        var ex = Assert.Throws<ConfigException>(() => Load(MinimalFile(), new() { ["SERVE_PUBLIC_PORT"] = "abc" }));

        Assert.Equal("serve.public.port: expected an integer between 0 and 65535, got \"abc\" (from environment variable SERVE_PUBLIC_PORT)", ex.Message);
    }

    [Fact]
    public void An_invalid_type_in_a_file_names_the_key_and_the_file()
    {
        var ex = LoadFails("dsn: memory\nserve:\n  public:\n    port: \"4433\"\n");

        Assert.StartsWith("serve.public.port: expected an integer between 0 and 65535, got \"4433\" (in ", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("bad.yml)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_port_out_of_range_is_rejected()
    {
        var ex = LoadFails("dsn: memory\nserve: {admin: {port: 70000}}\n");

        Assert.StartsWith("serve.admin.port: expected an integer between 0 and 65535, got 70000", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hashers: {algorithm: md5}", "hashers.algorithm: expected one of \"bcrypt\", \"argon2\", got \"md5\"")]
    [InlineData("log: {level: verbose}", "log.level: expected one of \"trace\", \"debug\", \"info\", \"warning\", \"error\", \"fatal\", \"panic\", got \"verbose\"")]
    [InlineData("selfservice: {flows: {registration: {style: two_step}}}", "selfservice.flows.registration.style: expected one of \"profile_first\", \"unified\", got \"two_step\"")]
    [InlineData("cookies: {same_site: lax}", "cookies.same_site: expected one of \"Strict\", \"Lax\", \"None\", got \"lax\"")]
    [InlineData("hashers: {bcrypt: {cost: 40}}", "hashers.bcrypt.cost: expected an integer between 4 and 31, got 40")]
    [InlineData("serve: {public: {base_url: /relative}}", "serve.public.base_url: expected an absolute URL such as \"https://example.com/\", got \"/relative\"")]
    [InlineData("selfservice: {flows: {login: {ui_url: not a url}}}", "selfservice.flows.login.ui_url: expected an absolute URL such as \"https://example.com/\", got \"not a url\"")]
    [InlineData("selfservice: {flows: {login: {after: {hooks: [{hook: teleport}]}}}}", "selfservice.flows.login.after.hooks[0].hook: expected one of")]
    [InlineData("courier: {smtp: {connection_uri: 'http://mail'}}", "courier.smtp.connection_uri: expected an smtp:// or smtps:// URL, got a value of 11 characters")]
    [InlineData("identity: {schemas: [{id: default}]}", "identity.schemas[0].url: is required")]
    [InlineData("serve: {public: {cors: {enabled: yes}}}", "serve.public.cors.enabled: expected true or false, got \"yes\"")]
    public void An_invalid_value_names_the_key_and_what_is_expected(string yaml, string expected)
    {
        var ex = LoadFails("dsn: memory\n" + yaml + "\n");

        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void A_short_secret_is_rejected_without_echoing_it()
    {
        var ex = LoadFails("dsn: memory\nsecrets: {cookie: [tooshort]}\n");

        Assert.StartsWith("secrets.cookie[0]: expected a string of at least 16 characters, got a value of 8 characters", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("tooshort", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cipher_secret_must_have_exactly_32_characters()
    {
        var ex = LoadFails("dsn: memory\nsecrets: {cipher: [only-twenty-characters]}\n");

        Assert.StartsWith("secrets.cipher[0]: expected a string of exactly 32 characters", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Kratos_deprecated_legacy_one_step_key_still_makes_registration_one_step_with_kratos_warning()
    {
        var legacy = Load(MinimalFile("""
            selfservice:
              flows:
                registration:
                  style: profile_first
                  enable_legacy_one_step: true
            """));
        Assert.False(legacy.Options.Selfservice.Flows.Registration.ProfileFirst);
        Assert.Contains(legacy.Warnings, w => w.StartsWith("Found use of deprecated configuration key \"selfservice.flows.registration.enable_legacy_one_step\"", StringComparison.Ordinal));

        var off = Load(MinimalFile("selfservice:\n  flows:\n    registration:\n      enable_legacy_one_step: false\n"));
        Assert.True(off.Options.Selfservice.Flows.Registration.ProfileFirst);
        Assert.DoesNotContain(off.Warnings, w => w.Contains("enable_legacy_one_step", StringComparison.Ordinal));
    }

    [Fact]
    public void Oauth2_provider_keys_bind_from_the_file_and_the_environment()
    {
        var file = Load(MinimalFile("""
            oauth2_provider:
              url: http://hydra:4445
              headers:
                Authorization: Bearer some-token
                X-Tenant: acme
              override_return_to: true
            """));
        Assert.DoesNotContain(file.Warnings, w => w.Contains("oauth2_provider", StringComparison.Ordinal));
        Assert.Equal("http://hydra:4445", file.Options.Oauth2Provider.Url);
        Assert.Equal("Bearer some-token", file.Options.Oauth2Provider.Headers["Authorization"]);
        Assert.Equal("acme", file.Options.Oauth2Provider.Headers["X-Tenant"]);
        Assert.True(file.Options.Oauth2Provider.OverrideReturnTo);

        var env = Load(MinimalFile(), new() { ["OAUTH2_PROVIDER_URL"] = "https://hydra.example:4445", ["OAUTH2_PROVIDER_OVERRIDE_RETURN_TO"] = "true" }).Options;
        Assert.Equal("https://hydra.example:4445", env.Oauth2Provider.Url);
        Assert.True(env.Oauth2Provider.OverrideReturnTo);

        var defaults = Load(MinimalFile()).Options;
        Assert.Null(defaults.Oauth2Provider.Url);
        Assert.Empty(defaults.Oauth2Provider.Headers);
        Assert.False(defaults.Oauth2Provider.OverrideReturnTo);

        var ex = Assert.Throws<ConfigException>(() => Load(MinimalFile("oauth2_provider:\n  url: hydra:4445\n")));
        Assert.Contains("oauth2_provider.url", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Urls_identity_provider_keys_bind_from_the_file_and_the_environment()
    {
        var file = Load(MinimalFile("""
            urls:
              identity_provider:
                url: http://kratos:4434
                publicUrl: http://kratos:4433
                headers:
                  Authorization: Bearer some-token
            """));
        Assert.DoesNotContain(file.Warnings, w => w.Contains("identity_provider", StringComparison.Ordinal));
        Assert.Equal("http://kratos:4434", file.Options.Urls.IdentityProvider.Url);
        Assert.Equal("http://kratos:4433", file.Options.Urls.IdentityProvider.PublicUrl);
        Assert.Equal("Bearer some-token", file.Options.Urls.IdentityProvider.Headers["Authorization"]);

        var env = Load(MinimalFile(), new() { ["URLS_IDENTITY_PROVIDER_URL"] = "https://kratos.example/admin", ["URLS_IDENTITY_PROVIDER_PUBLICURL"] = "https://kratos.example" }).Options;
        Assert.Equal("https://kratos.example/admin", env.Urls.IdentityProvider.Url);
        Assert.Equal("https://kratos.example", env.Urls.IdentityProvider.PublicUrl);

        var defaults = Load(MinimalFile()).Options;
        Assert.Null(defaults.Urls.IdentityProvider.Url);
        Assert.Null(defaults.Urls.IdentityProvider.PublicUrl);
        Assert.Empty(defaults.Urls.IdentityProvider.Headers);

        Assert.Contains("urls.identity_provider.url", Assert.Throws<ConfigException>(() => Load(MinimalFile("urls:\n  identity_provider:\n    url: kratos:4434\n"))).Message, StringComparison.Ordinal);
        Assert.Contains("urls.identity_provider.publicUrl", Assert.Throws<ConfigException>(() => Load(MinimalFile("urls:\n  identity_provider:\n    publicUrl: not a url\n"))).Message, StringComparison.Ordinal);
    }

    /// <summary>Keys of Kratos's later schema that Gatehouse accepts: no warning, and a wrong type is still refused.</summary>
    [Fact]
    public void Later_kratos_keys_load_without_warnings()
    {
        var result = Load(MinimalFile("""
            security:
              disallow_ref_in_identity_schemas: true
            feature_flags:
              refresh_login_choose_address: true
            courier:
              templates:
                verifiable_address_changed:
                  email: {subject: "base64://eA=="}
                  sms: {body: {plaintext: "base64://eQ=="}}
            secrets:
              default: [a-default-secret-value]
            """));
        Assert.Empty(result.Warnings);
        Assert.True(result.Options.Security.DisallowRefInIdentitySchemas);
        Assert.True(result.Options.FeatureFlags.RefreshLoginChooseAddress);
        Assert.Equal("base64://eA==", result.Options.Courier.Templates["verifiable_address_changed"].Email!.Subject);
        Assert.Equal("base64://eQ==", result.Options.Courier.Templates["verifiable_address_changed"].Sms!.Body!.Plaintext);
        Assert.Contains("security.disallow_ref_in_identity_schemas", Assert.Throws<ConfigException>(() => Load(MinimalFile("security:\n  disallow_ref_in_identity_schemas: sometimes\n"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_keys_are_reported_as_warnings_by_path_and_ignored()
    {
        var result = Load(MinimalFile("""
            courier:
              templates:
                verifiable_address_changed:
                  valid: {email: {subject: "base64://eA=="}}
            selfservice:
              methods:
                totp: {enabled: true}
            identity:
              schemas:
                - id: default
                  url: file:///x.json
                  selfservice_selectable: true
            oauth2_provider:
              url: http://hydra:4445
              client_id: typo
            secrets:
              default: [a-default-secret-value]
            """));

        Assert.Equal(
            [
                "\"courier.templates.verifiable_address_changed.valid\" is not supported by Gatehouse yet and is ignored",
                "\"oauth2_provider.client_id\" is not supported by Gatehouse yet and is ignored",
            ],
            result.Warnings);
        Assert.Equal("default", Assert.Single(result.Options.Identity.Schemas).Id);
        Assert.True(result.Options.Identity.Schemas[0].SelfserviceSelectable);
    }

    [Fact]
    public void Hook_config_is_kept_as_written_without_warnings()
    {
        var result = Load(MinimalFile("""
            selfservice:
              flows:
                settings:
                  after:
                    profile:
                      hooks:
                        - hook: web_hook
                          config:
                            url: https://hooks.example.com/
                            auth: {type: api_key, config: {name: X-Key, value: s3cret, in: header}}
                            response: {parse: true}
            secrets:
              default: [a-default-secret-value]
            """));

        Assert.Empty(result.Warnings);
        var hook = Assert.Single(result.Options.Selfservice.Flows.Settings.After.HooksFor("profile"));
        Assert.Equal("X-Key", (string?)hook.Config?["auth"]?["config"]?["name"]);
        Assert.True((bool?)hook.Config?["response"]?["parse"]);
    }

    [Fact]
    public void A_missing_dsn_is_an_error_outside_dev_and_with_config_files()
    {
        var file = _files.Write("no-dsn.yml", "log: {level: info}\n");

        var production = Assert.Throws<ConfigException>(() => Load(file));
        var devWithFile = Assert.Throws<ConfigException>(() => Load(file, dev: true));
        var devEmptyDsn = Assert.Throws<ConfigException>(() => ConfigLoader.Load([], new Dictionary<string, string?> { ["DSN"] = " " }, dev: true));

        Assert.StartsWith("dsn: is required", production.Message, StringComparison.Ordinal);
        Assert.StartsWith("dsn: is required", devWithFile.Message, StringComparison.Ordinal);
        Assert.Equal("dsn: expected a non-empty string, got a value of 1 character (from environment variable DSN)", devEmptyDsn.Message);
    }

    [Fact]
    public void A_duration_too_long_to_represent_names_the_key()
    {
        var ex = LoadFails("dsn: memory\nsession: {lifespan: 99999999999999h}\n");

        Assert.Equal("session.lifespan: \"99999999999999h\" is not a duration (expected e.g. \"1h\", \"15m\", \"30s\")", ex.Message);
    }

    [Fact]
    public void The_process_environment_is_offered_in_the_shape_load_takes()
    {
        var environment = ConfigLoader.ProcessEnvironment();

        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), environment.GetValueOrDefault("PATH"));
    }

    [Fact]
    public void Dev_without_files_defaults_to_a_local_sqlite_database()
    {
        var result = ConfigLoader.Load([], NoEnvironment, dev: true);
        var o = result.Options;

        Assert.Equal(ConfigLoader.DevDsn, o.Dsn);
        Assert.True(o.Dev);
        Assert.Null(result.BaseDirectory);
        Assert.Null(o.Serve.Admin.RequireApiKey);
        Assert.Equal("http://127.0.0.1:4433/", o.Serve.Public.BaseUrl);
        Assert.Equal("http://127.0.0.1:4434/", o.Serve.Admin.BaseUrl);
    }

    [Fact]
    public void Dev_keeps_a_dsn_given_in_the_environment()
    {
        var o = ConfigLoader.Load([], new Dictionary<string, string?> { ["DSN"] = "memory" }, dev: true).Options;

        Assert.Equal("memory", o.Dsn);
    }

    [Fact]
    public void Dev_allows_a_low_bcrypt_cost_and_production_raises_it_with_a_warning()
    {
        var file = MinimalFile("hashers: {bcrypt: {cost: 4}}\nsecrets: {default: [a-default-secret-value]}\n");

        var dev = Load(file, dev: true);
        var production = Load(file);

        Assert.Equal(4, dev.Options.Hashers.Bcrypt.Cost);
        Assert.Empty(dev.Warnings);
        Assert.Equal(12, production.Options.Hashers.Bcrypt.Cost);
        Assert.Equal("hashers.bcrypt.cost: 4 is below 12, the minimum outside --dev; using 12", Assert.Single(production.Warnings));
    }

    [Fact]
    public void Missing_secrets_are_generated_per_process_with_a_warning()
    {
        var first = Load(MinimalFile());
        var second = Load(MinimalFile());

        var secret = Assert.Single(first.Options.Secrets.Cookie);
        Assert.Equal(32, secret.Length);
        Assert.Equal([secret], first.Options.Secrets.Default);
        Assert.NotEqual(secret, Assert.Single(second.Options.Secrets.Cookie));
        Assert.Contains(first.Warnings, w => w.StartsWith("secrets.default, secrets.cookie and secrets.system are not set", StringComparison.Ordinal));
    }

    [Fact]
    public void Cookie_secrets_fall_back_to_the_default_secrets()
    {
        var result = Load(MinimalFile("secrets: {default: [default-secret-number-1, default-secret-number-2]}\n"));

        Assert.Equal(["default-secret-number-1", "default-secret-number-2"], result.Options.Secrets.Cookie);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Hydras_system_secrets_are_read_and_stand_in_for_the_default_and_cookie_secrets_only_when_neither_is_set()
    {
        // Hydra: secrets.cookie defaults to secrets.system (driver/config/provider.go GetCookieSecrets).
        var hydra = Load(MinimalFile("secrets: {system: [system-secret-number-1, system-secret-number-2]}\n"));
        Assert.Empty(hydra.Warnings);
        Assert.Equal(["system-secret-number-1", "system-secret-number-2"], hydra.Options.Secrets.System);
        Assert.Equal(["system-secret-number-1", "system-secret-number-2"], hydra.Options.Secrets.Default);
        Assert.Equal(["system-secret-number-1", "system-secret-number-2"], hydra.Options.Secrets.Cookie);

        // Added to a Kratos configuration it changes neither of Kratos's secrets.
        var both = Load(MinimalFile("secrets: {system: [system-secret-number-1], cookie: [cookie-secret-number-1]}\n"));
        Assert.Equal(["system-secret-number-1"], both.Options.Secrets.System);
        Assert.Empty(both.Options.Secrets.Default);
        Assert.Equal(["cookie-secret-number-1"], both.Options.Secrets.Cookie);

        var environment = Load(MinimalFile(), new() { ["SECRETS_SYSTEM_0"] = "system-secret-from-the-env" });
        Assert.Equal(["system-secret-from-the-env"], environment.Options.Secrets.System);

        // Hydra's schema: at least 16 characters each.
        Assert.StartsWith("secrets.system[0]: expected", LoadFails("dsn: memory\nsecrets: {system: [too-short]}\n").Message);
    }

    [Theory]
    [InlineData("", "http://127.0.0.1:4433/", "http://127.0.0.1:4434/")]
    [InlineData("serve: {public: {host: 0.0.0.0, port: 8080}, admin: {host: 0.0.0.0, port: 8081}}", "http://127.0.0.1:8080/", "http://127.0.0.1:8081/")]
    [InlineData("serve: {public: {host: auth.internal}, admin: {host: '::1'}}", "http://auth.internal:4433/", "http://[::1]:4434/")]
    [InlineData("serve: {public: {base_url: 'https://id.example.com/', port: 9}}", "https://id.example.com/", "http://127.0.0.1:4434/")]
    public void Base_urls_are_derived_from_host_and_port_when_not_set(string yaml, string publicUrl, string adminUrl)
    {
        var o = Load(MinimalFile(yaml + "\n")).Options;

        Assert.Equal(publicUrl, o.Serve.Public.BaseUrl);
        Assert.Equal(adminUrl, o.Serve.Admin.BaseUrl);
    }

    [Fact]
    public void Passkey_attestation_and_timeouts_are_kratos_keys()
    {
        var defaults = Load(MinimalFile("")).Options.Selfservice.Methods.Passkey.Config;
        Assert.Equal("none", defaults.Attestation.Preference);
        Assert.Null(defaults.Timeouts.Registration);
        Assert.Null(defaults.Timeouts.Login);
        var o = Load(MinimalFile("""
            selfservice:
              methods:
                passkey:
                  enabled: true
                  config:
                    rp: {id: example.com, display_name: Example}
                    attestation: {preference: enterprise}
                    timeouts: {registration: 60s, login: 2m30s}
            """)).Options.Selfservice.Methods.Passkey.Config;
        Assert.Equal("enterprise", o.Attestation.Preference);
        Assert.Equal(TimeSpan.FromSeconds(60), o.Timeouts.Registration);
        Assert.Equal(TimeSpan.FromSeconds(150), o.Timeouts.Login);
        LoadFails("""
            dsn: memory
            selfservice:
              methods:
                passkey: {enabled: true, config: {rp: {id: example.com, display_name: Example}, attestation: {preference: always}}}
            """);
        LoadFails("""
            dsn: memory
            selfservice:
              methods:
                passkey: {enabled: true, config: {rp: {id: example.com, display_name: Example}, timeouts: {login: 0s}}}
            """);
    }

    [Fact]
    public void Logout_clear_browser_data_is_kratos_key_and_off_by_default()
    {
        Assert.False(Load(MinimalFile("")).Options.Selfservice.Flows.Logout.ClearBrowserData);
        var o = Load(MinimalFile("""
            selfservice:
              flows:
                logout: {clear_browser_data: true}
            """)).Options;
        Assert.True(o.Selfservice.Flows.Logout.ClearBrowserData);
    }

    [Fact]
    public void Durations_use_go_syntax_and_earliest_possible_extend_defaults_to_the_lifespan()
    {
        var o = Load(MinimalFile("""
            session: {lifespan: 1h30m}
            selfservice:
              flows:
                recovery: {lifespan: 15m}
                settings: {privileged_session_max_age: 90s}
              methods:
                code: {config: {lifespan: 500ms}}
            """)).Options;

        Assert.Equal(TimeSpan.FromMinutes(90), o.Session.Lifespan);
        Assert.Equal(TimeSpan.FromMinutes(90), o.Session.EarliestPossibleExtend);
        Assert.Equal(TimeSpan.FromMinutes(15), o.Selfservice.Flows.Recovery.Lifespan);
        Assert.Equal(TimeSpan.FromSeconds(90), o.Selfservice.Flows.Settings.PrivilegedSessionMaxAge);
        Assert.Equal(TimeSpan.FromMilliseconds(500), o.Selfservice.Methods.Code.Config.Lifespan);
        Assert.Equal(TimeSpan.FromHours(1), o.Selfservice.Flows.Verification.Lifespan);
    }

    [Fact]
    public void Tokenizer_templates_bind_by_name_with_kratos_s_defaults()
    {
        var result = Load(MinimalFile("""
            session:
              whoami:
                tokenizer:
                  templates:
                    jwt-short.v1:
                      jwks_url: file:///etc/gatehouse/jwks.json
                    with_mapper:
                      ttl: 10m
                      jwks_url: base64://eyJrZXlzIjpbXX0=
                      claims_mapper_url: https://mappers.example.com/claims.jsonnet
                      subject_source: external_id
                      audience: ignored
            """));
        var templates = result.Options.Session.Whoami.Tokenizer.Templates;

        Assert.Equal(["jwt-short.v1", "with_mapper"], templates.Keys.Order(StringComparer.Ordinal));
        var plain = templates["jwt-short.v1"];
        Assert.Equal(TimeSpan.FromMinutes(1), plain.Ttl);
        Assert.Equal("file:///etc/gatehouse/jwks.json", plain.JwksUrl);
        Assert.Null(plain.ClaimsMapperUrl);
        Assert.Equal("id", plain.SubjectSource);
        var mapped = templates["with_mapper"];
        Assert.Equal(TimeSpan.FromMinutes(10), mapped.Ttl);
        Assert.Equal("https://mappers.example.com/claims.jsonnet", mapped.ClaimsMapperUrl);
        Assert.Equal("external_id", mapped.SubjectSource);
        Assert.Contains("\"session.whoami.tokenizer.templates.with_mapper.audience\" is not supported by Gatehouse yet and is ignored", result.Warnings);
    }

    [Theory]
    [InlineData("templates: {t: {ttl: 1m}}", "session.whoami.tokenizer.templates.t.jwks_url: is required")]
    [InlineData("templates: {t: {jwks_url: base64://e30=, subject_source: email}}", "session.whoami.tokenizer.templates.t.subject_source: expected one of \"id\", \"external_id\", got \"email\"")]
    [InlineData("templates: {t: {jwks_url: base64://e30=, ttl: 1d}}", "session.whoami.tokenizer.templates.t.ttl: expected a duration")]
    [InlineData("templates: {t: {jwks_url: base64://e30=, claims_mapper_url: ftp://x/y}}", "session.whoami.tokenizer.templates.t.claims_mapper_url: expected a string matching")]
    [InlineData("templates: {t: {jwks_url: https://keys.example.com/jwks.json}}", "session.whoami.tokenizer.templates.t.jwks_url: expected a file:// or base64:// URL (the key set is read only from those), got a value of 34 characters")]
    public void Invalid_tokenizer_templates_name_the_key(string tokenizer, string expected)
    {
        var ex = LoadFails("dsn: memory\nsession: {whoami: {tokenizer: {" + tokenizer + "}}}\n");

        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("session: {lifespan: soon}", "session.lifespan: expected a duration such as \"1h\", \"15m\" or \"30s\", got \"soon\"")]
    [InlineData("session: {lifespan: 24}", "session.lifespan: expected a duration such as \"1h\", \"15m\" or \"30s\", got 24")]
    [InlineData("selfservice: {flows: {login: {lifespan: 1d}}}", "selfservice.flows.login.lifespan: expected a duration such as \"1h\", \"15m\" or \"30s\", got \"1d\"")]
    public void An_invalid_duration_names_the_key(string yaml, string expected)
    {
        var ex = LoadFails("dsn: memory\n" + yaml + "\n");

        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_default_schema_id_must_name_a_configured_schema()
    {
        var ex = LoadFails("dsn: memory\nidentity: {default_schema_id: staff, schemas: [{id: customer, url: 'file:///c.json'}]}\n");

        Assert.Equal("identity.default_schema_id: expected the id of an entry in identity.schemas (customer), got \"staff\"", ex.Message);
    }

    [Fact]
    public void Yaml_scalars_follow_the_core_schema_and_quoted_values_stay_strings()
    {
        var o = Load(MinimalFile("""
            session:
              cookie:
                name: "123"
                persistent: false
            selfservice:
              default_browser_return_url: 'https://app.example.com/'
            courier:
              smtp:
                from_name: yes
            """)).Options;

        Assert.Equal("123", o.Session.Cookie.Name);
        Assert.False(o.Session.Cookie.Persistent);
        Assert.Equal("yes", o.Courier.Smtp.FromName);
    }

    [Fact]
    public void Yaml_anchors_and_aliases_are_resolved()
    {
        var o = Load(MinimalFile("""
            selfservice:
              flows:
                login: {ui_url: &ui https://app.example.com/ui}
                registration: {ui_url: *ui}
            """)).Options;

        Assert.Equal("https://app.example.com/ui", o.Selfservice.Flows.Registration.UiUrl);
    }

    [Fact]
    public void A_duplicate_yaml_key_is_reported_with_the_file_name()
    {
        var file = _files.Write("duplicate.yml", "dsn: memory\nlog: {level: info}\nlog: {level: debug}\n");

        var ex = Assert.Throws<ConfigException>(() => Load(file));

        Assert.StartsWith(file + ":", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_yaml_keys_count_as_not_set()
    {
        var o = Load(MinimalFile("serve:\n  public:\n  admin:\n    port: 5000\nlog:\n")).Options;

        Assert.Equal(4433, o.Serve.Public.Port);
        Assert.Equal(5000, o.Serve.Admin.Port);
        Assert.Equal("info", o.Log.Level);
    }

    [Fact]
    public void Broken_yaml_and_missing_files_are_reported_with_the_file_name()
    {
        var broken = _files.Write("broken.yml", "dsn: memory\nserve: [unclosed\n");
        var missing = Path.Combine(_files.Folder, "missing.yml");

        var parse = Assert.Throws<ConfigException>(() => Load(broken));
        var notFound = Assert.Throws<ConfigException>(() => Load(missing));

        Assert.StartsWith(broken + ":", parse.Message, StringComparison.Ordinal);
        Assert.Equal(missing + ": config file not found", notFound.Message);
    }
}
