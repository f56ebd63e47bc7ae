using System.Text;

namespace Gatehouse.Ui;

/// <summary>The page frame shared by every built-in page: language, viewport, the local stylesheet, a skip link, one <c>main</c>.</summary>
public static class UiLayout
{
    /// <summary>
    /// The pages load nothing from elsewhere: styles from <c>/ui/assets</c>, no scripts — except pages with passkeys or
    /// security keys (WebAuthn needs JavaScript), which may load same-origin script files, never inline code — and forms
    /// post only to Gatehouse's public base URL; they may not be framed.
    /// </summary>
    /// <param name="formTargets">
    /// More sources a form's answer may redirect to (Chromium checks <c>form-action</c> on each redirect after a submit):
    /// the OAuth2 client's redirect URIs on the login and consent pages of an authorization request.
    /// </param>
    /// <param name="scripts">Whether the page may load same-origin script files (<c>script-src 'self'</c>).</param>
    public static string ContentSecurityPolicy(string publicBase, IEnumerable<string>? formTargets = null, bool scripts = false) =>
        $"default-src 'none'; {(scripts ? "script-src 'self'; " : "")}style-src 'self'; img-src 'self' data:; form-action 'self' {publicBase}{string.Concat((formTargets ?? []).Distinct(StringComparer.Ordinal).Select(t => " " + t))}; frame-ancestors 'none'; base-uri 'none'";

    public static string Document(UiText text, string publicBase, string title, string body)
    {
        var html = new HtmlWriter()
            .Raw("<!DOCTYPE html>\n")
            .Open("html", Attr.Of("lang", text.Language))
            .Open("head")
            .Void("meta", Attr.Of("charset", "utf-8"))
            .Void("meta", Attr.Of("name", "viewport"), Attr.Of("content", "width=device-width, initial-scale=1"))
            .Void("meta", Attr.Of("name", "robots"), Attr.Of("content", "noindex"))
            .Element("title", $"{title} · {text["brand"]}")
            .Void("link", Attr.Of("rel", "stylesheet"), Attr.Of("href", UiAssets.StylesheetHref(publicBase)))
            .Close("head")
            .Open("body")
            .Element("a", text["skip"], Attr.Of("class", "skip-link"), Attr.Of("href", "#main"))
            .Open("header", Attr.Of("class", "site-header"))
            .Element("span", text["brand"], Attr.Of("class", "brand"))
            .Close("header")
            .Open("main", Attr.Of("id", "main"), Attr.Of("class", "card"), Attr.Of("tabindex", "-1"))
            .Element("h1", title)
            .Raw(body)
            .Close("main")
            .Close("body")
            .Close("html");
        return html.ToString();
    }

    public static async Task WriteAsync(HttpContext http, int status, UiText text, string publicBase, string title, string body, IEnumerable<string>? formTargets = null, bool scripts = false)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/html; charset=utf-8";
        var headers = http.Response.Headers;
        headers.ContentLanguage = text.Language;
        headers.CacheControl = "no-store";
        headers["Content-Security-Policy"] = ContentSecurityPolicy(publicBase, formTargets, scripts);
        headers["X-Content-Type-Options"] = "nosniff";
        headers["X-Frame-Options"] = "DENY";
        // Flow ids sit in the page's URL; do not hand them to other sites.
        headers["Referrer-Policy"] = "no-referrer";
        headers.Vary = "Accept-Language, Cookie";
        await http.Response.WriteAsync(Document(text, publicBase, title, body), Encoding.UTF8, http.RequestAborted);
    }
}
