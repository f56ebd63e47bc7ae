using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hashing;
using Gatehouse.OAuth2.Clients;

namespace Gatehouse.Bench;

/// <summary>
/// Issue 14's three performance targets, measured in one run against a real <c>gatehouse serve</c>:
/// (1) introspection of an opaque access token (admin <c>POST /admin/oauth2/introspect</c>) against a bare ASP.NET
/// endpoint answering the same POST with a constant body (closed loops, alternating); (2) <c>client_credentials</c>
/// issuance (<c>POST /oauth2/token</c>, <c>client_secret_basic</c>) against the client-secret hasher's own rate
/// (<see cref="ClientSecretHasher.Verify"/>, PBKDF2-SHA256 at Hydra's 25,000 iterations, on threads in the driver,
/// pinned to the server's CPUs with <c>--server-cpus</c>);
/// (3) the authorization-code round trip with the built-in login and a browser that holds a Kratos session and a
/// remembered login: <c>/oauth2/auth</c> → <c>/self-service/login/browser?login_challenge</c> (accepted at once:
/// skip) → <c>/oauth2/auth?login_verifier</c> → consent skipped (<c>skip_consent</c> client) →
/// <c>/oauth2/auth?consent_verifier</c> → the redirect URI's code → <c>POST /oauth2/token</c> (public client with PKCE,
/// so no secret hash) → access and ID token; server CPU per round trip.
/// </summary>
internal sealed class OAuth2Benchmark(GatehouseProcess server, BareEndpoint bare, BenchOptions options)
{
    /// <summary>Plain-HTTP loopback: the browser's cookies without the Secure flag, so the driver's cookie jar sends them back.</summary>
    public const string ServerConfig = """
        cookies:
          secure: false
        """;

    private const string Secret = "bench-client-secret-0123456789";
    private const string RedirectUri = "http://127.0.0.1:9/callback";
    private const string Email = "oauth2-bench@example.com";
    private const string Password = "a-long-bench-password-9f3c1e";
    private const int StepTrips = 200;

    /// <summary>client_credentials requests before the measured ones (see <see cref="TripWarmUp"/>).</summary>
    private const int IssueWarmUp = 300;

    /// <summary>
    /// Round trips before the measured ones. The target is a steady-state server's cost: each trip runs most of its
    /// methods once, so it takes a few hundred trips before the tiered JIT has promoted them (tier 0, instrumented tier 0
    /// with dynamic PGO, tier 1) and stops working; 60 trips left ~6 ms of JIT per measured trip.
    /// </summary>
    private const int TripWarmUp = 400;

    /// <summary>Load slices of a warm-up that runs until the JIT is idle under load (<see cref="ThreadCpu.WarmUntilJitQuietAsync"/>).</summary>
    private static readonly TimeSpan JitSlice = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan JitLimit = TimeSpan.FromSeconds(60);

    /// <summary>While set, <see cref="AuthorizationCodeAsync"/> adds each request's server CPU (ns, count) by step.</summary>
    private Dictionary<string, (long Ns, int Count)>? _steps;

    private readonly CpuMeter _serverCpu = new(server.Pid, options.PostgresDsn);
    private readonly CpuMeter _bareCpu = new(bare.Pid, null);

    public async Task<string> RunAsync()
    {
        using var admin = LoadLoops.Client(server.Admin, 16);
        using var http = LoadLoops.Client(server.Public, 16);
        var cc = await CreateClientAsync(admin, new JsonObject
        {
            ["client_name"] = "bench client credentials",
            ["client_secret"] = Secret,
            ["grant_types"] = new JsonArray("client_credentials"),
            ["token_endpoint_auth_method"] = "client_secret_basic",
            ["scope"] = "read write",
        });
        var app = await CreateClientAsync(admin, new JsonObject
        {
            ["client_name"] = "bench public app",
            ["grant_types"] = new JsonArray("authorization_code"),
            ["response_types"] = new JsonArray("code"),
            ["redirect_uris"] = new JsonArray(RedirectUri),
            ["token_endpoint_auth_method"] = "none",
            ["scope"] = "openid",
            ["skip_consent"] = true,
        });
        using (var created = await admin.PostAsJsonAsync("admin/identities", new JsonObject
        {
            ["schema_id"] = "default",
            ["traits"] = new JsonObject { ["email"] = Email },
            ["credentials"] = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = Password } } },
        }))
        {
            if (created.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"identity: HTTP {(int)created.StatusCode}: {await created.Content.ReadAsStringAsync()}");
        }

        var token = await ClientCredentialsAsync(http, cc) ?? throw new InvalidOperationException("client_credentials failed; see the server log");
        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(cc)}:{Uri.EscapeDataString(Secret)}")));
        var duration = TimeSpan.FromSeconds(options.Seconds);
        var c = CultureInfo.InvariantCulture;

        // (1) introspection vs the bare endpoint, both POSTs with the same form body, alternating.
        Console.Error.WriteLine($"introspection vs bare endpoint, {options.Concurrency} clients, {options.Rounds} × {options.Seconds} s ...");
        using var bareHttp = LoadLoops.Client(bare.Url, 16);
        await LoadLoops.ClosedAsync("warm-up", options.Concurrency, TimeSpan.FromSeconds(3), (_, _) => IntrospectAsync(admin, "admin/oauth2/introspect", token), _serverCpu);
        var introspectWarm = await ThreadCpu.WarmUntilJitQuietAsync(server.Pid,
            d => LoadLoops.ClosedAsync("warm-up", options.Concurrency, d, (_, _) => IntrospectAsync(admin, "admin/oauth2/introspect", token), _serverCpu), JitSlice, JitLimit);
        await LoadLoops.ClosedAsync("warm-up", options.Concurrency, TimeSpan.FromSeconds(3), (_, _) => IntrospectAsync(bareHttp, BareEndpoint.Path.TrimStart('/'), token), _bareCpu);
        await ThreadCpu.WaitForJitQuietAsync(server.Pid, TimeSpan.FromSeconds(30));
        var introspect = new List<LoadResult>();
        var bareRuns = new List<LoadResult>();
        var introspectJit = TimeSpan.Zero;
        for (var round = 0; round < options.Rounds; round++)
        {
            Console.Error.WriteLine("  measuring: bare endpoint");
            bareRuns.Add(await LoadLoops.ClosedAsync("bare endpoint (POST, constant JSON)", options.Concurrency, duration, (_, _) => IntrospectAsync(bareHttp, BareEndpoint.Path.TrimStart('/'), token), _bareCpu));
            Console.Error.WriteLine("  measuring: introspection");
            var jit0 = ThreadCpu.Snapshot(server.Pid);
            introspect.Add(await LoadLoops.ClosedAsync("introspection (opaque access token)", options.Concurrency, duration, (_, _) => IntrospectAsync(admin, "admin/oauth2/introspect", token), _serverCpu));
            introspectJit += ThreadCpu.Between(jit0, ThreadCpu.Snapshot(server.Pid), ".NET Tiered");
        }

        // (2) client_credentials issuance vs the client-secret hasher's own rate.
        var hasher = new ClientSecretHasher(new PasswordHasher(new HashersOptions()));
        var stored = hasher.Hash(Secret);
        var threads = options.AuthConcurrency;
        Console.Error.WriteLine($"client_credentials vs the client-secret hasher, {threads} clients/threads, {options.AuthSeconds} s each ...");
        for (var i = 0; i < IssueWarmUp; i++) await ClientCredentialsAsync(http, cc, basic);
        var issueWarm = await ThreadCpu.WarmUntilJitQuietAsync(server.Pid,
            d => LoadLoops.ClosedAsync("warm-up", threads, d, async (_, _) => await ClientCredentialsAsync(http, cc, basic) is not null, _serverCpu), JitSlice, JitLimit);
        await ThreadCpu.WaitForJitQuietAsync(server.Pid, TimeSpan.FromSeconds(30));
        var authDuration = TimeSpan.FromSeconds(options.AuthSeconds);
        Console.Error.WriteLine("  measuring: hasher");
        var hashBefore = LoadLoops.Threads("client-secret hasher Verify (PBKDF2-SHA256, 25,000 iterations)", threads, authDuration, () => hasher.Verify(Secret, stored));
        Console.Error.WriteLine("  measuring: client_credentials");
        var issueThreads0 = ThreadCpu.Snapshot(server.Pid);
        var issued = await LoadLoops.ClosedAsync("client_credentials (POST /oauth2/token, client_secret_basic)", threads, authDuration,
            async (_, _) => await ClientCredentialsAsync(http, cc, basic) is not null, _serverCpu);
        var issueJitMs = ThreadCpu.Between(issueThreads0, ThreadCpu.Snapshot(server.Pid), ".NET Tiered").TotalMilliseconds / Math.Max(1, issued.Ok);
        Console.Error.WriteLine("  measuring: hasher (again)");
        var hashAfter = LoadLoops.Threads("client-secret hasher Verify (again)", threads, authDuration, () => hasher.Verify(Secret, stored));

        // (3) the authorization-code round trip of a browser with a session and a remembered login.
        Console.Error.WriteLine("authorization-code round trips ...");
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, UseCookies = true, AllowAutoRedirect = false, UseProxy = false }) { BaseAddress = server.Public, Timeout = TimeSpan.FromSeconds(30) };
        await SignInAsync(browser, null);
        for (var i = 0; i < TripWarmUp; i++) await AuthorizationCodeAsync(browser, app);
        var tripWarm = await ThreadCpu.WarmUntilJitQuietAsync(server.Pid,
            d => LoadLoops.ClosedAsync("warm-up", 1, d, async (_, _) => await AuthorizationCodeAsync(browser, app), _serverCpu), JitSlice, JitLimit);
        await ThreadCpu.WaitForJitQuietAsync(server.Pid, TimeSpan.FromSeconds(30));
        Console.Error.WriteLine("  measuring: round trips");
        var threads0 = ThreadCpu.Snapshot(server.Pid);
        var trips = await LoadLoops.ClosedAsync("authorization-code round trip (auth → login skipped → consent skipped → token)", 1, duration,
            async (_, _) => await AuthorizationCodeAsync(browser, app), _serverCpu);

        double Rate(IEnumerable<LoadResult> runs) => runs.Sum(r => r.Ok) / runs.Sum(r => r.Wall.TotalSeconds);
        double CpuUs(IEnumerable<LoadResult> runs) => runs.Sum(r => (r.ServerCpu + r.DatabaseCpu).TotalMilliseconds) * 1000 / Math.Max(1, runs.Sum(r => r.Ok));
        var introspectRatio = Rate(introspect) / Rate(bareRuns);
        var hashRate = (hashBefore.PerSecond + hashAfter.PerSecond) / 2;
        var hashCpuMs = (hashBefore.ServerCpu + hashAfter.ServerCpu).TotalMilliseconds / Math.Max(1, hashBefore.Ok + hashAfter.Ok);
        var issueCpuMs = (issued.ServerCpu + issued.DatabaseCpu).TotalMilliseconds / Math.Max(1, issued.Ok);
        var issueRatio = issued.PerSecond / hashRate;
        var tripMs = (trips.ServerCpu + trips.DatabaseCpu).TotalMilliseconds / Math.Max(1, trips.Ok);
        var tripJitMs = ThreadCpu.Between(threads0, ThreadCpu.Snapshot(server.Pid), ".NET Tiered").TotalMilliseconds / Math.Max(1, trips.Ok);

        // Where a round trip's CPU goes: the same trips once more, with the server's CPU (all threads, nanoseconds from
        // /proc/<pid>/task/*/schedstat) read around each request. Separate from the measured phase, because the reads slow the driver.
        Console.Error.WriteLine($"authorization-code round trips, CPU per request ({StepTrips} trips) ...");
        _steps = [];
        for (var i = 0; i < StepTrips; i++) await AuthorizationCodeAsync(browser, app);
        var steps = _steps;
        _steps = null;

        var md = new StringBuilder();
        md.AppendLine(c, $"### {server.Provider}: OAuth2 provider (issue 14), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine();
        md.AppendLine(c, $"Load average (1/5/15 min): {Report.LoadAverage()}. Introspection: {options.Concurrency} clients, {options.Rounds} × {options.Seconds} s alternating with the bare endpoint; client_credentials: {threads} clients and {threads} hasher threads{(GatehouseProcess.ServerCpus is { } cpus ? $" (pinned to the server's CPUs {cpus})" : "")}, {options.AuthSeconds} s each after {IssueWarmUp} warm-up requests; round trips: 1 browser, {options.Seconds} s after {TripWarmUp} warm-up trips. Each phase's warm-up then goes on under load until the JIT compiler's thread uses under 1 ms in a pause of 1.5 s and {JitSlice.TotalSeconds:0} s of load (introspection {introspectWarm.TotalSeconds:0} s, client_credentials {issueWarm.TotalSeconds:0} s, round trips {tripWarm.TotalSeconds:0} s; at most {JitLimit.TotalSeconds:0} s).");
        md.AppendLine();
        md.AppendLine("| measure | value | target | |");
        md.AppendLine("|---|---|---|---|");
        md.AppendLine(c, $"| bare endpoint, POST with the same form | {Rate(bareRuns):N0}/s; {CpuUs(bareRuns):0} µs CPU each | | |");
        md.AppendLine(c, $"| introspection of an opaque access token | {Rate(introspect):N0}/s ({introspect.Sum(r => r.Failed)} failed); p50 {introspect[^1].Latency.P50:0.00} ms; {CpuUs(introspect):0} µs server CPU each, of which {introspectJit.TotalMilliseconds * 1000 / Math.Max(1, introspect.Sum(r => r.Ok)):0.0} µs the tiered JIT compiler's thread | | |");
        md.AppendLine(c, $"| **introspection / bare throughput** | **{introspectRatio:P0}** | ≥ 50% | {(introspectRatio >= 0.5 ? "met" : "**missed**")} |");
        md.AppendLine(c, $"| client-secret hasher `Verify` (PBKDF2-SHA256, 25,000 iterations), mean of before/after | {hashRate:N1}/s; {hashCpuMs:0.00} ms CPU each | | |");
        md.AppendLine(c, $"| client_credentials issuance | {issued.PerSecond:N1}/s ({issued.Ok} ok, {issued.Failed} failed); {issueCpuMs:0.00} ms server CPU each, of which {issueJitMs:0.00} ms the tiered JIT compiler's thread | | |");
        md.AppendLine(c, $"| **client_credentials / hasher rate** (CPU: hasher / server per token) | **{issueRatio:P0}** ({hashCpuMs / issueCpuMs:P0}) | ≥ 90% | {(issueRatio >= 0.9 ? "met" : "**missed**")} |");
        md.AppendLine(c, $"| authorization-code round trip (5 requests: auth, login, auth, auth, token) | {trips.Ok} ok, {trips.Failed} failed; p50 {trips.Latency.P50:0.00} ms | | |");
        md.AppendLine(c, $"| **server CPU per round trip** (of which the tiered JIT compiler's thread) | **{tripMs:0.00} ms** ({tripJitMs:0.00} ms) | < 10 ms | {(tripMs < 10 ? "met" : "**missed**")} |");
        md.AppendLine();
        md.AppendLine(c, $"Server CPU of each request of a round trip (all threads, from schedstat; mean of {StepTrips} further trips):");
        md.AppendLine();
        md.AppendLine("| request | CPU |");
        md.AppendLine("|---|---|");
        foreach (var (step, (ns, count)) in steps) md.AppendLine(c, $"| {step} | {ns / 1e6 / Math.Max(1, count):0.00} ms |");
        md.AppendLine(c, $"| total | {steps.Values.Sum(v => v.Ns) / 1e6 / StepTrips:0.00} ms |");
        return md.ToString();
    }

    private static async Task<string> CreateClientAsync(HttpClient admin, JsonObject body)
    {
        using var created = await admin.PostAsJsonAsync("admin/clients", body);
        var json = await created.Content.ReadAsStringAsync();
        if (created.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"create client: HTTP {(int)created.StatusCode}: {json}");
        return JsonNode.Parse(json)!["client_id"]!.GetValue<string>();
    }

    private static async Task<bool> IntrospectAsync(HttpClient http, string path, string token)
    {
        try
        {
            using var response = await http.PostAsync(path, new FormUrlEncodedContent([new("token", token)]));
            var body = await response.Content.ReadAsStringAsync();
            return response.StatusCode == HttpStatusCode.OK && body.Contains("\"active\":true", StringComparison.Ordinal);
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task<string?> ClientCredentialsAsync(HttpClient http, string clientId, AuthenticationHeaderValue? basic = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "oauth2/token") { Content = new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("scope", "read")]) };
        request.Headers.Authorization = basic ?? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(Secret)}")));
        try
        {
            using var response = await http.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.OK) return null;
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["access_token"]!.GetValue<string>();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>
    /// Signs the browser in with its password through a browser login flow (JSON, CSRF token and cookie), the flow given
    /// by id or a new one: null when the answer was the session, else the URL an OAuth2 login goes on with.
    /// </summary>
    private static async Task<Uri?> SignInAsync(HttpClient browser, string? flowId)
    {
        JsonNode flow;
        if (flowId is null)
        {
            using var init = new HttpRequestMessage(HttpMethod.Get, "self-service/login/browser");
            init.Headers.Accept.Add(new("application/json"));
            using var created = await browser.SendAsync(init);
            flow = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        }
        else
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, $"self-service/login/flows?id={flowId}");
            get.Headers.Accept.Add(new("application/json"));
            using var fetched = await browser.SendAsync(get);
            flow = JsonNode.Parse(await fetched.Content.ReadAsStringAsync())!;
        }
        var csrf = flow["ui"]!["nodes"]!.AsArray().First(n => n!["attributes"]?["name"]?.GetValue<string>() == "csrf_token")!["attributes"]!["value"]!.GetValue<string>();
        using var submit = new HttpRequestMessage(HttpMethod.Post, $"self-service/login?flow={flow["id"]}")
        {
            Content = JsonContent.Create(new JsonObject { ["method"] = "password", ["identifier"] = Email, ["password"] = Password, ["csrf_token"] = csrf }),
        };
        submit.Headers.Accept.Add(new("application/json"));
        using var answer = await browser.SendAsync(submit);
        var body = await answer.Content.ReadAsStringAsync();
        if (answer.StatusCode == HttpStatusCode.OK) return null;
        // A login for an OAuth2 request answers SPAs 422 with the URL to go on with.
        if ((int)answer.StatusCode == 422 && JsonNode.Parse(body)?["error"]?["details"]?["redirect_browser_to"]?.GetValue<string>() is { } next) return new Uri(next);
        if ((int)answer.StatusCode == 422 && JsonNode.Parse(body)?["redirect_browser_to"]?.GetValue<string>() is { } next2) return new Uri(next2);
        throw new InvalidOperationException($"password sign-in: HTTP {(int)answer.StatusCode}: {body}");
    }

    /// <summary>One authorization-code round trip by following the redirects; true when the token endpoint gave an ID token.</summary>
    private async Task<bool> AuthorizationCodeAsync(HttpClient browser, string clientId)
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var url = new Uri(server.Public, $"oauth2/auth?response_type=code&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope=openid&state=bench-state-0001&code_challenge={challenge}&code_challenge_method=S256");
        string? code = null;
        for (var hop = 0; hop < 12 && code is null; hop++)
        {
            var before = _steps is null ? null : ServerCpuNs();
            using var response = await browser.GetAsync(url);
            if (before is not null) Count(StepName(url), CpuNsSince(before));
            if (response.Headers.Location is not { } location) throw new InvalidOperationException($"{url}: HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            var next = location.IsAbsoluteUri ? location : new Uri(url, location);
            if (next.AbsoluteUri.StartsWith(RedirectUri, StringComparison.Ordinal))
            {
                code = System.Web.HttpUtility.ParseQueryString(next.Query)["code"] ?? throw new InvalidOperationException($"no code: {next}");
                break;
            }
            // The first request of the browser: no remembered login yet, so its session signs in again on a login page.
            if (System.Web.HttpUtility.ParseQueryString(next.Query)["flow"] is { } flowId && next.AbsolutePath.Contains("login", StringComparison.Ordinal))
            {
                next = await SignInAsync(browser, flowId) ?? throw new InvalidOperationException("the login for the OAuth2 request answered without a next URL");
            }
            url = next;
        }
        if (code is null) throw new InvalidOperationException($"no code after 12 redirects (last: {url})");
        var beforeToken = _steps is null ? null : ServerCpuNs();
        using var token = await browser.PostAsync("oauth2/token", new FormUrlEncodedContent([
            new("grant_type", "authorization_code"), new("code", code), new("redirect_uri", RedirectUri), new("client_id", clientId), new("code_verifier", verifier)]));
        var body = await token.Content.ReadAsStringAsync();
        if (beforeToken is not null) Count("POST /oauth2/token (code + PKCE → access and ID token)", CpuNsSince(beforeToken));
        if (token.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"token: HTTP {(int)token.StatusCode}: {body}");
        return JsonNode.Parse(body)?["id_token"] is not null;
    }

    private void Count(string step, long ns)
    {
        var steps = _steps!;
        var (total, count) = steps.GetValueOrDefault(step);
        steps[step] = (total + ns, count + 1);
    }

    private static string StepName(Uri url)
    {
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        return url.AbsolutePath switch
        {
            "/oauth2/auth" when query["login_verifier"] is not null => "GET /oauth2/auth?login_verifier (consent request)",
            "/oauth2/auth" when query["consent_verifier"] is not null => "GET /oauth2/auth?consent_verifier (code)",
            "/oauth2/auth" => "GET /oauth2/auth (new request → login request)",
            var p when p.Contains("login", StringComparison.Ordinal) => $"GET {p}?login_challenge (session accepts the login)",
            var p when p.Contains("consent", StringComparison.Ordinal) => $"GET {p}?consent_challenge (built-in consent, skipped)",
            var p => "GET " + p,
        };
    }

    /// <summary>The server's CPU time so far by thread id, in nanoseconds.</summary>
    private Dictionary<string, long> ServerCpuNs()
    {
        var threads = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories($"/proc/{server.Pid}/task"))
        {
            try
            {
                var text = File.ReadAllText(Path.Combine(dir, "schedstat"));
                threads[Path.GetFileName(dir)] = long.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // the thread ended while we read
            }
        }
        return threads;
    }

    /// <summary>CPU used since <paramref name="before"/> by the threads alive now (a thread that ended meanwhile is lost; a new one counts whole).</summary>
    private long CpuNsSince(Dictionary<string, long> before) =>
        ServerCpuNs().Sum(t => Math.Max(0, t.Value - before.GetValueOrDefault(t.Key)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
