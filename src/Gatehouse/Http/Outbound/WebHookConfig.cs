using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.Http.Outbound;

/// <summary>How a <c>web_hook</c> authenticates to its receiver.</summary>
public abstract record WebHookAuth
{
    /// <summary><c>api_key</c>: a secret sent in a header or a cookie.</summary>
    public sealed record ApiKey(string Name, string Value, bool InCookie) : WebHookAuth;

    /// <summary><c>basic_auth</c>: an <c>Authorization: Basic</c> header.</summary>
    public sealed record Basic(string User, string Password) : WebHookAuth;
}

/// <summary>
/// A <c>web_hook</c> entry's <c>config</c>, read once and checked at start-up (Kratos's
/// <c>selfservice/hook/web_hook.go</c> request config, plus Gatehouse's <c>timeout</c>, <c>retries</c> and
/// <c>header_allowlist</c>).
/// </summary>
public sealed record WebHookConfig
{
    /// <summary>
    /// The request headers a body template sees when neither the hook's <c>header_allowlist</c> nor
    /// <c>clients.web_hook.header_allowlist</c> is set: Kratos's default list (its config schema; no cookies).
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultHeaderAllowlist =
    [
        "Accept", "Accept-Encoding", "Accept-Language", "Content-Length", "Content-Type", "Origin", "Priority", "Referer",
        "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User",
        "True-Client-Ip", "User-Agent",
    ];

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public const int DefaultRetries = 3;

    public required Uri Url { get; init; }
    public HttpMethod Method { get; init; } = HttpMethod.Post;
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary><c>file://</c>, <c>base64://</c> or <c>http(s)://</c> location of the Jsonnet body template.</summary>
    public string? Body { get; init; }

    /// <summary>
    /// Whether a call carries the rendered body: every method but <c>TRACE</c>, <c>GET</c>, <c>HEAD</c> and <c>DELETE</c>
    /// included (Kratos's <c>request.Builder.BuildRequest</c>: "any request method, but TRACE is allowed to have a body").
    /// Nothing goes into the query string.
    /// </summary>
    public bool SendsBody => Method != HttpMethod.Trace;

    public WebHookAuth? Auth { get; init; }

    /// <summary><c>response.ignore</c>: sent off the request path, failures only logged.</summary>
    public bool Ignore { get; init; }

    /// <summary><c>response.parse</c>: a 2xx answer may change the identity, an error answer may interrupt the flow.</summary>
    public bool Parse { get; init; }

    /// <summary><c>can_interrupt</c>: an error answer with messages interrupts the flow.</summary>
    public bool CanInterrupt { get; init; }

    /// <summary>How long one call may take (connect, send, answer) before the flow fails with 504.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Attempts after the first for ignored (asynchronous) calls.</summary>
    public int Retries { get; init; } = DefaultRetries;

    /// <summary>The hook's own <c>header_allowlist</c> (Gatehouse addition), or Kratos's default list when it has none.</summary>
    public IReadOnlyList<string> HeaderAllowlist { get; init; } = DefaultHeaderAllowlist;

    /// <summary>Whether the hook names its own <c>header_allowlist</c>; otherwise <c>clients.web_hook.header_allowlist</c> applies.</summary>
    public bool HasOwnHeaderAllowlist { get; init; }

    /// <summary>The allowlist this hook uses: its own, else the global <c>clients.web_hook.header_allowlist</c>.</summary>
    public IReadOnlyList<string> HeaderAllowlistWithin(GatehouseOptions options) =>
        HasOwnHeaderAllowlist ? HeaderAllowlist : options.Clients.WebHook.HeaderAllowlist;

    /// <summary>Whether the hook's answer is waited for and read: <c>parse</c> or <c>can_interrupt</c>.</summary>
    public bool ReadsResponse => Parse || CanInterrupt;

    /// <summary>Reads a hook's <c>config</c>; <paramref name="where"/> names the entry in error messages.</summary>
    /// <param name="key">The name of the object under <paramref name="where"/> (<c>config</c>; the courier's channels: <c>request_config</c>).</param>
    public static WebHookConfig Read(JsonObject? config, string where, string key = "config")
    {
        if (config is null) throw new ConfigException($"{where}.config: a web_hook needs a config with at least \"url\".");
        string? Str(string key, JsonObject from, string path)
        {
            var node = from[key];
            if (node is null) return null;
            if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
            throw new ConfigException($"{path}.{key}: expected a string, got {node.ToJsonString()}.");
        }
        bool Flag(string key, JsonObject from, string path)
        {
            var node = from[key];
            if (node is null) return false;
            if (node is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
            throw new ConfigException($"{path}.{key}: expected true or false, got {node.ToJsonString()}.");
        }

        var at = where + "." + key;
        var urlText = Str("url", config, at) ?? throw new ConfigException($"{at}.url: a web_hook needs the URL to call.");
        if (!Uri.TryCreate(urlText, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new ConfigException($"{at}.url: expected an absolute http:// or https:// URL, got \"{urlText}\".");

        var method = (Str("method", config, at) ?? "POST").ToUpperInvariant();
        // Kratos takes any method name and lets the receiver judge it; Gatehouse checks the ones a hook can sensibly use
        // (CONNECT opens a tunnel, it is no request to a hook).
        if (method is not ("GET" or "HEAD" or "POST" or "PUT" or "PATCH" or "DELETE" or "OPTIONS" or "TRACE"))
            throw new ConfigException($"{at}.method: expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, got \"{method}\".");

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (config["headers"] is JsonObject h)
        {
            foreach (var (name, value) in h)
            {
                headers[name] = value is JsonValue hv && hv.TryGetValue<string>(out var s) ? s
                    : throw new ConfigException($"{at}.headers.{name}: expected a string.");
            }
        }
        else if (config["headers"] is not null) throw new ConfigException($"{at}.headers: expected an object of header names and values.");

        var body = Str("body", config, at);
        if (body is not null && !(body.StartsWith("file://", StringComparison.Ordinal) || body.StartsWith("base64://", StringComparison.Ordinal)
            || body.StartsWith("http://", StringComparison.Ordinal) || body.StartsWith("https://", StringComparison.Ordinal)))
            throw new ConfigException($"{at}.body: expected a file://, base64://, http:// or https:// location of a Jsonnet template.");

        WebHookAuth? auth = null;
        if (config["auth"] is JsonObject a)
        {
            var type = Str("type", a, at + ".auth");
            var ac = a["config"] as JsonObject ?? throw new ConfigException($"{at}.auth.config: expected an object.");
            auth = type switch
            {
                "api_key" => new WebHookAuth.ApiKey(
                    Str("name", ac, at + ".auth.config") ?? throw new ConfigException($"{at}.auth.config.name: the header or cookie name is required."),
                    Str("value", ac, at + ".auth.config") ?? throw new ConfigException($"{at}.auth.config.value: the key is required."),
                    (Str("in", ac, at + ".auth.config") ?? "header") switch
                    {
                        "header" => false,
                        "cookie" => true,
                        var other => throw new ConfigException($"{at}.auth.config.in: expected \"header\" or \"cookie\", got \"{other}\"."),
                    }),
                "basic_auth" => new WebHookAuth.Basic(
                    Str("user", ac, at + ".auth.config") ?? throw new ConfigException($"{at}.auth.config.user: required."),
                    Str("password", ac, at + ".auth.config") ?? throw new ConfigException($"{at}.auth.config.password: required.")),
                _ => throw new ConfigException($"{at}.auth.type: expected \"api_key\" or \"basic_auth\", got \"{type}\"."),
            };
        }
        else if (config["auth"] is not null) throw new ConfigException($"{at}.auth: expected an object {{type, config}}.");

        var response = config["response"] as JsonObject ?? [];
        var ignore = Flag("ignore", response, at + ".response");
        var parse = Flag("parse", response, at + ".response");
        var canInterrupt = Flag("can_interrupt", config, at);
        if (ignore && (parse || canInterrupt))
            throw new ConfigException($"{at}.response: ignore cannot be combined with parse or can_interrupt (an ignored answer is never read).");

        var timeout = DefaultTimeout;
        if (Str("timeout", config, at) is { } t && (!GoDuration.TryParse(t, out timeout) || timeout <= TimeSpan.Zero))
            throw new ConfigException($"{at}.timeout: expected a positive duration such as \"10s\" or \"500ms\", got \"{t}\".");

        var retries = DefaultRetries;
        if (config["retries"] is { } r && (r is not JsonValue rv || !rv.TryGetValue<int>(out retries) || retries is < 0 or > 10))
            throw new ConfigException($"{at}.retries: expected an integer from 0 to 10.");

        IReadOnlyList<string>? allowlist = null;
        if (config["header_allowlist"] is JsonArray list)
            allowlist = [.. list.Select(n => n is JsonValue lv && lv.TryGetValue<string>(out var s) ? s : throw new ConfigException($"{at}.header_allowlist: expected header names."))];

        return new WebHookConfig
        {
            Url = url,
            Method = new HttpMethod(method),
            Headers = headers,
            Body = body,
            Auth = auth,
            Ignore = ignore,
            Parse = parse,
            CanInterrupt = canInterrupt,
            Timeout = timeout,
            Retries = retries,
            HeaderAllowlist = allowlist ?? DefaultHeaderAllowlist,
            HasOwnHeaderAllowlist = allowlist is not null,
        };
    }
}
