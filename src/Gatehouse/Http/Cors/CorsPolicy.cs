using Gatehouse.Config;

namespace Gatehouse.Http.Cors;

/// <summary>
/// One listener's CORS rules, built once from <see cref="CorsOptions"/> with the semantics of rs/cors (which Kratos
/// uses): origins compare case-insensitively, an origin may hold one <c>*</c> that stands for zero or more characters
/// (<c>https://*.example.com</c>), <c>*</c> alone allows every origin, <c>Origin</c> is always an allowed request header,
/// <c>*</c> in <c>allowed_headers</c> allows any, and <c>OPTIONS</c> is always an allowed method.
/// </summary>
public sealed class CorsPolicy
{
    private readonly HashSet<string> _origins = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(string Prefix, string Suffix)> _wildcards = [];
    private readonly HashSet<string> _methods = new(StringComparer.Ordinal);
    private readonly HashSet<string> _headers = new(StringComparer.OrdinalIgnoreCase) { "Origin" };

    public CorsPolicy(CorsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var origin in options.AllowedOrigins)
        {
            if (origin == "*") AllowsAnyOrigin = true;
            else if (origin.IndexOf('*', StringComparison.Ordinal) is var star and >= 0) _wildcards.Add((origin[..star], origin[(star + 1)..]));
            else _origins.Add(origin);
        }
        foreach (var method in options.AllowedMethods) _methods.Add(method.ToUpperInvariant());
        foreach (var header in options.AllowedHeaders)
        {
            if (header.Trim() == "*") AllowsAnyHeader = true;
            else _headers.Add(header.Trim());
        }
        ExposedHeaders = string.Join(", ", options.ExposedHeaders.Select(h => h.Trim()).Where(h => h.Length > 0));
        AllowCredentials = options.AllowCredentials;
        MaxAge = options.MaxAge;
        Debug = options.Debug;
        OptionsPassthrough = options.OptionsPassthrough;
    }

    /// <summary><c>options_passthrough</c>: preflights go on to the routes after their headers are set.</summary>
    public bool OptionsPassthrough { get; }

    /// <summary><c>*</c> is in <c>allowed_origins</c>.</summary>
    public bool AllowsAnyOrigin { get; }

    public bool AllowsAnyHeader { get; }

    public bool AllowCredentials { get; }

    /// <summary>The <c>Access-Control-Expose-Headers</c> value (empty: no header).</summary>
    public string ExposedHeaders { get; }

    public int MaxAge { get; }

    public bool Debug { get; }

    /// <summary>
    /// With <c>*</c> the answer is the literal <c>*</c> and no <c>Access-Control-Allow-Credentials</c>: browsers
    /// refuse <c>*</c> for credentialed requests anyway (so rs/cors's <c>*</c> plus <c>true</c> never lets cookies
    /// through in Kratos either), and reflecting any origin with credentials would let every web site read a signed-in
    /// user's session and flows. Cookie-carrying apps are served when their origin is listed (or matches a wildcard):
    /// then the origin is reflected, with <c>Access-Control-Allow-Credentials: true</c> when <c>allow_credentials</c>.
    /// </summary>
    public bool AnswersWildcard(string origin) => AllowsAnyOrigin && !IsListed(origin);

    public bool IsOriginAllowed(string origin) => AllowsAnyOrigin || IsListed(origin);

    private bool IsListed(string origin)
    {
        if (_origins.Contains(origin)) return true;
        foreach (var (prefix, suffix) in _wildcards)
        {
            if (origin.Length >= prefix.Length + suffix.Length
                && origin.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                && origin.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    public bool IsMethodAllowed(string method) =>
        HttpMethods.IsOptions(method) || _methods.Contains(method.ToUpperInvariant());

    /// <summary>Every header of a preflight's <c>Access-Control-Request-Headers</c> is allowed.</summary>
    public bool AreHeadersAllowed(IReadOnlyList<string> headers) =>
        AllowsAnyHeader || headers.All(_headers.Contains);
}
