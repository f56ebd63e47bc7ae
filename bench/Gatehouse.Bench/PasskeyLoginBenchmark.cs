using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Sessions;

namespace Gatehouse.Bench;

/// <summary>
/// Issue 12's whole-login target: server CPU of a passkey sign-in through the API (GET /self-service/login/api, then
/// POST with the authenticator's answer) against whoami's server CPU plus one assertion verification (the in-process
/// figure of <see cref="WebAuthnBenchmark"/>), all measured in one run. The answers are signed by the driver with a
/// software P-256 key (its CPU is the driver's, not the server's); every identity holds one imported passkey, sign count
/// 0 (an authenticator without a counter, so concurrent sign-ins of one account stay valid).
/// </summary>
internal sealed class PasskeyLoginBenchmark(GatehouseProcess server, BenchOptions options)
{
    /// <summary>The server's passkey method: RP example.com, the driver's answers claim https://auth.example.com.</summary>
    public const string ServerConfig = """
        selfservice:
          methods:
            passkey:
              enabled: true
              config:
                rp:
                  id: example.com
                  display_name: Gatehouse bench
                  origins:
                    - https://auth.example.com
        """;

    private const int WarmUpCalls = 40; // past .NET's tier-1 recompilation threshold, as in the sessions scenario

    /// <summary>Load slices of a warm-up that runs until the JIT is idle under load (<see cref="ThreadCpu.WarmUntilJitQuietAsync"/>).</summary>
    private static readonly TimeSpan JitSlice = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan JitLimit = TimeSpan.FromSeconds(60);

    private readonly CpuMeter _serverCpu = new(server.Pid, options.PostgresDsn);
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private sealed record Account(byte[] CredentialId, byte[] Handle);

    public async Task<string> RunAsync()
    {
        using var admin = LoadLoops.Client(server.Admin, 4);
        using var http = LoadLoops.Client(server.Public, int.MaxValue);
        var accounts = await ImportAsync(admin);

        Console.Error.WriteLine($"warming up passkey sign-in ({WarmUpCalls}) and collecting session tokens ...");
        var tokens = new List<string>();
        for (var i = 0; i < WarmUpCalls; i++) tokens.Add(await PasskeyLoginAsync(http, accounts[i % accounts.Count]) ?? throw new InvalidOperationException("a warm-up passkey sign-in failed; see the server log"));
        // Steady state before measuring, as in the oauth2 scenario: a fixed warm-up followed by an idle wait left the JIT
        // compiling the sign-in path inside the measured phase (0.6 ms of its thread's CPU per sign-in on a quiet
        // machine), so the warm-up goes on under load in slices until a pause and a slice pass with the JIT thread under
        // 1 ms of CPU (ThreadCpu.WarmUntilJitQuietAsync; at most 60 s).
        var duration = TimeSpan.FromSeconds(options.Seconds);
        var threads = options.AuthConcurrency;
        var loginWarm = await ThreadCpu.WarmUntilJitQuietAsync(server.Pid,
            d => LoadLoops.ClosedAsync("warm-up", threads, d, async (_, random) => await PasskeyLoginAsync(http, accounts[random.Next(accounts.Count)]) is not null, _serverCpu),
            JitSlice, JitLimit);
        await ThreadCpu.WaitForJitQuietAsync(server.Pid, TimeSpan.FromSeconds(30));

        Console.Error.WriteLine($"passkey sign-in, {threads} clients, {options.Seconds} s ...");
        var loginJit = JitMeter.Start(server.Pid);
        var login = await LoadLoops.ClosedAsync("passkey sign-in (API flow: GET /self-service/login/api + POST)", threads, duration,
            async (_, random) => await PasskeyLoginAsync(http, accounts[random.Next(accounts.Count)]) is not null, _serverCpu);
        var loginJitMs = (await loginJit.StopAsync()).TotalMilliseconds / Math.Max(1, login.Ok);

        Console.Error.WriteLine($"whoami, {options.Concurrency} clients, {options.Seconds} s ...");
        var warm = tokens.ToArray();
        await LoadLoops.ClosedAsync("warm-up", options.Concurrency, TimeSpan.FromSeconds(3), (_, random) => WhoamiAsync(http, warm[random.Next(warm.Length)]), _serverCpu);
        var whoamiWarm = await ThreadCpu.WarmUntilJitQuietAsync(server.Pid,
            d => LoadLoops.ClosedAsync("warm-up", options.Concurrency, d, (_, random) => WhoamiAsync(http, warm[random.Next(warm.Length)]), _serverCpu),
            JitSlice, JitLimit);
        await ThreadCpu.WaitForJitQuietAsync(server.Pid, TimeSpan.FromSeconds(30));
        var whoamiJit = JitMeter.Start(server.Pid);
        var whoami = await LoadLoops.ClosedAsync("whoami", options.Concurrency, duration, (_, random) => WhoamiAsync(http, warm[random.Next(warm.Length)]), _serverCpu);

        var whoamiJitUs = (await whoamiJit.StopAsync()).TotalMilliseconds * 1000 / Math.Max(1, whoami.Ok);

        Console.Error.WriteLine("assertion verification in process ...");
        var verifyMs = await WebAuthnBenchmark.CpuPerVerificationAsync(3000);

        var loginMs = (login.ServerCpu + login.DatabaseCpu).TotalMilliseconds / Math.Max(1, login.Ok);
        var whoamiMs = (whoami.ServerCpu + whoami.DatabaseCpu).TotalMilliseconds / Math.Max(1, whoami.Ok);
        var budget = whoamiMs + verifyMs;
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(c, $"### {server.Provider}: passkey sign-in vs whoami + one assertion verification ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        md.AppendLine();
        md.AppendLine(c, $"Load average (1/5/15 min): {Report.LoadAverage()}. {accounts.Count} identities with one passkey each; {threads} sign-in clients, {options.Concurrency} whoami clients, {options.Seconds} s each.");
        md.AppendLine();
        md.AppendLine("| measure | value | target | |");
        md.AppendLine("|---|---|---|---|");
        md.AppendLine(c, $"| {login.Name} | {login.PerSecond:N0}/s ({login.Ok:N0} ok, {login.Failed} failed); p50 {login.Latency.P50:0.00} ms, p99 {login.Latency.P99:0.00} ms; **server CPU {loginMs:0.000} ms each** (of which the tiered JIT compiler's thread {loginJitMs:0.000} ms, from `schedstat`; warm-up until it was idle {loginWarm.TotalSeconds:0} s) | | |");
        md.AppendLine(c, $"| whoami (session token, cached) | {whoami.PerSecond:N0}/s; server CPU {whoamiMs * 1000:0} µs each (JIT thread {whoamiJitUs:0.0} µs; warm-up {whoamiWarm.TotalSeconds:0} s) | | |");
        md.AppendLine(c, $"| assertion verification, in process (thread CPU) | {verifyMs:0.000} ms | < 2 ms | {(verifyMs < 2 ? "met" : "**missed**")} |");
        md.AppendLine(c, $"| passkey sign-in CPU / (whoami CPU + verification CPU) | {loginMs:0.000} / ({whoamiMs:0.000} + {verifyMs:0.000}) ms = **{loginMs / budget:0.00}×** | ≤ 1.10× | {(loginMs / budget <= 1.10 ? "met" : "**missed**")} |");
        return md.ToString();
    }

    /// <summary>Imports <c>--count</c> identities (at most 1,000) each holding one passkey in Kratos's import shape.</summary>
    private async Task<List<Account>> ImportAsync(HttpClient admin)
    {
        var count = Math.Clamp(options.Count, WarmUpCalls, 1000);
        Console.Error.WriteLine($"importing {count} identities with a passkey ...");
        var publicKey = Convert.ToBase64String(WebAuthnBenchmark.CosePublicKey(_key));
        var accounts = new List<Account>(count);
        for (var i = 0; i < count; i++)
        {
            var account = new Account(RandomNumberGenerator.GetBytes(16), Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))));
            var body = new JsonObject
            {
                ["schema_id"] = "default",
                ["traits"] = new JsonObject { ["email"] = $"passkey-{i}@bench.example" },
                ["credentials"] = new JsonObject
                {
                    ["passkey"] = new JsonObject
                    {
                        ["config"] = new JsonObject
                        {
                            ["user_handle"] = Convert.ToBase64String(account.Handle),
                            ["credentials"] = new JsonArray(new JsonObject
                            {
                                ["id"] = Convert.ToBase64String(account.CredentialId),
                                ["public_key"] = publicKey,
                                ["attestation_type"] = "none",
                                ["authenticator"] = new JsonObject { ["aaguid"] = Convert.ToBase64String(new byte[16]), ["sign_count"] = 0 },
                                ["is_passwordless"] = true,
                            }),
                        },
                    },
                },
            };
            using var created = await admin.PostAsJsonAsync("admin/identities", body);
            if (created.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"import {i}: HTTP {(int)created.StatusCode}: {await created.Content.ReadAsStringAsync()}");
            accounts.Add(account);
        }
        return accounts;
    }

    /// <summary>One passkey sign-in through an API flow; the session token, or null when it did not succeed.</summary>
    private async Task<string?> PasskeyLoginAsync(HttpClient http, Account account)
    {
        try
        {
            using var init = new HttpRequestMessage(HttpMethod.Get, "self-service/login/api");
            init.Headers.Accept.Add(new("application/json"));
            using var created = await http.SendAsync(init);
            if (created.StatusCode != HttpStatusCode.OK) return null;
            var flow = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
            var challengeNode = flow["ui"]!["nodes"]!.AsArray().First(n => n!["attributes"]?["name"]?.GetValue<string>() == "passkey_challenge")!;
            var challenge = JsonNode.Parse(challengeNode["attributes"]!["value"]!.GetValue<string>())!["publicKey"]!["challenge"]!.GetValue<string>();
            var answer = WebAuthnBenchmark.Sign(_key, account.CredentialId, account.Handle, challenge, 0);
            using var submit = await http.PostAsJsonAsync($"self-service/login?flow={flow["id"]}", new JsonObject { ["method"] = "passkey", ["passkey_login"] = answer });
            if (submit.StatusCode != HttpStatusCode.OK) return null;
            return JsonNode.Parse(await submit.Content.ReadAsStringAsync())!["session_token"]!.GetValue<string>();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static async Task<bool> WhoamiAsync(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "sessions/whoami");
        request.Headers.Add(SessionManager.SessionTokenHeader, token);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
