using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.SelfService.Ui;

namespace Gatehouse.SelfService.Strategies.WebAuthn;

/// <summary>
/// Gatehouse's <c>/.well-known/ory/webauthn.js</c>: the browser functions the passkey and webauthn nodes call (the names
/// Kratos's script defines, so Ory Elements and kratos-selfservice-ui-node work unchanged), and the script node that loads
/// it, whose <c>integrity</c> is the SHA-512 of exactly the bytes served.
/// </summary>
public static class WebAuthnScript
{
    public const string Route = "/.well-known/ory/webauthn.js";
    public const string Group = "webauthn";

    private static readonly byte[] Content = Load();

    /// <summary>The Subresource Integrity value of the served script (<c>sha512-…</c>).</summary>
    public static string Integrity { get; } = "sha512-" + Convert.ToBase64String(SHA512.HashData(Content));

    private static readonly string ETag = "\"" + Convert.ToHexStringLower(SHA256.HashData(Content))[..16] + "\"";

    /// <summary>Kratos's <c>webauthn_script</c> node (browser flows only: API flows carry no script).</summary>
    public static JsonObject Node(string publicBase) => new()
    {
        ["type"] = "script",
        ["group"] = Group,
        ["attributes"] = new JsonObject
        {
            ["src"] = publicBase.TrimEnd('/') + Route,
            ["async"] = true,
            ["referrerpolicy"] = "no-referrer",
            ["crossorigin"] = "anonymous",
            ["integrity"] = Integrity,
            ["type"] = "text/javascript",
            ["id"] = "webauthn_script",
            ["nonce"] = "",
            ["node_type"] = "script",
        },
        ["messages"] = new JsonArray(),
        ["meta"] = new JsonObject(),
    };

    /// <summary>Whether a form already has the script node (the passkey and webauthn methods share one).</summary>
    public static bool IsIn(UiContainer ui) => ui.Nodes.Any(n => n["attributes"]?["id"]?.GetValue<string>() == "webauthn_script" && n["type"]?.GetValue<string>() == "script");

    public static RouteGroupBuilder MapWebAuthnPublic(this RouteGroupBuilder root)
    {
        root.MapGet(Route, Serve);
        return root;
    }

    private static IResult Serve(HttpContext http)
    {
        // Loaded with crossorigin="anonymous" by UIs on other origins: without CORS the integrity check cannot run. The
        // script is public and read without credentials, so any origin may read it (unless serve.public.cors said more).
        if (!http.Response.Headers.ContainsKey("Access-Control-Allow-Origin")) http.Response.Headers.AccessControlAllowOrigin = "*";
        http.Response.Headers.CacheControl = "public, max-age=3600";
        http.Response.Headers["X-Content-Type-Options"] = "nosniff";
        return Results.Bytes(Content, "text/javascript; charset=utf-8", entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue(ETag));
    }

    private static byte[] Load()
    {
        const string name = "Gatehouse.SelfService.Strategies.WebAuthn.webauthn.js";
        using var stream = typeof(WebAuthnScript).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded resource {name} is missing.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
