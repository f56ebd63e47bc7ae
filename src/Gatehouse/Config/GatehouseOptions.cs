using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Gatehouse.Config;

/// <summary>
/// The root of the options tree. Property names map to Kratos's YAML keys in snake_case
/// (see <c>config.schema.json</c>); Gatehouse's own additions are marked as such.
/// Instances are produced by <see cref="ConfigLoader"/> after merging files and environment
/// overrides and validating the result.
/// </summary>
public sealed class GatehouseOptions
{
    public string Dsn { get; set; } = "";
    public DatabaseOptions Database { get; set; } = new();

    /// <summary>Hydra's <c>db</c> (accepted; no effect in Gatehouse).</summary>
    public HydraDbOptions Db { get; set; } = new();

    /// <summary>Hydra's <c>cgroups</c> (accepted; no effect in Gatehouse).</summary>
    public HydraCgroupsOptions Cgroups { get; set; } = new();

    /// <summary>Hydra's <c>sqa</c> (accepted; no effect: Gatehouse sends no usage telemetry).</summary>
    public HydraSqaOptions Sqa { get; set; } = new();

    public ServeOptions Serve { get; set; } = new();
    public LogOptions Log { get; set; } = new();

    /// <summary><c>tracing</c>: spans for every HTTP request, sent to an OTLP or Zipkin backend.</summary>
    public TracingOptions Tracing { get; set; } = new();

    public IdentityOptions Identity { get; set; } = new();
    public HashersOptions Hashers { get; set; } = new();
    public SecretsOptions Secrets { get; set; } = new();
    public CiphersOptions Ciphers { get; set; } = new();
    public SessionOptions Session { get; set; } = new();
    public CookiesOptions Cookies { get; set; } = new();
    public SelfServiceOptions Selfservice { get; set; } = new();
    public CourierOptions Courier { get; set; } = new();
    public UiOptions Ui { get; set; } = new();
    public FeatureFlagsOptions FeatureFlags { get; set; } = new();
    public SecurityOptions Security { get; set; } = new();
    public ClientsOptions Clients { get; set; } = new();

    /// <summary>Kratos's <c>oauth2_provider</c>: an external Ory Hydra answered by the login and registration flows.</summary>
    public OAuth2ProviderOptions Oauth2Provider { get; set; } = new();

    /// <summary>Hydra's <c>urls</c> (OAuth2 provider: issuer, login and consent apps).</summary>
    public HydraUrlsOptions Urls { get; set; } = new();

    /// <summary>Hydra's <c>ttl</c> (OAuth2 lifespans).</summary>
    public HydraTtlOptions Ttl { get; set; } = new();

    /// <summary>Hydra's <c>oauth2</c> (PKCE enforcement).</summary>
    public HydraOAuth2Options Oauth2 { get; set; } = new();

    /// <summary>Hydra's <c>strategies</c> (access-token format).</summary>
    public HydraStrategiesOptions Strategies { get; set; } = new();

    /// <summary>Hydra's <c>oidc</c> (OpenID Connect Dynamic Client Registration).</summary>
    public HydraOidcOptions Oidc { get; set; } = new();

    /// <summary>Hydra's <c>webfinger</c> (what <c>/.well-known/*</c> advertise).</summary>
    public HydraWebfingerOptions Webfinger { get; set; } = new();

    /// <summary>Gatehouse addition: the <c>gatehouse</c> key (rate limits, hashing queue, trusted proxies).</summary>
    public GatehouseSectionOptions Gatehouse { get; set; } = new();

    /// <summary>
    /// Kratos's <c>expose-metrics-port</c>: the port <c>courier watch</c> serves its metrics on (0: none). Kratos reads it
    /// from the <c>--expose-metrics-port</c> flag and the config file; its environment variable cannot name the key
    /// (the hyphens), and neither can Gatehouse's.
    /// </summary>
    [JsonPropertyName("expose-metrics-port")]
    public int ExposeMetricsPort { get; set; }

    /// <summary>
    /// Kratos's <c>watch-courier</c>: the courier worker runs in the <c>serve</c> process, as <c>--watch-courier</c> asks.
    /// Kratos reads it from the flag and the config file (its environment variable cannot name the key, for the hyphen).
    /// </summary>
    [JsonPropertyName("watch-courier")]
    public bool WatchCourier { get; set; }

    /// <summary>
    /// Kratos's <c>revision</c>: a label the operator sets (a commit, a date) that <c>/admin/health/config</c> answers
    /// with, to tell which configuration a running server loaded.
    /// </summary>
    public string? Revision { get; set; }

    /// <summary>
    /// Kratos's <c>version</c>: the Kratos version the file was written for (<c>v1.3.0</c>; Kratos's quickstart files carry
    /// one). Any string, as Kratos takes any (its pattern ends in <c>|$</c>); not used: Gatehouse serves Kratos v26.2's API
    /// whatever it says.
    /// </summary>
    public string? Version { get; set; }

    /// <summary>
    /// SHA-256 (hex) of the loaded configuration: the files merged with the environment, before defaults. What
    /// <c>/admin/health/config</c> answers when no <see cref="Revision"/> is set, as Kratos hashes its loaded config.
    /// </summary>
    [JsonIgnore]
    public string ConfigHash { get; set; } = "";

    /// <summary>
    /// True when started with <c>--dev</c>, or with Kratos's <c>dev</c> key (<c>dev: true</c>, <c>DEV=true</c>): relaxed
    /// cookies, no admin key on the admin listener.
    /// </summary>
    [JsonPropertyName("dev")]
    public bool Dev { get; set; }

    /// <summary>Kratos's <c>sqa-opt-out</c> (its flag, also a key in its schema): accepted; Gatehouse sends no usage reports.</summary>
    [JsonPropertyName("sqa-opt-out")]
    public bool SqaOptOut { get; set; }

    /// <summary>Kratos's schema lists its <c>--help</c> flag as <c>help</c>; as a key it does nothing, in Kratos as here.</summary>
    public bool Help { get; set; }
}

/// <summary><c>security</c> (Kratos's config schema).</summary>
public sealed class SecurityOptions
{
    public AccountEnumerationOptions AccountEnumeration { get; set; } = new();

    /// <summary>
    /// Kratos's <c>disallow_ref_in_identity_schemas</c> (no <c>$ref</c> to <c>file://</c> or <c>http(s)://</c> sources).
    /// Accepted for compatibility: Gatehouse never resolves a <c>$ref</c> outside the schema's own document and refuses
    /// such a schema at start-up, so either value behaves as <c>true</c>.
    /// </summary>
    public bool DisallowRefInIdentitySchemas { get; set; }
}

/// <summary><c>security.account_enumeration</c>.</summary>
public sealed class AccountEnumerationOptions
{
    /// <summary>
    /// <c>mitigate</c>: answers do not reveal whether an identifier belongs to an account (the identifier-first login's
    /// second screen shows the same methods for every identifier, and an unknown one gets no "account not found").
    /// </summary>
    public bool Mitigate { get; set; }
}

/// <summary><c>feature_flags</c>: the Kratos switches back to older behaviour that Gatehouse implements.</summary>
public sealed class FeatureFlagsOptions
{
    /// <summary>
    /// <c>require_verified_address</c> answers with the login flow and message 4000010 (400), for the password method
    /// only, instead of starting a verification flow (403 with <c>continue_with</c>, or a redirect for browsers).
    /// </summary>
    public bool LegacyRequireVerifiedLoginError { get; set; }

    /// <summary>
    /// Kratos's <c>legacy_continue_with_verification_ui</c>: after a registration or a profile change, every unverified
    /// address gets its own verification flow and each is named in the answer's <c>continue_with</c>
    /// (<c>show_verification_ui</c>) whatever the hooks. Off (Kratos's default): only the first address gets a flow, and
    /// only the <c>show_verification_ui</c> hook names it.
    /// </summary>
    public bool LegacyContinueWithVerificationUi { get; set; }

    /// <summary>
    /// Kratos's <c>refresh_login_choose_address</c>: a refresh (re-authentication) login with passwordless codes offers a
    /// "Send code to …" button per code address of the signed-in identity instead of asking for the identifier again.
    /// </summary>
    public bool RefreshLoginChooseAddress { get; set; }

    /// <summary>
    /// Kratos's <c>faster_session_extend</c>: <c>PATCH /admin/sessions/{id}/extend</c> answers 204 without the session
    /// instead of reading it back (200).
    /// </summary>
    public bool FasterSessionExtend { get; set; }

    /// <summary>
    /// Kratos's <c>cacheable_sessions</c>: whoami answers carry <c>Ory-Session-Cache-For</c> (seconds) for an edge cache
    /// (<see cref="Gatehouse.Sessions.SessionManager.CacheableSessions"/>).
    /// </summary>
    public bool CacheableSessions { get; set; }

    /// <summary>Kratos's <c>cacheable_sessions_max_age</c>: the most <c>Ory-Session-Cache-For</c> says; unset or 0: until the session expires.</summary>
    public TimeSpan CacheableSessionsMaxAge { get; set; }

    /// <summary>
    /// Kratos's <c>legacy_oidc_registration_node_group</c>: the trait inputs of a social sign-up that needs completing are
    /// in the <c>oidc</c> group instead of <c>default</c>.
    /// </summary>
    public bool LegacyOidcRegistrationNodeGroup { get; set; }

    /// <summary>
    /// Kratos's <c>password_profile_registration_node_group</c> (<c>password</c> or <c>default</c>), accepted and validated
    /// but without effect, as in Kratos v26.2: its <c>SelfServiceFlowRegistrationPasswordMethodProfileGroup</c>
    /// (driver/config/config.go) reads <c>selfservice.methods.password.config.password_profile_registration_node_group</c>,
    /// which its config schema forbids (that object has <c>additionalProperties: false</c>), so the legacy branch of the
    /// password strategy's <c>PopulateRegistrationMethod</c> never runs and the trait inputs stay in <c>default</c>.
    /// </summary>
    public string PasswordProfileRegistrationNodeGroup { get; set; } = "default";

    /// <summary>
    /// Kratos's <c>use_continue_with_transitions</c>, in the three places of the recovery flow that read it: a right
    /// recovery code answers API flows and JSON requests with the recovery flow and its <c>continue_with</c>
    /// (<c>set_ory_session_token</c> for API flows, <c>show_settings_ui</c>) instead of 422
    /// <c>browser_location_change_required</c>; a code whose guesses are spent answers JSON requests 400 with
    /// <c>details.continue_with</c> (<c>show_recovery_ui</c>); an expired API flow answers 410 with <c>use_flow_id</c> and
    /// <c>details.continue_with</c> instead of a 303.
    /// </summary>
    public bool UseContinueWithTransitions { get; set; }

    /// <summary>
    /// Kratos's <c>choose_recovery_address</c> ("recovery v2"): a recovery flow of the code method asks for any recovery
    /// address, then lets the user choose which of the account's recovery addresses (shown masked) gets the code — by
    /// e-mail or SMS. Decided when a flow is made: turning it off later leaves such flows as they are.
    /// </summary>
    public bool ChooseRecoveryAddress { get; set; }
}

/// <summary>
/// <c>oauth2_provider</c> (Kratos <c>driver/config/config.go</c>: <c>OAuth2ProviderURL</c>, <c>OAuth2ProviderHeader</c>,
/// <c>OAuth2ProviderOverrideReturnTo</c>).
/// </summary>
public sealed class OAuth2ProviderOptions
{
    /// <summary>
    /// The admin URL of an external Ory Hydra. Set, a flow's <c>login_challenge</c> is read and accepted over HTTP through
    /// its admin API (<see cref="SelfService.Flows.Login.HydraAdminLoginProvider"/>); unset, Gatehouse's own OAuth2 provider
    /// answers in-process.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>Headers set on every call to <see cref="Url"/> (Kratos wraps its client's transport with them).</summary>
    public Dictionary<string, string> Headers { get; set; } = [];

    /// <summary>A flow started with <c>login_challenge</c> takes the login request's <c>request_url</c> as its <c>return_to</c>.</summary>
    public bool OverrideReturnTo { get; set; }
}

/// <summary><c>clients</c>: outgoing network calls (Kratos's and Hydra's config schemas).</summary>
public sealed class ClientsOptions
{
    public ClientsHttpOptions Http { get; set; } = new();

    public ClientsSmtpOptions Smtp { get; set; } = new();

    public ClientsWebHookOptions WebHook { get; set; } = new();
}

/// <summary><c>clients.web_hook</c> (Kratos).</summary>
public sealed class ClientsWebHookOptions
{
    /// <summary>
    /// The headers of the user's request that web hook templates (<c>ctx.request_headers</c>) and the courier's HTTP
    /// channel (<c>ctx.request_headers</c> of code messages) see; a hook's own <c>header_allowlist</c> overrides it.
    /// </summary>
    public List<string> HeaderAllowlist { get; set; } = [.. Http.Outbound.WebHookConfig.DefaultHeaderAllowlist];
}

/// <summary><c>clients.http</c> (see <see cref="Http.Outbound.PrivateNetworkGuard"/>).</summary>
public sealed class ClientsHttpOptions
{
    /// <summary>Outgoing HTTP calls reach public addresses only.</summary>
    public bool DisallowPrivateIpRanges { get; set; }

    /// <summary>URL globs that may still reach the private ranges when <see cref="DisallowPrivateIpRanges"/> is on.</summary>
    public List<string> PrivateIpExceptionUrls { get; set; } = [];
}

/// <summary><c>clients.smtp</c>: Kratos's key since after v26.2 (courier/smtp.go <c>NewSMTPClient</c>).</summary>
public sealed class ClientsSmtpOptions
{
    /// <summary>The courier's SMTP connection reaches public addresses only (<see cref="Http.Outbound.PrivateNetworkGuard.Permitted"/>).</summary>
    public bool DisallowPrivateIpRanges { get; set; }
}

public sealed class ServeOptions
{
    public ListenerOptions Public { get; set; } = new() { Port = 4433 };
    public AdminListenerOptions Admin { get; set; } = new() { Port = 4434 };

    /// <summary>Hydra's <c>serve.cookies</c>: the OAuth2 login/consent CSRF and login-session cookies.</summary>
    public HydraCookiesOptions Cookies { get; set; } = new();

    /// <summary>Hydra's <c>serve.tls</c>: HTTPS for both listeners (see <see cref="Gatehouse.Http.ListenerTls.For"/>).</summary>
    public SharedTlsOptions Tls { get; set; } = new();

    /// <summary>
    /// Which listeners this process binds: both (<c>serve</c>, Hydra's <c>serve all</c>), or one (Hydra's <c>serve
    /// public</c> / <c>serve admin</c>). Not a config key: the command decides. Listeners that share a port or socket are
    /// one listener, bound either way.
    /// </summary>
    [JsonIgnore]
    public ServedListeners Served { get; set; } = ServedListeners.Both;
}

/// <summary>The listeners a <c>serve</c> process binds (<see cref="ServeOptions.Served"/>).</summary>
public enum ServedListeners
{
    Both,
    Public,
    Admin,
}

public class ListenerOptions
{
    /// <summary>Interface to bind. Kratos binds 0.0.0.0; Gatehouse's default is loopback, so a fresh start exposes nothing.</summary>
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; }
    public string? BaseUrl { get; set; }
    public CorsOptions Cors { get; set; } = new();

    /// <summary>HTTPS on this listener (see <see cref="Gatehouse.Http.ListenerTls"/>); unset: plain HTTP.</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>The socket file's permissions when <see cref="Host"/> is <c>unix:/path</c> (see <see cref="Gatehouse.Http.UnixSockets"/>).</summary>
    public SocketOptions Socket { get; set; } = new();

    /// <summary>Kratos's <c>request_log</c> (ory/x reqlog). Accepted only: Gatehouse writes no request log at all.</summary>
    public RequestLogOptions RequestLog { get; set; } = new();
}

/// <summary><c>serve.*.request_log</c> (Kratos cmd/daemon/serve.go: <c>reqlog</c> excludes the health paths).</summary>
public sealed class RequestLogOptions
{
    /// <summary>
    /// Keep <c>/health/alive</c> and <c>/health/ready</c> out of the request log. Gatehouse logs no request, health ones
    /// included, whatever the value.
    /// </summary>
    public bool DisableForHealth { get; set; }
}

/// <summary><c>serve.*.socket</c>: Kratos's keys (ory/x <c>configx.UnixPermission</c>).</summary>
public sealed class SocketOptions
{
    /// <summary>User name to own the socket; empty: the user running Gatehouse.</summary>
    public string Owner { get; set; } = "";

    /// <summary>Group name of the socket; empty: the running user's primary group.</summary>
    public string Group { get; set; } = "";

    /// <summary>Permission bits, e.g. 493 (0755, Kratos's default) or 432 (0660).</summary>
    public int Mode { get; set; } = 493;
}

/// <summary><c>serve.*.tls</c>: Kratos's keys (ory/x <c>tlsx</c>): a PEM certificate and key, each by path or inline as base64.</summary>
public sealed class TlsOptions
{
    public TlsSourceOptions Cert { get; set; } = new();
    public TlsSourceOptions Key { get; set; } = new();

    /// <summary>Whether any of the four keys is set.</summary>
    public bool Configured => Cert.Configured || Key.Configured;
}

/// <summary>
/// Hydra's <c>serve.tls</c> (ory/x <c>tls-config</c>, <c>driver/config/serve.go</c>): the TLS both listeners default to.
/// Unlike the listeners' own <c>tls</c> keys (Kratos's, on when a pair is set), it is off until <c>enabled: true</c>.
/// </summary>
public sealed class SharedTlsOptions
{
    public bool Enabled { get; set; }
    public TlsSourceOptions Cert { get; set; } = new();
    public TlsSourceOptions Key { get; set; } = new();

    /// <summary>
    /// CIDR ranges allowed to terminate TLS in front (ory/x <c>tlsx.EnforceTLSRequests</c>). Hydra v26.2 serves only TLS
    /// on a listener with TLS enabled, so its check never meets a plain request: validated, and without effect here too.
    /// </summary>
    public List<string> AllowTerminationFrom { get; set; } = [];
}

public sealed class TlsSourceOptions
{
    /// <summary>Path to the PEM file.</summary>
    public string? Path { get; set; }

    /// <summary>The PEM file's content, base64-encoded (standard alphabet, padded).</summary>
    public string? Base64 { get; set; }

    public bool Configured => !string.IsNullOrEmpty(Path) || !string.IsNullOrEmpty(Base64);
}

public sealed class AdminListenerOptions : ListenerOptions
{
    /// <summary>Gatehouse addition: require an admin API key on the admin listener (default true; <c>--dev</c> turns it off).</summary>
    public bool? RequireApiKey { get; set; }
}

/// <summary>
/// <c>serve.public.cors</c> / <c>serve.admin.cors</c>: Kratos's CORS keys, with its defaults. Read by
/// <see cref="Gatehouse.Http.Cors.CorsPolicy"/>.
/// </summary>
public sealed class CorsOptions
{
    public bool Enabled { get; set; }

    /// <summary><c>*</c> (any origin) or origins with at most one <c>*</c> wildcard each, e.g. <c>https://*.example.com</c>.</summary>
    public List<string> AllowedOrigins { get; set; } = ["*"];
    public List<string> AllowedMethods { get; set; } = ["POST", "GET", "PUT", "PATCH", "DELETE"];
    public List<string> AllowedHeaders { get; set; } = ["Authorization", "Content-Type", "Max-Age", "X-Session-Token", "X-XSRF-TOKEN", "X-CSRF-TOKEN"];
    public List<string> ExposedHeaders { get; set; } = ["Content-Type"];
    public bool AllowCredentials { get; set; } = true;

    /// <summary>Seconds a browser may cache a preflight answer; 0 sends no <c>Access-Control-Max-Age</c>.</summary>
    public int MaxAge { get; set; }

    /// <summary>Log why each cross-origin request was or was not allowed.</summary>
    public bool Debug { get; set; }

    /// <summary>
    /// rs/cors's <c>OptionsPassthrough</c>: a preflight gets its <c>Access-Control-*</c> headers and then goes on to the
    /// handlers (authentication, routing) instead of being answered 204 here.
    /// </summary>
    public bool OptionsPassthrough { get; set; }
}

public sealed class LogOptions
{
    public string Level { get; set; } = "info";
    public string Format { get; set; } = "text";
    public bool LeakSensitiveValues { get; set; }

    /// <summary>
    /// Kratos's (ory/x logrusx) text in place of a redacted log value. Gatehouse's log lines contain no sensitive values
    /// (no request log, no addresses, codes, tokens or query strings), so there is nothing it would replace.
    /// </summary>
    public string? RedactionText { get; set; }
}

public sealed class IdentityOptions
{
    public string DefaultSchemaId { get; set; } = "default";
    public List<IdentitySchemaEntry> Schemas { get; set; } = [];
}

public sealed class IdentitySchemaEntry
{
    public string Id { get; set; } = "";
    public string Url { get; set; } = "";

    /// <summary>
    /// Whether self-service registration may pick this schema with <c>?identity_schema=</c> (the default schema always
    /// can); others are for the admin API only, as in Kratos.
    /// </summary>
    public bool SelfserviceSelectable { get; set; }
}

public sealed class HashersOptions
{
    /// <summary><c>bcrypt</c> (default) or <c>argon2</c>.</summary>
    public string Algorithm { get; set; } = "bcrypt";
    public BcryptOptions Bcrypt { get; set; } = new();
    public Argon2Options Argon2 { get; set; } = new();
}

public sealed class BcryptOptions
{
    public int Cost { get; set; } = 12;
}

public sealed class Argon2Options
{
    /// <summary>Memory in bytes (the YAML takes a size such as <c>128MB</c>).</summary>
    [JsonConverter(typeof(ByteSizeJsonConverter))]
    public long Memory { get; set; } = 128L * 1024 * 1024;
    public int Iterations { get; set; } = 1;
    public int Parallelism { get; set; } = Math.Max(1, Environment.ProcessorCount * 2);
    public int SaltLength { get; set; } = 16;
    public int KeyLength { get; set; } = 32;

    /// <summary>
    /// Kratos's <c>dedicated_memory</c> (default 1GB): read only by <c>gatehouse hashers argon2 calibrate</c> and
    /// <c>load-test</c> (Kratos's <c>cmd/hashers/argon2</c>), the memory hashing may use; hashing itself uses <see cref="Memory"/>.
    /// </summary>
    [JsonConverter(typeof(ByteSizeJsonConverter))]
    public long DedicatedMemory { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Kratos's <c>expected_duration</c> (default 500ms): the calibration's target time per hash, read only by those commands.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan ExpectedDuration { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Kratos's <c>expected_deviation</c> (default 500ms): the calibration's allowed deviation, read only by those commands.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan ExpectedDeviation { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>Gatehouse addition: the built-in self-service pages under <c>/ui/</c> on the public listener.</summary>
public sealed class UiOptions
{
    /// <summary>Serve the pages (default true); when false, <c>/ui/*</c> is 404 and unset <c>ui_url</c>s fall back to Kratos's fallback URLs.</summary>
    public bool Enabled { get; set; } = true;
}

public sealed class SecretsOptions
{
    /// <summary>
    /// Hydra's <c>secrets.system</c>: the first encrypts OAuth2 data at rest (JSON Web Keys, session data), the rest are
    /// tried on reading (<see cref="OAuth2.Keys.SystemSecretCipher"/>). Without <c>secrets.default</c> and
    /// <c>secrets.cookie</c> it stands in for both, as Hydra's cookie secrets default to it.
    /// </summary>
    public List<string> System { get; set; } = [];
    public List<string> Default { get; set; } = [];
    public List<string> Cookie { get; set; } = [];
    public List<string> Cipher { get; set; } = [];
    public List<string> Pagination { get; set; } = [];
}

/// <summary>Kratos's <c>ciphers</c>: how the social sign-in's upstream tokens (and its <c>state</c>) are encrypted.</summary>
public sealed class CiphersOptions
{
    /// <summary>
    /// <c>noop</c>, <c>aes</c> or <c>xchacha20-poly1305</c> (<see cref="SelfService.Strategies.Oidc.OidcCipher"/>).
    /// Unset means <c>aes</c> (Kratos's default is <c>noop</c>: Gatehouse keeps encrypting unless told otherwise).
    /// </summary>
    public string? Algorithm { get; set; }
}

/// <summary>Kratos's <c>database.*</c> keys (cleanup tuning) plus Gatehouse's background janitor.</summary>
public sealed class DatabaseOptions
{
    public DatabaseCleanupOptions Cleanup { get; set; } = new();
}

public sealed class DatabaseCleanupOptions
{
    /// <summary>Rows deleted per statement (Kratos <c>database.cleanup.batch_size</c>).</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// Kratos's <c>database.cleanup.older_than</c> (default <c>0s</c>): in its schema, but no Kratos v26.2 code reads it
    /// (<c>cleanup sql</c> takes <c>--keep-last</c>). Accepted, no effect; <see cref="DatabaseCleanupJanitorOptions.KeepLast"/>
    /// and <c>--keep-last</c> say which expired rows are kept.
    /// </summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan OlderThan { get; set; } = TimeSpan.Zero;

    public DatabaseCleanupSleepOptions Sleep { get; set; } = new();

    /// <summary>Gatehouse addition: run the cleanup periodically inside <c>serve</c>.</summary>
    public DatabaseCleanupJanitorOptions Janitor { get; set; } = new();
}

public sealed class DatabaseCleanupSleepOptions
{
    /// <summary>Pause between two tables (Kratos <c>database.cleanup.sleep.tables</c>).</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan Tables { get; set; } = TimeSpan.FromMinutes(1);
}

public sealed class DatabaseCleanupJanitorOptions
{
    /// <summary>Off by default: Kratos never deletes data on its own, so an upgrade must not start doing so silently.</summary>
    public bool Enabled { get; set; }

    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Like <c>cleanup sql --keep-last</c>: rows expired for less than this are kept.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan KeepLast { get; set; } = TimeSpan.Zero;
}

public sealed class SessionOptions
{
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan Lifespan { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Defaults to <see cref="Lifespan"/> when not set.</summary>
    [JsonConverter(typeof(NullableDurationJsonConverter))]
    public TimeSpan? EarliestPossibleExtend { get; set; }
    public SessionCookieOptions Cookie { get; set; } = new();
    public SessionDevicesOptions Devices { get; set; } = new();
    public SessionWhoamiOptions Whoami { get; set; } = new();
}

/// <summary><c>session.whoami</c>: the tokenizer (Kratos's <c>tokenize_as</c>) and Gatehouse's own <c>cache</c>.</summary>
public sealed class SessionWhoamiOptions
{
    /// <summary>
    /// <c>highest_available</c> (Kratos's default): whoami refuses (403 <c>session_aal2_required</c>) an aal1 session of an
    /// identity that has a second factor; <c>aal1</c>: any authenticated session will do.
    /// </summary>
    public string RequiredAal { get; set; } = "highest_available";

    public WhoamiCacheOptions Cache { get; set; } = new();
    public SessionTokenizerOptions Tokenizer { get; set; } = new();
}

/// <summary><c>session.whoami.tokenizer</c>: how <c>GET /sessions/whoami?tokenize_as=NAME</c> turns the session into a JWT.</summary>
public sealed class SessionTokenizerOptions
{
    /// <summary>Templates by name, the value of <c>tokenize_as</c>.</summary>
    public Dictionary<string, TokenizerTemplateOptions> Templates { get; set; } = [];
}

/// <summary><c>session.whoami.tokenizer.templates.NAME</c>.</summary>
public sealed class TokenizerTemplateOptions
{
    /// <summary>The token's lifetime: <c>exp</c> is the time of issue plus this.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan Ttl { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary><c>file://</c> or <c>base64://</c> JSON Web Key Set (or single key); its first key signs, with the key's <c>alg</c>.</summary>
    public string JwksUrl { get; set; } = "";

    /// <summary>Optional Jsonnet (<c>file://</c>, <c>base64://</c>, <c>http(s)://</c>) that reads <c>std.extVar('session')</c> and <c>std.extVar('claims')</c> and returns <c>{claims: {...}}</c>.</summary>
    public string? ClaimsMapperUrl { get; set; }

    /// <summary><c>id</c> (the identity id, default) or <c>external_id</c>: what becomes the <c>sub</c> claim.</summary>
    public string SubjectSource { get; set; } = "id";
}

/// <summary>Gatehouse addition: the in-memory whoami cache (see <c>Sessions.WhoamiCache</c>).</summary>
public sealed class WhoamiCacheOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>How many whoami answers are kept at most (about 1-2 KB each).</summary>
    public long MaxEntries { get; set; } = 100_000;

    /// <summary>
    /// The most memory the answers may take, approximately: each counts its body's bytes plus a fixed overhead
    /// (<c>Sessions.WhoamiCache.EntryOverheadBytes</c>), so a few identities with huge traits cannot exhaust memory.
    /// </summary>
    public long MaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>The longest an answer is kept, however long its session lasts.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>Gatehouse addition: how session devices are described.</summary>
public sealed class SessionDevicesOptions
{
    /// <summary>Headers whose values, joined by ", ", make the device's location (Kratos reads Cloudflare's city and country).</summary>
    public List<string> LocationHeaders { get; set; } = ["Cf-Ipcity", "Cf-Ipcountry"];
}

public sealed class SessionCookieOptions
{
    public string Name { get; set; } = "ory_kratos_session";
    public bool Persistent { get; set; } = true;
    public string? Domain { get; set; }
    public string? Path { get; set; }
    public string? SameSite { get; set; }
    public bool? Secure { get; set; }
}

public sealed class CookiesOptions
{
    public string? Domain { get; set; }
    public string Path { get; set; } = "/";
    public string SameSite { get; set; } = "Lax";
    public bool? Secure { get; set; }
}

public sealed class SelfServiceOptions
{
    public string? DefaultBrowserReturnUrl { get; set; }
    public List<string> AllowedReturnUrls { get; set; } = [];
    public SelfServiceFlowsOptions Flows { get; set; } = new();
    public SelfServiceMethodsOptions Methods { get; set; } = new();
}

public sealed class CourierOptions
{
    /// <summary>
    /// How e-mail is delivered: <c>smtp</c> (<see cref="Smtp"/>) or <c>http</c>, as the request <see cref="Http"/> describes
    /// (Kratos's <c>CourierChannels</c> turns this key into the <c>email</c> channel).
    /// </summary>
    public string DeliveryStrategy { get; set; } = "smtp";
    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>Kratos's <c>courier.http</c>: the request that delivers an e-mail when <see cref="DeliveryStrategy"/> is <c>http</c>.</summary>
    public CourierHttpOptions Http { get; set; } = new();

    /// <summary>
    /// Template overrides by Kratos's template group (<c>recovery</c>, <c>recovery_code</c>, <c>verification</c>,
    /// <c>verification_code</c>, <c>login_code</c>, <c>registration_code</c>); each part is a <c>file://</c>,
    /// <c>base64://</c> or <c>http(s)://</c> URL.
    /// </summary>
    public Dictionary<string, CourierTemplateSetOptions> Templates { get; set; } = [];

    /// <summary>A directory laid out like Kratos's built-in templates (<c>verification_code/valid/email.subject.gotmpl</c>, ...).</summary>
    public string? TemplateOverridePath { get; set; }

    /// <summary>How many times a failed message is retried before it is abandoned (so at most 1 + retries attempts).</summary>
    public int MessageRetries { get; set; } = 5;
    public CourierWorkerOptions Worker { get; set; } = new();

    /// <summary>
    /// Kratos's <c>courier.channels</c>: other ways to deliver than e-mail. Only <c>{id: sms, type: http}</c> exists (as in
    /// Kratos): SMS messages are sent as an HTTP request built by <c>request_config</c> (<c>url</c>, <c>method</c>,
    /// <c>headers</c>, <c>body</c> — a Jsonnet template called with <c>ctx</c> — and <c>auth</c>).
    /// </summary>
    public List<CourierChannelOptions> Channels { get; set; } = [];
}

public sealed class CourierHttpOptions
{
    /// <summary>
    /// The request to send (Kratos's <c>httpRequestConfig</c>: <c>url</c>, <c>method</c>, <c>headers</c>, <c>body</c>, <c>auth</c>),
    /// read as a <c>courier.channels</c> entry's; without <c>body</c>, Kratos's default template.
    /// </summary>
    public JsonObject? RequestConfig { get; set; }
}

public sealed class CourierChannelOptions
{
    /// <summary>The channel, as the identity schema's <c>via</c> names it: <c>sms</c>.</summary>
    public string Id { get; set; } = "";

    /// <summary><c>http</c> (the only type, and the default).</summary>
    public string Type { get; set; } = "http";

    /// <summary>The request to send (Kratos's <c>httpRequestConfig</c>), read as the <c>web_hook</c> config is.</summary>
    public JsonObject? RequestConfig { get; set; }
}

public sealed class CourierTemplateSetOptions
{
    public CourierTemplateOptions? Valid { get; set; }
    public CourierTemplateOptions? Invalid { get; set; }

    /// <summary>A template without variants (<c>verifiable_address_changed</c>): its e-mail, directly under the group.</summary>
    public EmailTemplateOptions? Email { get; set; }

    /// <summary>A template without variants: its SMS text, directly under the group.</summary>
    public SmsTemplateOptions? Sms { get; set; }
}

public sealed class CourierTemplateOptions
{
    public EmailTemplateOptions? Email { get; set; }
    public SmsTemplateOptions? Sms { get; set; }
}

public sealed class SmsTemplateOptions
{
    public SmsBodyTemplateOptions? Body { get; set; }
}

public sealed class SmsBodyTemplateOptions
{
    /// <summary>A <c>file://</c>, <c>base64://</c> or <c>http(s)://</c> URL of the SMS text template.</summary>
    public string? Plaintext { get; set; }
}

public sealed class EmailTemplateOptions
{
    public string? Subject { get; set; }
    public EmailBodyTemplateOptions? Body { get; set; }
}

public sealed class EmailBodyTemplateOptions
{
    public string? Html { get; set; }
    public string? Plaintext { get; set; }
}

public sealed class CourierWorkerOptions
{
    /// <summary>How many messages one poll claims.</summary>
    public int PullCount { get; set; } = 10;

    /// <summary>How long the worker waits between polls when the queue was empty.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan PullWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gatehouse addition: the back-off after the first failed attempt; it doubles with every further failure.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gatehouse addition: the longest back-off between two attempts.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan RetryBackoffMax { get; set; } = TimeSpan.FromMinutes(10);
}

public sealed class SmtpOptions
{
    /// <summary><c>smtp://</c> (STARTTLS unless <c>?disable_starttls=true</c>) or <c>smtps://</c> (implicit TLS).</summary>
    public string? ConnectionUri { get; set; }
    public string FromAddress { get; set; } = "no-reply@ory.kratos.sh";
    public string? FromName { get; set; }

    /// <summary>Extra headers added to every e-mail.</summary>
    public Dictionary<string, string> Headers { get; set; } = [];

    /// <summary>The name sent in HELO/EHLO.</summary>
    public string LocalName { get; set; } = "localhost";

    /// <summary>PEM file of the TLS client certificate presented to the SMTP server (with <see cref="ClientKeyPath"/>).</summary>
    public string ClientCertPath { get; set; } = "";

    /// <summary>PEM file of the client certificate's private key (PKCS#1, PKCS#8 or SEC 1).</summary>
    public string ClientKeyPath { get; set; } = "";
}
