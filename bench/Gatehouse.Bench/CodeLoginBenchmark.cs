using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Gatehouse.Bench;

/// <summary>
/// Server CPU of one passwordless code login against a real <c>gatehouse serve</c> (SQLite): create an API login flow,
/// request the code (<c>{method: code, identifier}</c> → 400 <c>sent_email</c>, the mail queued but not delivered: no
/// courier worker runs) and verify it (<c>{method: code, identifier, code}</c> → 200 with a session). The driver reads
/// each code from the queued message in the database file (its own CPU, not the server's). Server CPU is the gatehouse
/// process's utime + stime from /proc before and after the loop, divided by the logins, so other work on a busy machine
/// does not count (only the server's own work, plus its background timers during the loop).
/// </summary>
internal static class CodeLoginBenchmark
{
    private const string Schema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": { "type": "string", "format": "email",
              "ory.sh/kratos": { "credentials": { "code": { "identifier": true, "via": "email" } }, "verification": { "via": "email" } } }
          },
          "required": ["email"]
        }
      }
    }
    """;

    /// <summary>
    /// The server's config: passwordless codes on, the flows-per-address limit off (one driver address), and the
    /// mails-per-recipient limit raised (still counted, so the measured path is the default one) for the steady-state
    /// warm-up, which signs the warm-up identities in many times each.
    /// </summary>
    public static string ServerConfig(string work)
    {
        var schema = Path.Combine(work, "code.schema.json");
        File.WriteAllText(schema, Schema);
        return $$"""
            identity:
              default_schema_id: code
              schemas:
                - id: code
                  url: file://{{schema}}
            selfservice:
              methods:
                code:
                  passwordless_enabled: true
            courier:
              smtp:
                connection_uri: smtp://127.0.0.1:1/?disable_starttls=true
            gatehouse:
              rate_limits:
                flows_per_address:
                  limit: 0
                mails_per_recipient:
                  limit: 1000000
            """;
    }

    public static async Task<string> RunAsync(GatehouseProcess server, int count, int warmUp)
    {
        if (server.Provider != "SQLite") throw new InvalidOperationException("the code-login scenario reads codes from the SQLite file; run it without --postgres");
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var emails = Enumerable.Range(0, count + warmUp).Select(i => $"code-bench-{i}@example.com").ToList();
        foreach (var batch in emails.Chunk(1000))
        {
            var body = new JsonObject { ["identities"] = new JsonArray([.. batch.Select(e => (JsonNode)new JsonObject { ["create"] = new JsonObject { ["schema_id"] = "code", ["traits"] = new JsonObject { ["email"] = e } } })]) };
            using var import = await http.PatchAsync(new Uri(server.Admin, "admin/identities"), new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
            if (import.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"import answered {(int)import.StatusCode}: {await import.Content.ReadAsStringAsync()}");
        }
        await using var db = new SqliteConnection($"Data Source={server.Dsn["sqlite://".Length..].Split('?')[0]};Mode=ReadOnly");
        await db.OpenAsync();

        // Warm-up (JIT, caches) with the last --warmup identities, then the measured phases: all flows created, all codes
        // requested, all codes verified — each phase's server CPU on its own, so the total and where it goes are both known.
        // .NET's tiered compiler recompiles a method after 30 calls, in the background and only once no new method has
        // been compiled for 100 ms, so a short warm-up leaves its work inside the measured phases: it runs in two halves,
        // each followed by a wait until the compiler's thread is idle, and that thread is reported on its own.
        for (var i = 0; i < warmUp; i++)
        {
            var warm = await CreateFlowAsync(http, server);
            await RequestCodeAsync(http, warm, emails[count + i]);
            await VerifyAsync(http, db, warm, emails[count + i]);
            if (i == warmUp / 2 || i == warmUp - 1) await ThreadCpu.WaitForJitQuietAsync(server.Pid, TimeSpan.FromSeconds(30));
        }
        // Then on to the steady state, as the other scenarios: logins in 1-second slices until two slices in a row pass
        // with the JIT idle. The fixed warm-up alone left the JIT compiling during the measured phases (0.12 ms of its
        // thread per login in the quiet run of 2026-12-05 13:51), i.e. parts of the path still ran tier-0 code.
        var next = 0;
        var steady = warmUp == 0 ? TimeSpan.Zero : await ThreadCpu.WarmUntilJitQuietAsync(server.Pid, async slice =>
        {
            var until = Stopwatch.StartNew();
            while (until.Elapsed < slice)
            {
                var email = emails[count + next++ % warmUp];
                var warm = await CreateFlowAsync(http, server);
                await RequestCodeAsync(http, warm, email);
                await VerifyAsync(http, db, warm, email);
            }
        }, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(90), quietSlices: 2);
        if (warmUp > 0) await ThreadCpu.WaitForJitQuietAsync(server.Pid, TimeSpan.FromSeconds(30));
        var meter = new CpuMeter(server.Pid, null);
        var wall = Stopwatch.StartNew();
        var (user0, system0) = UserSystem(server.Pid);
        var threads0 = ThreadCpu.Snapshot(server.Pid);
        var t0 = meter.Read().Gatehouse;
        var flows = new Uri[count];
        for (var i = 0; i < count; i++) flows[i] = await CreateFlowAsync(http, server);
        var t1 = meter.Read().Gatehouse;
        for (var i = 0; i < count; i++) await RequestCodeAsync(http, flows[i], emails[i]);
        // Every mailed code read at once, so the verifications follow each other as the code requests do: read one by one
        // (a scan of the courier table per login), the driver's read left the server idle before every verification, and
        // each then paid for waking the thread pool (see "Thread-pool spinning" in docs/benchmarks.md).
        var codes = await CodesAsync(db, emails.Take(count));
        var t2 = meter.Read().Gatehouse;
        for (var i = 0; i < count; i++) await VerifyAsync(http, flows[i], emails[i], codes[emails[i]]);
        var t3 = meter.Read().Gatehouse;
        var (user3, system3) = UserSystem(server.Pid);
        var threads3 = ThreadCpu.Snapshot(server.Pid);
        wall.Stop();
        var cpu = t3 - t0;
        var jit = ThreadCpu.Between(threads0, threads3, ".NET Tiered");
        var gc = ThreadCpu.Between(threads0, threads3, ".NET Server GC") + ThreadCpu.Between(threads0, threads3, ".NET BGC");

        string Ms(double v) => v.ToString("0.000", CultureInfo.InvariantCulture) + " ms";
        var md = new StringBuilder();
        md.AppendLine("| measure | value |").AppendLine("|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| passwordless code logins (create flow + request code + verify), after {warmUp} warm-up logins and {next} more until the JIT was idle for two 1-second slices ({steady.TotalSeconds:0} s) | {count} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| server CPU per login (gatehouse process, /proc) | {Ms(cpu.TotalMilliseconds / count)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| of which user / kernel (utime / stime) | {Ms((user3 - user0) * 10.0 / count)} / {Ms((system3 - system0) * 10.0 / count)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| of which the tiered JIT compiler's thread / the GC threads | {Ms(jit.TotalMilliseconds / count)} / {Ms(gc.TotalMilliseconds / count)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| server CPU per login without the tiered JIT compiler's thread | {Ms((cpu - jit).TotalMilliseconds / count)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| of which: create the API login flow | {Ms((t1 - t0).TotalMilliseconds / count)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| of which: request the code (400 sent_email, mail queued) | {Ms((t2 - t1).TotalMilliseconds / count)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| of which: verify the code (200 with a session) | {Ms((t3 - t2).TotalMilliseconds / count)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| wall per login (driver, sequential, includes the driver's database read) | {Ms(wall.Elapsed.TotalMilliseconds / count)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| load average at the end | {File.ReadAllText("/proc/loadavg").Split(' ')[0]} |");
        return md.ToString();
    }

    private static async Task<Uri> CreateFlowAsync(HttpClient http, GatehouseProcess server)
    {
        var flow = await http.GetFromJsonAsync<JsonObject>(new Uri(server.Public, "self-service/login/api")) ?? throw new InvalidOperationException("no flow");
        return new Uri(server.Public, $"self-service/login?flow={flow["id"]}");
    }

    private static async Task RequestCodeAsync(HttpClient http, Uri submit, string email)
    {
        using var sent = await http.PostAsync(submit, Json(new JsonObject { ["method"] = "code", ["identifier"] = email }));
        if (sent.StatusCode != HttpStatusCode.BadRequest) throw new InvalidOperationException($"code request answered {(int)sent.StatusCode}: {await sent.Content.ReadAsStringAsync()}");
    }

    /// <summary>A warm-up verification: the code read, then sent.</summary>
    private static async Task VerifyAsync(HttpClient http, SqliteConnection db, Uri submit, string email) =>
        await VerifyAsync(http, submit, email, await CodeAsync(db, email));

    /// <summary>The code last mailed to <paramref name="email"/>.</summary>
    private static async Task<string> CodeAsync(SqliteConnection db, string email)
    {
        await using var query = db.CreateCommand();
        query.CommandText = """SELECT "TemplateData" FROM courier_messages WHERE "Recipient" = $r ORDER BY "CreatedAt" DESC LIMIT 1""";
        query.Parameters.AddWithValue("$r", email);
        var data = (string?)await query.ExecuteScalarAsync() ?? throw new InvalidOperationException($"no code mailed to {email}");
        return JsonNode.Parse(data)!["login_code"]!.GetValue<string>();
    }

    /// <summary>The code last mailed to each of <paramref name="emails"/>, in one read of the courier table.</summary>
    private static async Task<Dictionary<string, string>> CodesAsync(SqliteConnection db, IEnumerable<string> emails)
    {
        var wanted = emails.ToHashSet(StringComparer.Ordinal);
        var codes = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var query = db.CreateCommand();
        query.CommandText = """SELECT "Recipient", "TemplateData" FROM courier_messages ORDER BY "CreatedAt" """;
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var recipient = reader.GetString(0);
            if (wanted.Contains(recipient) && JsonNode.Parse(reader.GetString(1))?["login_code"] is { } code) codes[recipient] = code.GetValue<string>();
        }
        foreach (var email in wanted) if (!codes.ContainsKey(email)) throw new InvalidOperationException($"no code mailed to {email}");
        return codes;
    }

    private static async Task VerifyAsync(HttpClient http, Uri submit, string email, string code)
    {
        using var done = await http.PostAsync(submit, Json(new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = code }));
        if (done.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"code login answered {(int)done.StatusCode}: {await done.Content.ReadAsStringAsync()}");
    }

    /// <summary>utime and stime of a process in clock ticks (10 ms).</summary>
    private static (long User, long System) UserSystem(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(f[11], CultureInfo.InvariantCulture), long.Parse(f[12], CultureInfo.InvariantCulture));
    }

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");
}
