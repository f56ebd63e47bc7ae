using System.Security.Cryptography;

namespace Gatehouse.Ui;

/// <summary>The pages' static files, embedded in the executable and served with long caching under a content-hash URL.</summary>
public static class UiAssets
{
    public const string StylesheetRoute = "/ui/assets/gatehouse.css";

    public const string WebAuthnScriptRoute = "/ui/assets/webauthn-ui.js";

    private static readonly byte[] Stylesheet = Load("Gatehouse.Ui.Assets.gatehouse.css");
    private static readonly string Version = Convert.ToHexStringLower(SHA256.HashData(Stylesheet))[..16];
    private static readonly byte[] WebAuthnGlue = Load("Gatehouse.Ui.Assets.webauthn-ui.js");
    private static readonly string WebAuthnGlueVersion = Convert.ToHexStringLower(SHA256.HashData(WebAuthnGlue))[..16];

    /// <summary>
    /// The stylesheet's URL path under the public base URL's path (so a base URL with a path prefix works, and the error
    /// page works at <c>/self-service/…</c> too); host-relative, so the page's own origin serves it. The hash busts caches.
    /// </summary>
    public static string StylesheetHref(string publicBase) =>
        new Uri(publicBase.TrimEnd('/') + "/", UriKind.Absolute).AbsolutePath.TrimEnd('/') + StylesheetRoute + "?v=" + Version;

    public static IResult ServeStylesheet(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue("\"" + Version + "\"");
        http.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
        http.Response.Headers["X-Content-Type-Options"] = "nosniff";
        return Results.Bytes(Stylesheet, "text/css; charset=utf-8", entityTag: etag);
    }

    /// <summary>The passkey pages' script (binds the WebAuthn buttons), host-relative like the stylesheet.</summary>
    public static string WebAuthnScriptHref(string publicBase) =>
        new Uri(publicBase.TrimEnd('/') + "/", UriKind.Absolute).AbsolutePath.TrimEnd('/') + WebAuthnScriptRoute + "?v=" + WebAuthnGlueVersion;

    public static IResult ServeWebAuthnScript(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
        http.Response.Headers["X-Content-Type-Options"] = "nosniff";
        return Results.Bytes(WebAuthnGlue, "text/javascript; charset=utf-8", entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue("\"" + WebAuthnGlueVersion + "\""));
    }

    private static byte[] Load(string name)
    {
        using var stream = typeof(UiAssets).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded resource {name} is missing.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
