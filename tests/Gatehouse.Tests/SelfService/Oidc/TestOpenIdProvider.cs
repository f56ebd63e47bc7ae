using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>
/// A small OpenID provider on a real loopback HTTP listener for the xunit tests: discovery, a key set it can rotate, and
/// a token endpoint that redeems codes the test registered (checking client authentication, redirect URI and the PKCE
/// verifier) with an ID token the test shapes. The e2e suite runs against the certified oidc-provider instead.
/// </summary>
public sealed class TestOpenIdProvider : IAsyncDisposable
{
    public const string ClientId = "gatehouse-test";
    public const string ClientSecret = "test-client-secret";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Grant> _codes = new();
    private int _jwksFetches;
    private int _discoveryFetches;

    /// <summary>What a code redeems to.</summary>
    public sealed record Grant(JsonObject Claims, string? CodeChallenge, string RedirectUri, SigningCredentials? SignWith = null);

    private TestOpenIdProvider(WebApplication app, string issuer)
    {
        _app = app;
        Issuer = issuer;
        Key = NewKey("key-1");
    }

    public string Issuer { get; }

    /// <summary>The key the published set holds and tokens are signed with (replace it to rotate).</summary>
    public RsaSecurityKey Key { get; set; }

    /// <summary>The Cache-Control max-age of discovery and keys (seconds).</summary>
    public int MaxAge { get; set; } = 3600;

    public int JwksFetches => _jwksFetches;
    public int DiscoveryFetches => _discoveryFetches;

    public static RsaSecurityKey NewKey(string kid) => new(RSA.Create(2048)) { KeyId = kid };

    public static Task<TestOpenIdProvider> StartAsync() => PortClash.RetryAsync(StartOnAFreePortAsync);

    private static async Task<TestOpenIdProvider> StartOnAFreePortAsync()
    {
        var port = TestServer.FreePort();
        var issuer = $"http://127.0.0.1:{port}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(issuer);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var provider = new TestOpenIdProvider(app, issuer);
        app.MapGet("/.well-known/openid-configuration", (HttpContext http) =>
        {
            Interlocked.Increment(ref provider._discoveryFetches);
            http.Response.Headers.CacheControl = $"public, max-age={provider.MaxAge}";
            return Results.Text(new JsonObject
            {
                ["issuer"] = issuer,
                ["authorization_endpoint"] = issuer + "/auth",
                ["token_endpoint"] = issuer + "/token",
                ["userinfo_endpoint"] = issuer + "/userinfo",
                ["jwks_uri"] = issuer + "/jwks",
                ["code_challenge_methods_supported"] = new JsonArray("S256"),
            }.ToJsonString(), "application/json");
        });
        app.MapGet("/jwks", (HttpContext http) =>
        {
            Interlocked.Increment(ref provider._jwksFetches);
            http.Response.Headers.CacheControl = $"public, max-age={provider.MaxAge}";
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(provider.Key.Rsa.ExportParameters(false)) { KeyId = provider.Key.KeyId });
            var key = new JsonObject { ["kty"] = "RSA", ["kid"] = jwk.Kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = jwk.N, ["e"] = jwk.E };
            return Results.Text(new JsonObject { ["keys"] = new JsonArray(key) }.ToJsonString(), "application/json");
        });
        app.MapPost("/token", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync();
            var basic = http.Request.Headers.Authorization.ToString();
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}"));
            if (basic != expected) return Results.Json(new { error = "invalid_client" }, statusCode: 401);
            if (!provider._codes.TryRemove(form["code"].ToString(), out var grant)) return Results.Json(new { error = "invalid_grant", error_description = "the code is unknown, expired or used" }, statusCode: 400);
            if (form["redirect_uri"] != grant.RedirectUri) return Results.Json(new { error = "invalid_grant", error_description = "redirect_uri mismatch" }, statusCode: 400);
            if (grant.CodeChallenge is not null && Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != grant.CodeChallenge)
                return Results.Json(new { error = "invalid_grant", error_description = "PKCE verification failed" }, statusCode: 400);
            return Results.Json(new { access_token = "at-" + Guid.NewGuid(), token_type = "Bearer", expires_in = 3600, id_token = provider.Sign(grant.Claims, grant.SignWith), refresh_token = "rt-" + Guid.NewGuid() });
        });
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return provider;
    }

    /// <summary>Registers a code the token endpoint redeems once.</summary>
    public string AddCode(Grant grant)
    {
        var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        _codes[code] = grant;
        return code;
    }

    /// <summary>An ID token with the given claims, signed with <see cref="Key"/> (or the given credentials).</summary>
    public string Sign(JsonObject claims, SigningCredentials? with = null) =>
        new JsonWebTokenHandler().CreateToken(claims.ToJsonString(), with ?? new SigningCredentials(Key, SecurityAlgorithms.RsaSha256));

    /// <summary>Standard claims for a subject: this issuer, the test client, valid for an hour from <paramref name="now"/>.</summary>
    public JsonObject Claims(string subject, DateTimeOffset now, string? nonce, string? email = null)
    {
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = subject,
            ["aud"] = ClientId,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
            ["email"] = email ?? $"{subject}@idp.test",
            ["email_verified"] = true,
        };
        if (nonce is not null) claims["nonce"] = nonce;
        return claims;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
