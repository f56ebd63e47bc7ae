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
    public ServeOptions Serve { get; set; } = new();
    public LogOptions Log { get; set; } = new();
    public IdentityOptions Identity { get; set; } = new();
    public HashersOptions Hashers { get; set; } = new();
    public SecretsOptions Secrets { get; set; } = new();
    public SessionOptions Session { get; set; } = new();
    public CookiesOptions Cookies { get; set; } = new();
    public SelfServiceOptions Selfservice { get; set; } = new();
    public CourierOptions Courier { get; set; } = new();

    /// <summary>True when started with <c>--dev</c>: relaxed cookies, no admin key on the admin listener.</summary>
    [JsonIgnore]
    public bool Dev { get; set; }
}

public sealed class ServeOptions
{
    public ListenerOptions Public { get; set; } = new() { Port = 4433 };
    public AdminListenerOptions Admin { get; set; } = new() { Port = 4434 };
}

public class ListenerOptions
{
    /// <summary>Interface to bind. Kratos binds 0.0.0.0; Gatehouse's default is loopback, so a fresh start exposes nothing.</summary>
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; }
    public string? BaseUrl { get; set; }
    public CorsOptions Cors { get; set; } = new();
}

public sealed class AdminListenerOptions : ListenerOptions
{
    /// <summary>Gatehouse addition: require an admin API key on the admin listener (default true; <c>--dev</c> turns it off).</summary>
    public bool? RequireApiKey { get; set; }
}

public sealed class CorsOptions
{
    public bool Enabled { get; set; }
    public List<string> AllowedOrigins { get; set; } = ["*"];
    public List<string> AllowedMethods { get; set; } = ["POST", "GET", "PUT", "PATCH", "DELETE"];
    public List<string> AllowedHeaders { get; set; } = ["Authorization", "Content-Type", "Max-Age", "X-Session-Token", "X-XSRF-TOKEN", "X-CSRF-TOKEN"];
    public List<string> ExposedHeaders { get; set; } = ["Content-Type"];
    public bool AllowCredentials { get; set; } = true;
}

public sealed class LogOptions
{
    public string Level { get; set; } = "info";
    public string Format { get; set; } = "text";
    public bool LeakSensitiveValues { get; set; }
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
}

public sealed class SecretsOptions
{
    public List<string> Default { get; set; } = [];
    public List<string> Cookie { get; set; } = [];
    public List<string> Cipher { get; set; } = [];
    public List<string> Pagination { get; set; } = [];
}

public sealed class SessionOptions
{
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan Lifespan { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Defaults to <see cref="Lifespan"/> when not set.</summary>
    [JsonConverter(typeof(NullableDurationJsonConverter))]
    public TimeSpan? EarliestPossibleExtend { get; set; }
    public SessionCookieOptions Cookie { get; set; } = new();
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
    /// <summary>Only <c>smtp</c> so far; Kratos also has <c>http</c>, which needs <c>courier.http</c>.</summary>
    public string DeliveryStrategy { get; set; } = "smtp";
    public SmtpOptions Smtp { get; set; } = new();
}

public sealed class SmtpOptions
{
    /// <summary><c>smtp://</c> (STARTTLS unless <c>?disable_starttls=true</c>) or <c>smtps://</c> (implicit TLS).</summary>
    public string? ConnectionUri { get; set; }
    public string FromAddress { get; set; } = "no-reply@ory.kratos.sh";
    public string? FromName { get; set; }

    /// <summary>Extra headers added to every e-mail.</summary>
    public Dictionary<string, string> Headers { get; set; } = [];
}
