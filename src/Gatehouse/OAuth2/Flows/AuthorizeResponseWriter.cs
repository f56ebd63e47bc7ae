using System.Text;

namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// What <c>/oauth2/auth</c> sends to the client at the end of a flow: the parameters (<c>code</c>, tokens, <c>state</c>, or
/// an error) for a validated redirect URI, delivered in the request's response mode.
/// </summary>
public sealed record AuthorizeResponse(string RedirectUri, string ResponseMode, IReadOnlyList<KeyValuePair<string, string>> Parameters);

/// <summary>
/// fosite's <c>WriteAuthorizeResponse</c> (<c>authorize_write.go</c>) and <c>WriteAuthorizeError</c> (<c>authorize_error.go</c>),
/// with <c>Cache-Control: no-store</c> and <c>Pragma: no-cache</c> on every answer:
/// <list type="bullet">
/// <item><c>query</c>: a <c>303</c> to the redirect URI whose query is re-encoded as Go's <c>url.Values.Encode</c> (names
/// sorted, <c>+</c> for a space) — a success's parameters replace same-named ones of the redirect URI, an error's are
/// joined by them;</item>
/// <item><c>fragment</c>: a <c>303</c> to the redirect URI (its query as registered) with the parameters, encoded the same
/// way, as the fragment;</item>
/// <item><c>form_post</c>: a <c>200</c> HTML page (<c>text/html;charset=UTF-8</c>) with fosite's <c>DefaultFormPostTemplate</c>,
/// a form of hidden inputs (sorted by name) that the page submits to the redirect URI on load, escaped as Go's
/// <c>html/template</c> escapes it.</item>
/// </list>
/// </summary>
public static class AuthorizeResponseWriter
{
    public const string Query = "query";
    public const string Fragment = "fragment";
    public const string FormPost = "form_post";

    /// <summary>Writes a success (<paramref name="error"/> false) or an error answer.</summary>
    public static async Task WriteAsync(HttpContext http, AuthorizeResponse response, bool error)
    {
        var headers = http.Response.Headers;
        headers.CacheControl = "no-store";
        headers.Pragma = "no-cache";
        if (response.ResponseMode == FormPost)
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = "text/html;charset=UTF-8";
            await http.Response.WriteAsync(FormPostPage(response.RedirectUri, response.Parameters), Encoding.UTF8, http.RequestAborted);
            return;
        }
        http.Response.StatusCode = StatusCodes.Status303SeeOther;
        headers.Location = Location(response, error);
    }

    /// <summary>The URL of a <c>query</c> or <c>fragment</c> answer.</summary>
    public static string Location(AuthorizeResponse response, bool error)
    {
        var (head, query) = SplitQuery(response.RedirectUri);
        if (response.ResponseMode == Fragment)
        {
            // "The endpoint URI MUST NOT include a fragment component": it has none (validated), and the parameters are one.
            var encoded = GoUrlValues.Encode(response.Parameters);
            return encoded.Length > 0 || error ? response.RedirectUri + "#" + encoded : response.RedirectUri;
        }
        var existing = GoUrlValues.ParseQuery(query);
        List<KeyValuePair<string, string>> values;
        if (error)
        {
            // WriteAuthorizeError: the error's values, then the redirect URI's own (url.Values.Add).
            values = [.. response.Parameters, .. existing];
        }
        else
        {
            // WriteAuthorizeResponse: the redirect URI's values, each parameter replacing those of its name (url.Values.Set).
            values = [.. existing.Where(kv => !response.Parameters.Any(p => p.Key == kv.Key)), .. response.Parameters];
        }
        var q = GoUrlValues.Encode(values);
        return q.Length > 0 ? head + "?" + q : head;
    }

    private static (string Head, string Query) SplitQuery(string url)
    {
        var mark = url.IndexOf('?', StringComparison.Ordinal);
        return mark < 0 ? (url, "") : (url[..mark], url[(mark + 1)..]);
    }

    /// <summary>
    /// The form_post page, byte for byte what fosite's template renders: <c>range</c> over the values visits the names
    /// sorted, and <c>html/template</c> escapes the action as a URL attribute (a scheme other than <c>http</c>,
    /// <c>https</c> or <c>mailto</c> becomes <c>#ZgotmplZ</c>) and the names and values as attribute text.
    /// </summary>
    public static string FormPostPage(string redirectUri, IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        var page = new StringBuilder()
            .Append("<html>\n   <head>\n      <title>Submit This Form</title>\n   </head>\n")
            .Append("   <body onload=\"javascript:document.forms[0].submit()\">\n")
            .Append("      <form method=\"post\" action=\"").Append(HtmlAttribute(UrlAttribute(redirectUri))).Append("\">\n         ");
        foreach (var (name, values) in GoUrlValues.Sorted(parameters))
        {
            page.Append("\n            ");
            foreach (var value in values)
            {
                page.Append("\n\t\t      <input type=\"hidden\" name=\"").Append(HtmlAttribute(name))
                    .Append("\" value=\"").Append(HtmlAttribute(value)).Append("\"/>\n            ");
            }
            page.Append("\n         ");
        }
        return page.Append("\n      </form>\n   </body>\n</html>").ToString();
    }

    /// <summary>html/template's <c>urlFilter</c> then <c>urlNormalizer</c> (lower-case hex, valid escapes and reserved characters kept).</summary>
    private static string UrlAttribute(string url)
    {
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0 && !url.AsSpan(0, colon).Contains('/'))
        {
            var scheme = url[..colon];
            if (!scheme.Equals("http", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("https", StringComparison.OrdinalIgnoreCase)
                && !scheme.Equals("mailto", StringComparison.OrdinalIgnoreCase))
                return "#ZgotmplZ";
        }
        var bytes = Encoding.UTF8.GetBytes(url);
        var sb = new StringBuilder(bytes.Length);
        for (var i = 0; i < bytes.Length; i++)
        {
            var c = (char)bytes[i];
            var keep = c is '!' or '#' or '$' or '&' or '*' or '+' or ',' or '/' or ':' or ';' or '=' or '?' or '@' or '[' or ']'
                or '-' or '.' or '_' or '~'
                || char.IsAsciiLetterOrDigit(c) && bytes[i] < 0x80
                || c == '%' && i + 2 < bytes.Length && char.IsAsciiHexDigit((char)bytes[i + 1]) && char.IsAsciiHexDigit((char)bytes[i + 2]);
            if (keep) sb.Append(c);
            else sb.Append('%').Append(Convert.ToHexStringLower([bytes[i]]));
        }
        return sb.ToString();
    }

    /// <summary>html/template's attribute escaper (<c>htmlReplacementTable</c>).</summary>
    private static string HtmlAttribute(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                '\0' => "\uFFFD",
                '"' => "&#34;",
                '&' => "&amp;",
                '\'' => "&#39;",
                '+' => "&#43;",
                '<' => "&lt;",
                '>' => "&gt;",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }
}

/// <summary>Go's <c>net/url</c> query values as fosite uses them: <c>Encode</c>, <c>ParseQuery</c>, <c>QueryEscape</c>.</summary>
internal static class GoUrlValues
{
    /// <summary>The values grouped by name, names sorted (ordinal), each name's values in the order given.</summary>
    public static IEnumerable<(string Name, List<string> Values)> Sorted(IEnumerable<KeyValuePair<string, string>> values)
    {
        var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (k, v) in values)
        {
            if (!groups.TryGetValue(k, out var list)) groups[k] = list = [];
            list.Add(v);
        }
        return groups.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (g.Key, g.Value));
    }

    /// <summary><c>url.Values.Encode</c>: <c>name=value</c> pairs joined by <c>&amp;</c>, sorted by name.</summary>
    public static string Encode(IEnumerable<KeyValuePair<string, string>> values)
    {
        var sb = new StringBuilder();
        foreach (var (name, list) in Sorted(values))
        {
            foreach (var value in list)
            {
                if (sb.Length > 0) sb.Append('&');
                sb.Append(QueryEscape(name)).Append('=').Append(QueryEscape(value));
            }
        }
        return sb.ToString();
    }

    /// <summary><c>url.QueryEscape</c>: unreserved characters kept, a space as <c>+</c>, every other byte <c>%XX</c>.</summary>
    public static string QueryEscape(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')) sb.Append(c);
            else if (c == ' ') sb.Append('+');
            else sb.Append('%').Append(Convert.ToHexString([b]));
        }
        return sb.ToString();
    }

    /// <summary>
    /// <c>url.URL.Query</c>: the pairs of a raw query in order; as Go, a pair with a <c>;</c> or a bad escape is left out,
    /// a name without <c>=</c> has an empty value.
    /// </summary>
    public static List<KeyValuePair<string, string>> ParseQuery(string query)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var pair in query.Split('&'))
        {
            if (pair.Length == 0 || pair.Contains(';', StringComparison.Ordinal)) continue;
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var (rawName, rawValue) = eq < 0 ? (pair, "") : (pair[..eq], pair[(eq + 1)..]);
            if (QueryUnescape(rawName) is { } name && QueryUnescape(rawValue) is { } value) pairs.Add(new(name, value));
        }
        return pairs;
    }

    private static string? QueryUnescape(string s)
    {
        var bytes = new List<byte>(s.Length);
        var literal = 0;
        void Flush(int end)
        {
            if (end > literal) bytes.AddRange(Encoding.UTF8.GetBytes(s[literal..end]));
        }
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] is not ('+' or '%')) continue;
            Flush(i);
            if (s[i] == '+') bytes.Add((byte)' ');
            else
            {
                if (i + 2 >= s.Length || !char.IsAsciiHexDigit(s[i + 1]) || !char.IsAsciiHexDigit(s[i + 2])) return null;
                bytes.Add(Convert.ToByte(s.Substring(i + 1, 2), 16));
                i += 2;
            }
            literal = i + 1;
        }
        Flush(s.Length);
        return Encoding.UTF8.GetString([.. bytes]);
    }
}
