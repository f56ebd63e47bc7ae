using System.Security.Cryptography;

namespace Gatehouse.Ui;

/// <summary>The pages' static files, embedded in the executable and served with long caching under a content-hash URL.</summary>
public static class UiAssets
{
    public const string StylesheetRoute = "/ui/assets/gatehouse.css";

    private static readonly byte[] Stylesheet = Load("Gatehouse.Ui.Assets.gatehouse.css");
    private static readonly string Version = Convert.ToHexStringLower(SHA256.HashData(Stylesheet))[..16];

    /// <summary>Relative to the pages (all at <c>/ui/&lt;name&gt;</c>), so it also works behind a path prefix; the hash busts caches on change.</summary>
    public static string StylesheetHref => "assets/gatehouse.css?v=" + Version;

    public static IResult ServeStylesheet(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue("\"" + Version + "\"");
        http.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
        http.Response.Headers["X-Content-Type-Options"] = "nosniff";
        return Results.Bytes(Stylesheet, "text/css; charset=utf-8", entityTag: etag);
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
