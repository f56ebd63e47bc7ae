using Gatehouse.Config;
using Gatehouse.Http.Errors;

namespace Gatehouse.Http;

/// <summary>
/// Decides where browsers may be sent back to: only to <c>selfservice.allowed_return_urls</c> (an entry allows its
/// scheme, host, port and everything under its path; <c>https://*.example.com</c> allows subdomains) or to Gatehouse's
/// own public base URL. Anything else is a 400 <c>self_service_flow_return_to_forbidden</c>: no open redirects.
/// </summary>
public sealed class ReturnUrlPolicy(GatehouseOptions options)
{
    private readonly Uri _publicBase = new(PublicBaseUrl(options));

    public static string PublicBaseUrl(GatehouseOptions options) =>
        options.Serve.Public.BaseUrl ?? $"http://127.0.0.1:{options.Serve.Public.Port}/";

    /// <summary>
    /// The URL to return to: <paramref name="requested"/> when given (validated), else <paramref name="fallback"/>,
    /// else <c>selfservice.default_browser_return_url</c>, else the built-in welcome page (<c>/ui/welcome</c>), or the
    /// public base URL when the built-in pages are off.
    /// </summary>
    public string Resolve(string? requested, string? fallback = null)
    {
        if (!string.IsNullOrEmpty(requested))
        {
            if (!IsAllowed(requested, out var absolute)) throw Forbidden(requested);
            return absolute;
        }
        return fallback ?? DefaultReturnUrl;
    }

    /// <summary><c>selfservice.default_browser_return_url</c>, else the welcome page when the UI is on, else the public base URL.</summary>
    public string DefaultReturnUrl =>
        options.Selfservice.DefaultBrowserReturnUrl ?? (options.Ui.Enabled ? new Uri(_publicBase, "ui/welcome").ToString() : _publicBase.ToString());

    /// <summary>Validates an optional <c>return_to</c> without choosing a fallback; null when absent.</summary>
    public string? Validate(string? requested) =>
        string.IsNullOrEmpty(requested) ? null : IsAllowed(requested, out var absolute) ? absolute : throw Forbidden(requested);

    /// <summary>
    /// Whether <paramref name="url"/> may be returned to; <paramref name="absolute"/> is the URL as checked (parsed,
    /// absolute, escaped), which is what callers store and redirect to, never the raw input: what is checked is what is used.
    /// </summary>
    public bool IsAllowed(string url, out string absolute)
    {
        absolute = url;
        if (!Uri.TryCreate(url, UriKind.RelativeOrAbsolute, out var uri)) return false;
        if (!uri.IsAbsoluteUri)
        {
            // A relative return_to (e.g. "/welcome") is relative to the public base URL, as for Kratos's own pages.
            if (url.TrimStart().StartsWith("//", StringComparison.Ordinal) || url.Contains('\\', StringComparison.Ordinal)) return false;
            // A scheme without "//" ("https:app.example.com", "https:/x", "https:") is no relative path: it names a URL
            // with no host .NET can resolve, and Kratos, which fills in the default return URL's host, allows none of
            // these outside its own pages; refused like any other URL off the allow list, never a parse failure (500).
            if (HasScheme(url.TrimStart()) || !Uri.TryCreate(_publicBase, uri, out var resolved)) return false;
            uri = resolved;
        }
        if (uri.Scheme is not ("http" or "https")) return false;
        absolute = uri.AbsoluteUri;
        if (SameOrigin(uri, _publicBase)) return true;
        foreach (var allowed in options.Selfservice.AllowedReturnUrls)
        {
            if (Matches(uri, allowed)) return true;
        }
        var fallback = options.Selfservice.DefaultBrowserReturnUrl;
        return fallback is not null && Uri.TryCreate(fallback, UriKind.Absolute, out var f) && SameOrigin(uri, f) && UnderPath(uri.AbsolutePath, f.AbsolutePath);
    }

    /// <summary>
    /// An entry of <c>allowed_return_urls</c> as Kratos matches it: same scheme, same host — or, for <c>*.example.com</c>,
    /// a subdomain of it (a wildcard over a bare top-level domain such as <c>*.com</c> allows nothing, as Kratos ignores
    /// unsafe wildcards) — same port, and a path at or under the entry's path, by whole segments.
    /// </summary>
    private static bool Matches(Uri candidate, string allowed)
    {
        var wildcard = allowed.Contains("://*.", StringComparison.Ordinal);
        var pattern = wildcard ? allowed.Replace("://*.", "://", StringComparison.Ordinal) : allowed;
        if (!Uri.TryCreate(pattern, UriKind.Absolute, out var a)) return false;
        if (wildcard && !a.Host.Contains('.', StringComparison.Ordinal)) return false;
        if (!string.Equals(candidate.Scheme, a.Scheme, StringComparison.OrdinalIgnoreCase) || candidate.Port != a.Port) return false;
        var hostOk = wildcard
            ? candidate.Host.EndsWith("." + a.Host, StringComparison.OrdinalIgnoreCase)
            : string.Equals(candidate.Host, a.Host, StringComparison.OrdinalIgnoreCase);
        return hostOk && UnderPath(candidate.AbsolutePath, a.AbsolutePath);
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="prefix"/> or below it: <c>/app</c> covers <c>/app/x</c>, not <c>/application</c>.</summary>
    private static bool UnderPath(string path, string prefix)
    {
        if (prefix.Length == 0 || prefix == "/" || path == prefix) return true;
        return path.StartsWith(prefix.EndsWith('/') ? prefix : prefix + "/", StringComparison.Ordinal);
    }

    /// <summary>Whether <paramref name="url"/> starts with an RFC 3986 scheme (<c>ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"</c>).</summary>
    private static bool HasScheme(string url)
    {
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !char.IsAsciiLetter(url[0])) return false;
        foreach (var c in url.AsSpan(1, colon - 1))
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.')) return false;
        }
        return true;
    }

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static GatehouseError Forbidden(string url) =>
        new(400, $"Requested return_to URL \"{url}\" is not allowed.", "self_service_flow_return_to_forbidden");
}
