using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Bench;

/// <summary>
/// Server CPU of the social sign-in callback against a real <c>gatehouse serve</c> and a local OpenID provider run in
/// this driver process (Kestrel on loopback: discovery and key set with <c>Cache-Control: max-age=3600</c>, a token
/// endpoint that signs an RS256 ID token with the nonce of the authorization request). Per sign-in: an API login flow,
/// the provider submit (422 with the provider URL and the continuity cookie), then the callback with the state and a code
/// — the measured part. The provider's work (token endpoint, signing) runs in this process, so the gatehouse process's
/// CPU from /proc is the callback without the provider's side of the code exchange; Gatehouse's own side of it (the
/// HTTP request, reading the answer) stays in, so the figure is an upper bound. The provider counts its discovery and
/// key-set requests: they should be one each however many sign-ins, while the cache lifetime has not passed.
/// First round: new subjects (the login flow turns into a registration, an identity is written); second round: the same
/// subjects again (a login).
/// </summary>
internal static class OidcCallbackBenchmark
{
    private const string Schema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": { "traits": { "type": "object", "properties": { "email": { "type": "string", "format": "email" } }, "required": ["email"] } }
    }
    """;

    private const string Mapper = """
        local claims = std.extVar('claims');
        { identity: { traits: { email: claims.email }, verified_addresses: [{ via: 'email', value: claims.email }] } }
        """;

    private const string ClientId = "bench-client";
    private const string ClientSecret = "bench-client-secret";

    /// <summary>The server's config: one generic provider at the local issuer, sign-up signs in (session hook).</summary>
    public static string ServerConfig(string work, string issuer)
    {
        var schema = Path.Combine(work, "oidc.schema.json");
        File.WriteAllText(schema, Schema);
        return $$"""
            identity:
              default_schema_id: oidc
              schemas:
                - id: oidc
                  url: file://{{schema}}
            selfservice:
              flows:
                registration:
                  after:
                    oidc:
                      hooks:
                        - hook: session
              methods:
                oidc:
                  enabled: true
                  config:
                    providers:
                      - id: bench
                        provider: generic
                        client_id: {{ClientId}}
                        client_secret: {{ClientSecret}}
                        issuer_url: {{issuer}}
                        scope: [email]
                        mapper_url: base64://{{Convert.ToBase64String(Encoding.UTF8.GetBytes(Mapper))}}
            gatehouse:
              rate_limits:
                flows_per_address:
                  limit: 0
            """;
    }

    /// <summary>The local OpenID provider.</summary>
    public sealed class Provider : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, (string Subject, string Nonce)> _codes = new();
        private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "bench-1" };
        private int _discovery;
        private int _jwks;
        private int _tokens;
        private long _tokenTicks;

        private Provider(WebApplication app, string issuer)
        {
            _app = app;
            Issuer = issuer;
        }

        public string Issuer { get; }
        public int DiscoveryHits => _discovery;
        public int JwksHits => _jwks;
        public int TokenRequests => _tokens;

        /// <summary>The provider's own time in its token endpoint (wall, this process).</summary>
        public TimeSpan TokenTime => TimeSpan.FromTicks(Interlocked.Read(ref _tokenTicks));

        public void AddCode(string code, string subject, string nonce) => _codes[code] = (subject, nonce);

        public static async Task<Provider> StartAsync()
        {
            var issuer = $"http://127.0.0.1:{GatehouseProcess.FreePort()}";
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls(issuer);
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var p = new Provider(app, issuer);
            app.MapGet("/.well-known/openid-configuration", (HttpContext http) =>
            {
                Interlocked.Increment(ref p._discovery);
                http.Response.Headers.CacheControl = "public, max-age=3600";
                return Results.Json(new JsonObject
                {
                    ["issuer"] = issuer, ["authorization_endpoint"] = issuer + "/auth", ["token_endpoint"] = issuer + "/token",
                    ["jwks_uri"] = issuer + "/jwks", ["code_challenge_methods_supported"] = new JsonArray("S256"),
                });
            });
            app.MapGet("/jwks", (HttpContext http) =>
            {
                Interlocked.Increment(ref p._jwks);
                http.Response.Headers.CacheControl = "public, max-age=3600";
                var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(p._key.Rsa.ExportParameters(false)) { KeyId = p._key.KeyId });
                return Results.Json(new JsonObject { ["keys"] = new JsonArray(new JsonObject { ["kty"] = "RSA", ["kid"] = jwk.Kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = jwk.N, ["e"] = jwk.E }) });
            });
            app.MapPost("/token", async (HttpContext http) =>
            {
                var started = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref p._tokens);
                var form = await http.Request.ReadFormAsync();
                IResult answer;
                if (http.Request.Headers.Authorization != "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}")))
                    answer = Results.Json(new { error = "invalid_client" }, statusCode: 401);
                else if (!p._codes.TryRemove(form["code"].ToString(), out var grant))
                    answer = Results.Json(new { error = "invalid_grant" }, statusCode: 400);
                else
                {
                    var now = DateTimeOffset.UtcNow;
                    var claims = new JsonObject
                    {
                        ["iss"] = issuer, ["aud"] = ClientId, ["sub"] = grant.Subject, ["nonce"] = grant.Nonce, ["email"] = grant.Subject + "@bench.test",
                        ["email_verified"] = true, ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = now.AddMinutes(5).ToUnixTimeSeconds(),
                    };
                    var idToken = new JsonWebTokenHandler().CreateToken(claims.ToJsonString(), new SigningCredentials(p._key, SecurityAlgorithms.RsaSha256));
                    answer = Results.Json(new { access_token = "at-" + Guid.NewGuid().ToString("N"), token_type = "Bearer", expires_in = 300, id_token = idToken });
                }
                Interlocked.Add(ref p._tokenTicks, Stopwatch.GetElapsedTime(started).Ticks);
                return answer;
            });
            await app.StartAsync();
            return p;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    private sealed record Pending(string Callback, string Cookie);

    public static async Task<string> RunAsync(GatehouseProcess server, Provider provider, int count, int warmUp)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var run = Guid.NewGuid().ToString("N")[..8];
        string Subject(int i) => $"bench-{run}-{i}";

        // Warm-up (JIT, the discovery and key caches): sign-ups and sign-ins of their own subjects, in two halves, each
        // followed by a wait until the tiered compiler is idle (its recompilations would otherwise land in the measured
        // rounds; see the code-login section of docs/benchmarks.md).
        var half = Math.Max(1, warmUp / 4);
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < half; i++) await CallbackAsync(http, server, await StartAsync(http, server, provider, $"warm-{run}-{pass}-{i}"));
            for (var i = 0; i < half; i++) await CallbackAsync(http, server, await StartAsync(http, server, provider, $"warm-{run}-{pass}-{i}"));
            await ThreadCpu.WaitForJitQuietAsync(server.Pid, TimeSpan.FromSeconds(30));
        }
        var (discovery0, jwks0) = (provider.DiscoveryHits, provider.JwksHits);

        var meter = new CpuMeter(server.Pid, server.Provider == "PostgreSQL" ? server.Dsn : null);
        var rounds = new List<(string Name, TimeSpan Start, TimeSpan Callback, TimeSpan Database, TimeSpan Provider, TimeSpan Wall, TimeSpan Jit)>();
        foreach (var name in new[] { "sign-up (new subject: login flow → registration, identity written)", "sign-in (known subject)" })
        {
            var pending = new Pending[count];
            var c0 = meter.Read();
            for (var i = 0; i < count; i++) pending[i] = await StartAsync(http, server, provider, Subject(i));
            var c1 = meter.Read();
            var tokenTime0 = provider.TokenTime;
            var threads0 = ThreadCpu.Snapshot(server.Pid);
            var wall = Stopwatch.StartNew();
            for (var i = 0; i < count; i++) await CallbackAsync(http, server, pending[i]);
            wall.Stop();
            var c2 = meter.Read();
            var jit = ThreadCpu.Between(threads0, ThreadCpu.Snapshot(server.Pid), ".NET Tiered");
            rounds.Add((name, c1.Gatehouse - c0.Gatehouse, c2.Gatehouse - c1.Gatehouse, c2.Database - c1.Database, provider.TokenTime - tokenTime0, wall.Elapsed, jit));
        }

        string Ms(double v) => v.ToString("0.000", CultureInfo.InvariantCulture) + " ms";
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Database: {server.Provider}. Sign-ins per round: {count} (sequential, after {4 * half} warm-up sign-ins and waits for the JIT to be idle).").AppendLine();
        md.AppendLine("| round | server CPU per callback (gatehouse process) | of which the tiered JIT compiler's thread | database CPU per callback | flow + provider submit, server CPU | provider's token endpoint (wall, driver) | callback wall (driver) |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in rounds)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Name} | {Ms(r.Callback.TotalMilliseconds / count)} | {Ms(r.Jit.TotalMilliseconds / count)} | {(server.Provider == "PostgreSQL" ? Ms(r.Database.TotalMilliseconds / count) : "(in process)")} | {Ms(r.Start.TotalMilliseconds / count)} | {Ms(r.Provider.TotalMilliseconds / count)} | {Ms(r.Wall.TotalMilliseconds / count)} |");
        }
        md.AppendLine();
        md.AppendLine("| provider metadata requests | during warm-up (first sign-in) | during the measured sign-ins |").AppendLine("|---|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| discovery (`/.well-known/openid-configuration`, max-age=3600) | {discovery0} | {provider.DiscoveryHits - discovery0} over {2 * count} sign-ins |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| key set (`jwks_uri`, max-age=3600) | {jwks0} | {provider.JwksHits - jwks0} over {2 * count} sign-ins |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| token requests (one per sign-in) | {provider.TokenRequests - 2 * count} | {2 * count} |");
        md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Load average at the end: {File.ReadAllText("/proc/loadavg").Split(' ')[0]}.");
        return md.ToString();
    }

    /// <summary>An API login flow and its provider submit: the callback URL (state and a code the provider will redeem) and the continuity cookie.</summary>
    private static async Task<Pending> StartAsync(HttpClient http, GatehouseProcess server, Provider provider, string subject)
    {
        var flow = await http.GetFromJsonAsync<JsonObject>(new Uri(server.Public, "self-service/login/api")) ?? throw new InvalidOperationException("no flow");
        using var submit = await http.PostAsync(new Uri(server.Public, $"self-service/login?flow={flow["id"]}"),
            new StringContent("""{"method":"oidc","provider":"bench"}""", Encoding.UTF8, "application/json"));
        if (submit.StatusCode != (HttpStatusCode)422) throw new InvalidOperationException($"the provider submit answered {(int)submit.StatusCode}: {await submit.Content.ReadAsStringAsync()}");
        var to = new Uri((string)JsonNode.Parse(await submit.Content.ReadAsStringAsync())!["redirect_browser_to"]!);
        var q = QueryHelpers.ParseQuery(to.Query);
        var code = Guid.NewGuid().ToString("N");
        provider.AddCode(code, subject, q["nonce"].ToString());
        var cookie = string.Join("; ", submit.Headers.TryGetValues("Set-Cookie", out var set) ? set.Select(c => c.Split(';')[0]) : []);
        return new Pending($"self-service/methods/oidc/callback/bench?state={Uri.EscapeDataString(q["state"].ToString())}&code={code}", cookie);
    }

    private static async Task CallbackAsync(HttpClient http, GatehouseProcess server, Pending pending)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Public, pending.Callback));
        if (pending.Cookie.Length > 0) request.Headers.Add("Cookie", pending.Cookie);
        using var answer = await http.SendAsync(request);
        var body = await answer.Content.ReadAsStringAsync();
        // An API flow's callback answers as the flow's submit would: 200 with the session and its token.
        if (answer.StatusCode != HttpStatusCode.OK || !body.Contains("\"session_token\"", StringComparison.Ordinal))
            throw new InvalidOperationException($"the callback answered {(int)answer.StatusCode} {answer.Headers.Location}: {body}");
    }
}
