using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.SelfService.Strategies.Oidc;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>
/// A real loopback HTTP server standing in for the providers' public hosts (<c>discord.com</c>, <c>slack.com</c>,
/// <c>graph.facebook.com</c>, <c>login.microsoftonline.com</c>, …). Gatehouse's upstream HTTP client gets one more handler
/// that sends every <c>https://host/path</c> request to <c>http://127.0.0.1:port/host/path</c> instead, so the presets'
/// built-in URLs stay exactly as in production and the server sees (and records) each request as sent: method, original
/// URL, <c>Authorization</c>, <c>Accept</c>, <c>User-Agent</c>, form body. Tests program the answers per
/// <c>METHOD https://host/path</c>.
/// </summary>
public sealed class PresetHosts : IAsyncDisposable
{
    /// <summary>One request as the provider received it.</summary>
    /// <param name="Body">The body as sent when it is not a form (e.g. DingTalk's JSON token request).</param>
    public sealed record Call(string Method, string Url, string Authorization, string Accept, string UserAgent, IReadOnlyDictionary<string, string> Form, IReadOnlyDictionary<string, string> Headers, string Body = "")
    {
        /// <summary>The URL without its query.</summary>
        public string Endpoint => Url.Split('?')[0];

        public IReadOnlyDictionary<string, string> Query => Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(Url).Query).ToDictionary(k => k.Key, v => v.Value.ToString());
    }

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Func<Call, IResult>> _routes = new(StringComparer.Ordinal);

    private PresetHosts(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    public ConcurrentQueue<Call> Calls { get; } = new();

    /// <summary>The calls to one endpoint (<c>METHOD https://host/path</c>), oldest first.</summary>
    public Call[] To(string endpoint) => [.. Calls.Where(c => $"{c.Method} {c.Endpoint}" == endpoint)];

    /// <summary>Answers <paramref name="endpoint"/> (<c>METHOD https://host/path</c>) with <paramref name="answer"/>.</summary>
    public void On(string endpoint, Func<Call, IResult> answer) => _routes[endpoint] = answer;

    public static Task<PresetHosts> StartAsync() => PortClash.RetryAsync(StartOnAFreePortAsync);

    private static async Task<PresetHosts> StartOnAFreePortAsync()
    {
        var url = $"http://127.0.0.1:{TestServer.FreePort()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var hosts = new PresetHosts(app, url);
        app.Map("/{**rest}", async (HttpContext http) =>
        {
            var form = new Dictionary<string, string>(StringComparer.Ordinal);
            var body = "";
            if (http.Request.HasFormContentType)
            {
                foreach (var (k, v) in await http.Request.ReadFormAsync()) form[k] = v.ToString();
            }
            else
            {
                using var reader = new StreamReader(http.Request.Body);
                body = await reader.ReadToEndAsync();
            }
            var call = new Call(http.Request.Method, "https:/" + http.Request.Path + http.Request.QueryString, http.Request.Headers.Authorization.ToString(),
                http.Request.Headers.Accept.ToString(), http.Request.Headers.UserAgent.ToString(), form,
                http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), body);
            hosts.Calls.Enqueue(call);
            return hosts._routes.TryGetValue($"{call.Method} {call.Endpoint}", out var answer)
                ? answer(call)
                : Results.Json(new { error = "not_found", error_description = $"nothing at {call.Method} {call.Endpoint}" }, statusCode: 404);
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
        return hosts;
    }

    /// <summary>Routes Gatehouse's upstream HTTPS calls to this server.</summary>
    public void Install(IServiceCollection services) =>
        services.AddHttpClient(OidcMetadataCache.HttpClientName).AddHttpMessageHandler(() => new Rewrite(Url));

    private sealed class Rewrite(string target) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri is { Scheme: "https" } uri) request.RequestUri = new Uri(target + "/" + uri.Host + uri.PathAndQuery);
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Serves an OpenID provider's discovery document and key set for <paramref name="issuer"/> (an https URL).</summary>
    public void OpenIdIssuer(string issuer, RsaSecurityKey key, string? authorizationEndpoint = null, string? tokenEndpoint = null)
    {
        On("GET " + issuer + "/.well-known/openid-configuration", _ => Results.Text(new JsonObject
        {
            ["issuer"] = issuer,
            ["authorization_endpoint"] = authorizationEndpoint ?? issuer + "/authorize",
            ["token_endpoint"] = tokenEndpoint ?? issuer + "/token",
            ["jwks_uri"] = issuer + "/keys",
        }.ToJsonString(), "application/json"));
        On("GET " + issuer + "/keys", _ =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(key.Rsa.ExportParameters(false)) { KeyId = key.KeyId });
            return Results.Text(new JsonObject { ["keys"] = new JsonArray(new JsonObject { ["kty"] = "RSA", ["kid"] = jwk.Kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = jwk.N, ["e"] = jwk.E }) }.ToJsonString(), "application/json");
        });
    }

    public static RsaSecurityKey NewKey() => new(RSA.Create(2048)) { KeyId = "k-" + Guid.NewGuid().ToString("N")[..8] };

    public static string Sign(JsonObject claims, RsaSecurityKey key) =>
        new JsonWebTokenHandler().CreateToken(claims.ToJsonString(), new SigningCredentials(key, SecurityAlgorithms.RsaSha256));

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
