using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hashing;
using Gatehouse.Persistence;
using Gatehouse.Sessions;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Bench;

/// <summary>
/// whoami against a bare Kestrel endpoint (closed loop and open loop at a fixed rate) with <c>--sessions</c> stored
/// sessions, then login and registration against the configured hasher's own rate, all in one run.
/// </summary>
internal sealed class SessionsBenchmark(GatehouseProcess server, BareEndpoint bare, BenchOptions options)
{
    public const string Password = "Gatehouse-bench-7f3k2q9x";

    /// <summary>
    /// The YAML the server runs with: unified registration with the session hook, no online breach check, bcrypt at the
    /// given cost, the whoami cache on (the default) or off (every whoami reads the database). Rate limits are on with
    /// their defaults, except that the driver's loopback address is limited per address like any client (so those
    /// counters are exercised too) with limits it never reaches; or, with <paramref name="rateLimits"/> false, off
    /// altogether (the baseline for what they cost).
    /// </summary>
    public static string ServerConfig(int bcryptCost, bool whoamiCache, bool rateLimits = true, bool secondFactors = false) => $"""
        hashers:
          algorithm: bcrypt
          bcrypt:
            cost: {bcryptCost}
        selfservice:
          flows:
            registration:
              style: unified
              after:
                password:
                  hooks:
                    - hook: session
          methods:
            password:
              config:
                haveibeenpwned_enabled: false
            totp:
              enabled: {(secondFactors ? "true" : "false")}
        session:
          whoami:
            required_aal: {(secondFactors ? "highest_available" : "aal1")}
            cache:
              enabled: {(whoamiCache ? "true" : "false")}
        gatehouse:
          rate_limits:
            enabled: {(rateLimits ? "true" : "false")}
            exempt_loopback: false
            flows_per_address:
              limit: 1000000000
            login_per_address:
              limit: 1000000000
        """;

    private readonly CpuMeter _serverCpu = new(server.Pid, options.PostgresDsn);
    private readonly CpuMeter _bareCpu = new(bare.Pid, null);
    private readonly PasswordHasher _hasher = new(new HashersOptions { Algorithm = "bcrypt", Bcrypt = new BcryptOptions { Cost = options.BcryptCost } });

    /// <summary>Calls of a path before it is measured: past .NET's tier-1 recompilation threshold (30 calls).</summary>
    private const int WarmUpCalls = 40;

    // Accounts the flood's warm-up slices target, one per slice (the last one again once they run out).
    private const int FloodWarmUpAccounts = 8;

    public async Task<SessionsReport> RunAsync()
    {
        var report = new SessionsReport(server.Provider, options);
        using var admin = LoadLoops.Client(server.Admin, 1);
        var hash = _hasher.Hash(Password);
        var ids = await ImportAsync(admin, hash, report);
        var tokens = await InsertSessionsAsync(ids, report);

        using var gatehouse = LoadLoops.Client(server.Public, int.MaxValue);
        using var ceiling = LoadLoops.Client(bare.Url, int.MaxValue);
        await CheckWhoamiAsync(gatehouse, tokens[0], ids[0]);
        if (options.MfaShare > 0) await CheckAalAsync(gatehouse, tokens, ids);

        Func<int, Random, Task<bool>> Whoami(HttpClient http) => (_, random) => WhoamiAsync(http, tokens[random.Next(tokens.Length)]);
        // Every session's first whoami reads the database (with the cache on, it also fills the cache): measured on
        // its own, in a random order, so that the loops below measure the steady state an app sees when it asks for
        // the same sessions again and again.
        var order = Enumerable.Range(0, tokens.Length).ToArray();
        new Random(11).Shuffle(order);
        Console.Error.WriteLine($"first whoami of each of the {tokens.Length:N0} sessions ({options.Concurrency} clients) ...");
        report.FirstPass = await LoadLoops.PassAsync("gatehouse whoami, first of each session", options.Concurrency, order.Length, i => WhoamiAsync(gatehouse, tokens[order[i]]), _serverCpu);
        Console.Error.WriteLine("warming up whoami ...");
        await LoadLoops.ClosedAsync("warm-up", options.Concurrency, TimeSpan.FromSeconds(3), Whoami(ceiling), _bareCpu);
        await LoadLoops.ClosedAsync("warm-up", options.Concurrency, TimeSpan.FromSeconds(3), Whoami(gatehouse), _serverCpu);

        var duration = TimeSpan.FromSeconds(options.Seconds);
        for (var round = 1; round <= options.Rounds; round++)
        {
            // Alternate so both see the same machine noise.
            Console.Error.WriteLine($"whoami closed loop, round {round}: bare endpoint, then gatehouse ({options.Concurrency} clients, {options.Seconds} s each) ...");
            report.Closed.Add((await LoadLoops.ClosedAsync($"bare endpoint, round {round}", options.Concurrency, duration, Whoami(ceiling), _bareCpu),
                await LoadLoops.ClosedAsync($"gatehouse whoami, round {round}", options.Concurrency, duration, Whoami(gatehouse), _serverCpu)));
        }
        Console.Error.WriteLine($"whoami open loop at {options.Rate}/s ...");
        report.OpenBare = await LoadLoops.OpenAsync("bare endpoint", options.Rate, duration, r => WhoamiAsync(ceiling, tokens[r.Next(tokens.Length)]), _bareCpu);
        report.OpenGatehouse = await LoadLoops.OpenAsync("gatehouse whoami", options.Rate, duration, r => WhoamiAsync(gatehouse, tokens[r.Next(tokens.Length)]), _serverCpu);
        var victim = IdentityImport.Email("user", 0);
        if (options.FloodRate > 0)
        {
            // Brute force against one account: wrong passwords at a fixed rate, spread over a few API flows (a flow
            // takes any number of submissions), while whoami runs its open loop again.
            Console.Error.WriteLine($"whoami open loop at {options.Rate}/s during {options.FloodRate}/s wrong-password logins against one account ...");
            using var flooder = LoadLoops.Client(server.Public, int.MaxValue);
            var flows = new string[32];
            for (var f = 0; f < flows.Length; f++) flows[f] = await NewFlowAsync(flooder, "login");
            // Warm-up, as for whoami above: the wrong-password path and the refusal (429) path run for the first time in
            // this process here, so JIT and first-use costs would otherwise be charged to the flood's first second. The
            // warm-up account (identity 1) is not the victim and is left out of the login phase below.
            Console.Error.WriteLine("warming up wrong-password logins and their refusal ...");
            var warmUpReport = new SessionsReport(server.Provider, options);
            for (var i = 0; i < 2 * WarmUpCalls; i++) await WrongLoginAsync(flooder, flows[i % flows.Length], IdentityImport.Email("user", 1), warmUpReport);
            // Then the flood's own steady state: the same two open loops (the flood against the warm-up account, whoami)
            // in slices until the tiered JIT compiler stays idle for two slices in a row (after one, the measured flood
            // still showed 0.06-0.08 cores of JIT in quiet runs). The sequential warm-up above ran the path, but a server
            // pinned to one CPU starts counting calls for tier-1 only after a second without new tier-0 code, so without
            // this the flood's first second ran tier-0 code with the JIT compiling beside it (perf sched: the server's
            // pool threads busy for ~100 ms at a time while whoami waited; see docs/benchmarks.md).
            // Each slice floods an account not refused yet (identities 2 to 1 + FloodWarmUpAccounts), so the path of a new
            // flood's first requests (allowed attempts, the database's first refusal) warms up too, not only the refusal.
            var warmUpAccount = 1;
            var warmUp = await ThreadCpu.WarmUntilJitQuietAsync(server.Pid, async slice =>
            {
                var account = IdentityImport.Email("user", Math.Min(++warmUpAccount, 1 + FloodWarmUpAccounts));
                var warmFlood = LoadLoops.OpenAsync("warm-up flood", options.FloodRate, slice,
                    r => WrongLoginAsync(flooder, flows[r.Next(flows.Length)], account, warmUpReport), _serverCpu);
                await LoadLoops.OpenAsync("warm-up whoami during the flood", options.Rate, slice, r => WhoamiAsync(gatehouse, tokens[r.Next(tokens.Length)]), _serverCpu);
                await warmFlood;
            }, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(120), quietSlices: 2);
            Console.Error.WriteLine($"flood warm-up until the JIT was idle: {warmUp.TotalSeconds:0} s");
            // Where the server's CPU went during the flood (its threads: the collector's, the hashing queue's, the thread
            // pool's), and what the driver itself used on the same machine.
            Console.Error.WriteLine("the flood starts ...");
            var threadsBefore = ThreadCpu.Snapshot(server.Pid);
            var driverBefore = LoadLoops.DriverCpu();
            await using var jitMeter = JitMeter.Start(server.Pid);
            var flood = LoadLoops.OpenAsync("wrong-password logins against one account", options.FloodRate, duration,
                r => WrongLoginAsync(flooder, flows[r.Next(flows.Length)], victim, report), _serverCpu);
            report.OpenGatehouseUnderFlood = await LoadLoops.OpenAsync("gatehouse whoami during the flood", options.Rate, duration, r => WhoamiAsync(gatehouse, tokens[r.Next(tokens.Length)]), _serverCpu);
            report.Flood = await flood;
            var driverCpu = LoadLoops.DriverCpu() - driverBefore;
            var threadsAfter = ThreadCpu.Snapshot(server.Pid);
            var gc = ThreadCpu.Between(threadsBefore, threadsAfter, ".NET Server GC") + ThreadCpu.Between(threadsBefore, threadsAfter, ".NET BGC");
            var hashing = ThreadCpu.Between(threadsBefore, threadsAfter, "gatehouse-hash");
            var pool = ThreadCpu.Between(threadsBefore, threadsAfter, ".NET TP Worker");
            var jit = await jitMeter.StopAsync(); // polled: the JIT's thread exits when idle and another starts later
            int PoolThreads(Dictionary<int, (string Name, long Ticks)> t) => t.Values.Count(v => v.Name.StartsWith(".NET TP Worker", StringComparison.Ordinal));
            var seconds = report.Flood.Wall.TotalSeconds;
            report.FloodThreads = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"server threads during the flood, in cores: thread-pool workers {pool.TotalSeconds / seconds:0.00} ({PoolThreads(threadsBefore)} → {PoolThreads(threadsAfter)} threads), hashing queue {hashing.TotalSeconds / seconds:0.00}, server GC threads {gc.TotalSeconds / seconds:0.00}, tiered JIT compiler {jit.TotalSeconds / seconds:0.00}; the load driver (both loops, same machine) {driverCpu.TotalSeconds / seconds:0.00} cores");
        }

        var authDuration = TimeSpan.FromSeconds(options.AuthSeconds);
        var threads = options.AuthConcurrency;
        Console.Error.WriteLine($"hasher alone ({threads} threads, bcrypt cost {options.BcryptCost}) ...");
        report.Hasher.Add(LoadLoops.Threads("hasher: Verify (login's cost), before", threads, authDuration, () => _hasher.Verify(Password, hash)));
        report.Hasher.Add(LoadLoops.Threads("hasher: Hash (registration's cost), before", threads, authDuration, () => _hasher.Hash(Password)));

        // Identity 0 was the flood's target and identities 1 to 1 + FloodWarmUpAccounts its warm-up (all may still be
        // refused); the logins use the others.
        var firstLogin = options.FloodRate > 0 ? 2 + FloodWarmUpAccounts : 2;
        var loginEmails = Enumerable.Range(firstLogin, ids.Count - firstLogin).Select(i => IdentityImport.Email("user", i)).ToArray();
        var next = 0;
        // Warm-up, so that JIT and first-use costs of these paths are not charged to the few dozen operations measured.
        // .NET compiles a method quickly first and recompiles it optimised (tier 1) on a background thread once it has
        // been called 30 times; with one warm-up call per client that recompilation ran inside the login phase and cost
        // 1.4 s of CPU there, about 40 ms per login (with DOTNET_TieredCompilation=0 the login/hasher ratio was 96%). So
        // each path runs past that threshold first, and the background compiler gets a moment to finish.
        Console.Error.WriteLine($"warming up login and registration ({WarmUpCalls} each) ...");
        var warmed = -1;
        await Task.WhenAll(Enumerable.Range(0, threads).Select(async t =>
        {
            while (Interlocked.Increment(ref warmed) < WarmUpCalls)
            {
                await LoginAsync(gatehouse, loginEmails[t]);
                await RegisterAsync(gatehouse, IdentityImport.Email("reg", Interlocked.Increment(ref next)));
            }
        }));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Console.Error.WriteLine($"login, {threads} clients ...");
        report.Login = await LoadLoops.ClosedAsync("login (API flow: GET /self-service/login/api + POST)", threads, authDuration,
            (_, random) => LoginAsync(gatehouse, loginEmails[random.Next(loginEmails.Length)]), _serverCpu);
        Console.Error.WriteLine($"registration, {threads} clients ...");
        report.Registration = await LoadLoops.ClosedAsync("registration (API flow, unified, session hook)", threads, authDuration,
            (_, _) => RegisterAsync(gatehouse, IdentityImport.Email("reg", Interlocked.Increment(ref next))), _serverCpu);

        report.Hasher.Add(LoadLoops.Threads("hasher: Verify (login's cost), after", threads, authDuration, () => _hasher.Verify(Password, hash)));
        report.Hasher.Add(LoadLoops.Threads("hasher: Hash (registration's cost), after", threads, authDuration, () => _hasher.Hash(Password)));
        report.LoadAtEnd = Report.LoadAverage();
        return report;
    }

    private async Task<List<Guid>> ImportAsync(HttpClient admin, string hash, SessionsReport report)
    {
        Console.Error.WriteLine($"importing {options.Count} identities (pre-hashed, bcrypt cost {options.BcryptCost}) ...");
        var ids = new List<Guid>(options.Count);
        var wall = Stopwatch.StartNew();
        for (int b = 0, from = 0; from < options.Count; b++, from += options.BatchSize)
        {
            var to = Math.Min(options.Count, from + options.BatchSize);
            ids.AddRange(IdentityImport.CreatedIds(await IdentityImport.SendBatchAsync(admin, IdentityImport.BatchBody("user", from, to, hash, options.HasSecondFactor), b), to - from, b));
        }
        report.ImportTime = wall.Elapsed;
        return ids;
    }

    /// <summary>
    /// Writes <c>--sessions</c> sessions (identity i % N) straight into the database, each with one device, built as
    /// <see cref="SessionManager.IssueAsync"/> builds them (token = <see cref="SessionTokens.NewSessionToken"/>, stored
    /// as its SHA-256, logout token derived from it) and inserted through the server's own <see cref="BulkInsert"/>,
    /// so the rows are stored exactly as EF stores them. Returns the plaintext tokens.
    /// </summary>
    private async Task<string[]> InsertSessionsAsync(List<Guid> ids, SessionsReport report)
    {
        Console.Error.WriteLine($"inserting {options.Sessions} sessions ...");
        var wall = Stopwatch.StartNew();
        var dsn = Dsn.Parse(server.Dsn);
        await using GatehouseDbContext db = dsn.Provider == DatabaseProvider.Sqlite
            ? new SqliteGatehouseDbContext(Options<SqliteGatehouseDbContext>(o => PersistenceServiceCollectionExtensions.ConfigureSqlite(o, dsn.ConnectionString)))
            : new PostgresGatehouseDbContext(Options<PostgresGatehouseDbContext>(o => PersistenceServiceCollectionExtensions.ConfigurePostgres(o, dsn.ConnectionString)));
        var tokens = new string[options.Sessions];
        var now = DateTime.UtcNow;
        now = new DateTime(now.Ticks - now.Ticks % 10, DateTimeKind.Utc); // microseconds, as SessionManager.Now()
        var methods = SessionJson.SerializeMethods([SessionJson.MethodNode(new AuthenticationMethod("password", "aal1", now))]);
        var methodsAal2 = SessionJson.SerializeMethods([SessionJson.MethodNode(new AuthenticationMethod("password", "aal1", now)), SessionJson.MethodNode(new AuthenticationMethod("totp", "aal2", now))]);
        const int Chunk = 10_000;
        for (var from = 0; from < options.Sessions; from += Chunk)
        {
            var sessions = new List<Session>(Chunk);
            var devices = new List<SessionDevice>(Chunk);
            for (var i = from; i < Math.Min(options.Sessions, from + Chunk); i++)
            {
                var token = tokens[i] = SessionTokens.NewSessionToken();
                var aal2 = options.HasSecondFactor(i % ids.Count);
                var session = new Session
                {
                    Id = Guid.CreateVersion7(),
                    Nid = db.Nid,
                    IdentityId = ids[i % ids.Count],
                    TokenHash = SessionTokens.Hash(token),
                    LogoutTokenHash = SessionTokens.Hash(SessionTokens.LogoutTokenFor(token)),
                    Active = true,
                    AuthenticatedAt = now,
                    IssuedAt = now,
                    ExpiresAt = now + TimeSpan.FromHours(24),
                    Aal = aal2 ? "aal2" : "aal1",
                    AuthenticationMethods = aal2 ? methodsAal2 : methods,
                    CreatedAt = now,
                    UpdatedAt = now,
                };
                sessions.Add(session);
                devices.Add(new SessionDevice
                {
                    Id = Guid.CreateVersion7(), Nid = db.Nid, SessionId = session.Id,
                    IpAddress = "127.0.0.1", UserAgent = "Gatehouse.Bench", Location = "", CreatedAt = now, UpdatedAt = now,
                });
            }
            await using var tx = await db.Database.BeginTransactionAsync();
            // At most one multi-row statement per call on PostgreSQL: re-executing BulkInsert's command for a second
            // statement of the same text failed there with a duplicate primary key (seen only here; the batch
            // import's 1000-identity batches always fit in one statement per table).
            foreach (var part in sessions.Chunk(1000)) await BulkInsert.InsertAsync(db, part, CancellationToken.None);
            foreach (var part in devices.Chunk(1000)) await BulkInsert.InsertAsync(db, part, CancellationToken.None);
            await tx.CommitAsync();
        }
        report.InsertTime = wall.Elapsed;
        return tokens;
    }

    private static DbContextOptions<T> Options<T>(Action<DbContextOptionsBuilder> configure) where T : DbContext
    {
        var builder = new DbContextOptionsBuilder<T>();
        configure(builder);
        return builder.Options;
    }

    private static async Task CheckWhoamiAsync(HttpClient http, string token, Guid identityId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "sessions/whoami");
        request.Headers.Add(SessionManager.SessionTokenHeader, token);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK || JsonNode.Parse(body)?["identity"]?["id"]?.GetValue<string>() != identityId.ToString())
            throw new InvalidOperationException($"whoami with an inserted token: HTTP {(int)response.StatusCode}: {body}");
        using var bad = new HttpRequestMessage(HttpMethod.Get, "sessions/whoami");
        bad.Headers.Add(SessionManager.SessionTokenHeader, SessionTokens.NewSessionToken());
        using var unauthorized = await http.SendAsync(bad);
        if (unauthorized.StatusCode != HttpStatusCode.Unauthorized) throw new InvalidOperationException($"whoami with an unknown token: HTTP {(int)unauthorized.StatusCode}");
    }

    /// <summary>
    /// With second factors: an aal2 session of an identity with TOTP answers 200 at aal2, and a fresh password login of such
    /// an identity (aal1) is refused 403 <c>session_aal2_required</c> — so the loops below do run the AAL check.
    /// </summary>
    private async Task CheckAalAsync(HttpClient http, string[] tokens, List<Guid> ids)
    {
        var i = Enumerable.Range(0, Math.Min(tokens.Length, ids.Count)).First(options.HasSecondFactor);
        using (var request = new HttpRequestMessage(HttpMethod.Get, "sessions/whoami"))
        {
            request.Headers.Add(SessionManager.SessionTokenHeader, tokens[i]);
            using var response = await http.SendAsync(request);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync());
            if (response.StatusCode != HttpStatusCode.OK || (string?)body?["authenticator_assurance_level"] != "aal2")
                throw new InvalidOperationException($"whoami of an aal2 session: HTTP {(int)response.StatusCode}: {body?.ToJsonString()}");
        }
        var flow = await NewFlowAsync(http, "login");
        using var login = new HttpRequestMessage(HttpMethod.Post, $"self-service/login?flow={flow}")
        {
            Content = JsonContent.Create(new JsonObject { ["method"] = "password", ["identifier"] = IdentityImport.Email("user", i), ["password"] = Password }),
        };
        using var signedIn = await http.SendAsync(login);
        var token = (string?)JsonNode.Parse(await signedIn.Content.ReadAsStringAsync())?["session_token"]
            ?? throw new InvalidOperationException($"password login of an identity with TOTP: HTTP {(int)signedIn.StatusCode}");
        using var whoami = new HttpRequestMessage(HttpMethod.Get, "sessions/whoami");
        whoami.Headers.Add(SessionManager.SessionTokenHeader, token);
        using var refused = await http.SendAsync(whoami);
        var text = await refused.Content.ReadAsStringAsync();
        if (refused.StatusCode != HttpStatusCode.Forbidden || !text.Contains("session_aal2_required", StringComparison.Ordinal))
            throw new InvalidOperationException($"whoami of an aal1 session of an identity with TOTP: HTTP {(int)refused.StatusCode}: {text}");
    }

    private static async Task<bool> WhoamiAsync(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "sessions/whoami");
        request.Headers.Add(SessionManager.SessionTokenHeader, token);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
            return response.StatusCode == HttpStatusCode.OK && response.Content.Headers.ContentLength is > 0;
        }
        catch (HttpRequestException)
        {
            return false; // counted as an error (an overloaded server may drop connections)
        }
    }

    private static async Task<bool> LoginAsync(HttpClient http, string email) =>
        await SubmitAsync(http, "login", new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = Password }, "session_token");

    private static async Task<bool> RegisterAsync(HttpClient http, string email) =>
        await SubmitAsync(http, "registration", new JsonObject { ["method"] = "password", ["traits"] = new JsonObject { ["email"] = email }, ["password"] = Password }, "session_token");

    private static async Task<string> NewFlowAsync(HttpClient http, string flow)
    {
        using var init = new HttpRequestMessage(HttpMethod.Get, $"self-service/{flow}/api");
        init.Headers.Accept.Add(new("application/json"));
        using var created = await http.SendAsync(init);
        var text = await created.Content.ReadAsStringAsync();
        if (created.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"creating a {flow} flow: HTTP {(int)created.StatusCode}: {text}");
        return JsonNode.Parse(text)!["id"]!.GetValue<string>();
    }

    /// <summary>One wrong password; true for the answers brute force should get (400 wrong credentials, 429 refused), counted by status.</summary>
    private static async Task<bool> WrongLoginAsync(HttpClient http, string flowId, string identifier, SessionsReport report)
    {
        var body = new JsonObject { ["method"] = "password", ["identifier"] = identifier, ["password"] = "not-the-password" };
        try
        {
            using var submit = await http.PostAsync(new Uri($"self-service/login?flow={flowId}", UriKind.Relative), JsonContent.Create(body));
            await submit.Content.LoadIntoBufferAsync();
            report.CountFloodAnswer((int)submit.StatusCode);
            return submit.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.TooManyRequests;
        }
        catch (HttpRequestException)
        {
            report.CountFloodAnswer(0); // no answer (connection refused or reset)
            return false;
        }
    }

    /// <summary>A native (API) flow: create it, submit it; true when the answer is 200 with <paramref name="expect"/>.</summary>
    private static async Task<bool> SubmitAsync(HttpClient http, string flow, JsonObject body, string expect)
    {
        using var init = new HttpRequestMessage(HttpMethod.Get, $"self-service/{flow}/api");
        init.Headers.Accept.Add(new("application/json"));
        using var created = await http.SendAsync(init);
        if (created.StatusCode != HttpStatusCode.OK) return Fail(flow, created.StatusCode, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        using var submit = await http.PostAsync(new Uri($"self-service/{flow}?flow={id}", UriKind.Relative), JsonContent.Create(body));
        var text = await submit.Content.ReadAsStringAsync();
        if (submit.StatusCode != HttpStatusCode.OK || !text.Contains($"\"{expect}\"", StringComparison.Ordinal)) return Fail(flow, submit.StatusCode, text);
        return true;
    }

    private static int _reportedFailures;

    private static bool Fail(string flow, HttpStatusCode status, string body)
    {
        if (Interlocked.Increment(ref _reportedFailures) <= 5) Console.Error.WriteLine($"  {flow} failed: HTTP {(int)status}: {body[..Math.Min(500, body.Length)]}");
        return false;
    }
}
