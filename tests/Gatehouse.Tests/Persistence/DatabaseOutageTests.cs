using System.Diagnostics;
using System.Net;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Gatehouse.Tests.Persistence;

public sealed class DatabaseOutageTests
{
    private const string PgBin = "/usr/lib/postgresql/15/bin";

    // Every wait in these tests is bounded: the test as a whole, each request, each pg_ctl run, the recovery loop.
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 180_000)]
    public async Task While_a_private_postgres_is_down_requests_answer_503_with_retry_after_and_recover_without_restart()
    {
        if (!File.Exists(Path.Combine(PgBin, "pg_ctl"))) Assert.Skip($"PostgreSQL 15 binaries are not installed ({PgBin}); .ci/start-postgres.sh installs them");
        await using var cluster = await PrivateCluster.StartAsync();
        // Db.Sqlite only names a throwaway file that is never created: the server runs on the private cluster, and no
        // database is left behind on the shared one.
        await using var s = await TestServer.StartAsync(Db.Sqlite, o =>
        {
            Gatehouse.Tests.SelfService.FlowServerFixture.Configure(o);
            o.Dsn = cluster.Dsn;
        });
        var (_, token, _) = await Gatehouse.Tests.SelfService.FlowTestHelpers.RegisterApi(s);

        (await Whoami(s, token)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await Get(s.Public, "/health/ready")).StatusCode);

        await cluster.StopAsync();

        // A token whoami has never seen needs the database, whatever its cache holds.
        await AssertUnavailable(s);

        await cluster.StartAgainAsync();
        await AssertRecovered(s, token, TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = 120_000)]
    public async Task While_the_sqlite_database_file_is_unreachable_requests_answer_503_with_retry_after_and_recover_without_restart()
    {
        // The file's directory goes away (think of a detached volume) and comes back. Moving the directory keeps the
        // files intact; clearing this database's pool makes the next request open a new connection, which fails.
        var dir = Directory.CreateTempSubdirectory("gatehouse-outage-sqlite.").FullName;
        var away = dir + ".away";
        var dsn = "sqlite://" + Path.Combine(dir, "gatehouse.db") + "?_fk=true";
        try
        {
            await using var s = await TestServer.StartAsync(Db.Sqlite, o =>
            {
                Gatehouse.Tests.SelfService.FlowServerFixture.Configure(o);
                o.Dsn = dsn;
            });
            var (_, token, _) = await Gatehouse.Tests.SelfService.FlowTestHelpers.RegisterApi(s);
            (await Whoami(s, token)).EnsureSuccessStatusCode();

            Directory.Move(dir, away);
            ClearPool(dsn);
            await AssertUnavailable(s);

            Directory.Move(away, dir);
            await AssertRecovered(s, token, TestContext.Current.CancellationToken);
        }
        finally
        {
            ClearPool(dsn);
            foreach (var d in new[] { dir, away })
            {
                try { if (Directory.Exists(d)) Directory.Delete(d, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task While_a_private_postgres_is_down_the_oauth2_routes_answer_hydras_503_with_retry_after_and_recover_without_restart()
    {
        if (!File.Exists(Path.Combine(PgBin, "pg_ctl"))) Assert.Skip($"PostgreSQL 15 binaries are not installed ({PgBin}); .ci/start-postgres.sh installs them");
        await using var cluster = await PrivateCluster.StartAsync();
        await using var s = await TestServer.StartAsync(Db.Sqlite, o =>
        {
            Gatehouse.Tests.SelfService.FlowServerFixture.Configure(o);
            o.Dsn = cluster.Dsn;
        }, services => services.AddSingleton(new Gatehouse.OAuth2.Keys.KeyGeneration { RsaBits = 2048 }));
        var client = await OAuth2ClientAsync(s);
        (await ClientCredentialsAsync(s, client)).EnsureSuccessStatusCode();

        await cluster.StopAsync();
        await AssertOAuth2Unavailable(s, client);

        await cluster.StartAgainAsync();
        await AssertOAuth2Recovered(s, client, TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = 120_000)]
    public async Task While_the_sqlite_database_file_is_unreachable_the_oauth2_routes_answer_hydras_503_with_retry_after_and_recover_without_restart()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-outage-sqlite.").FullName;
        var away = dir + ".away";
        var dsn = "sqlite://" + Path.Combine(dir, "gatehouse.db") + "?_fk=true";
        try
        {
            await using var s = await TestServer.StartAsync(Db.Sqlite, o =>
            {
                Gatehouse.Tests.SelfService.FlowServerFixture.Configure(o);
                o.Dsn = dsn;
            }, services => services.AddSingleton(new Gatehouse.OAuth2.Keys.KeyGeneration { RsaBits = 2048 }));
            var client = await OAuth2ClientAsync(s);
            (await ClientCredentialsAsync(s, client)).EnsureSuccessStatusCode();

            Directory.Move(dir, away);
            ClearPool(dsn);
            await AssertOAuth2Unavailable(s, client);

            Directory.Move(away, dir);
            await AssertOAuth2Recovered(s, client, TestContext.Current.CancellationToken);
        }
        finally
        {
            ClearPool(dsn);
            foreach (var d in new[] { dir, away })
            {
                try { if (Directory.Exists(d)) Directory.Delete(d, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
    }

    private static async Task<(string Id, string Secret)> OAuth2ClientAsync(TestServer s)
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", """{"grant_types":["client_credentials"],"redirect_uris":["https://app.example/cb"]}""")).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>());
    }

    private static Task<HttpResponseMessage> ClientCredentialsAsync(TestServer s, (string Id, string Secret) client)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(client.Id)}:{Uri.EscapeDataString(client.Secret)}")));
        return Send(s.Public, request);
    }

    /// <summary>Public protocol endpoints and the Hydra admin API answer fosite's temporarily_unavailable (503 + Retry-After), not Kratos's envelope.</summary>
    private static async Task AssertOAuth2Unavailable(TestServer s, (string Id, string Secret) client)
    {
        var introspect = new HttpRequestMessage(HttpMethod.Post, "/admin/oauth2/introspect") { Content = new FormUrlEncodedContent([new("token", "ory_at_x")]) };
        foreach (var response in new[]
                 {
                     await ClientCredentialsAsync(s, client),
                     await Get(s.Public, "/.well-known/openid-configuration"),
                     await Get(s.Public, "/.well-known/jwks.json"),
                     await Get(s.Public, $"/oauth2/auth?response_type=code&client_id={client.Id}&state=abcdefghij"),
                     await Get(s.Public, "/oauth2/sessions/logout?logout_verifier=abc"),
                     await Get(s.AdminWithKey, "/admin/clients"),
                     await Get(s.AdminWithKey, "/admin/oauth2/auth/requests/logout?logout_challenge=abc"),
                     await Send(s.AdminWithKey, introspect),
                 })
        {
            var body = (await response.Json(HttpStatusCode.ServiceUnavailable)).AsObject();
            Assert.Equal(["error", "error_description"], body.Select(kv => kv.Key));
            Assert.Equal("temporarily_unavailable", (string?)body["error"]);
            Assert.Equal("5", response.Headers.RetryAfter?.ToString());
        }
    }

    private static async Task AssertOAuth2Recovered(TestServer s, (string Id, string Secret) client, CancellationToken ct)
    {
        await FirstGoodAnswerAsync(() => ClientCredentialsAsync(s, client), ct);
        (await Get(s.AdminWithKey, "/admin/clients")).EnsureSuccessStatusCode();
        (await Get(s.Public, "/.well-known/openid-configuration")).EnsureSuccessStatusCode();
    }

    /// <summary>
    /// Asks until the answer is good, at most 30 s: pooled connections broke with the database server and heal on their
    /// own, at a moment no test can trigger. Every answer before that must be the 503.
    /// </summary>
    private static async Task FirstGoodAnswerAsync(Func<Task<HttpResponseMessage>> call, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpResponseMessage last;
        do
        {
            last = await call();
            if (last.IsSuccessStatusCode) break;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, last.StatusCode);
            await Task.Delay(100, ct);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.OK, last.StatusCode);
    }

    private static void ClearPool(string dsn)
    {
        using var connection = new SqliteConnection(Dsn.Parse(dsn).ConnectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <summary>Whoami, a flow creation (a write), an admin list and readiness all answer 503 + Retry-After in the envelope.</summary>
    private static async Task AssertUnavailable(TestServer s)
    {
        foreach (var response in new[]
                 {
                     await Whoami(s, "ory_st_" + Guid.NewGuid().ToString("N")),
                     await Get(s.Public, "/self-service/login/api"),
                     await Get(s.AdminWithKey, "/admin/identities"),
                     await Get(s.Public, "/self-service/registration/api"),
                 })
        {
            var error = await response.Error(HttpStatusCode.ServiceUnavailable);
            Assert.Equal("Service Unavailable", (string?)error["status"]);
            Assert.Equal("5", response.Headers.RetryAfter?.ToString());
        }
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Get(s.Public, "/health/ready")).StatusCode);
    }

    /// <summary>Without a restart: the first good answer comes within a bounded wait, then everything answers normally.</summary>
    private static async Task AssertRecovered(TestServer s, string token, CancellationToken ct)
    {
        await FirstGoodAnswerAsync(() => Whoami(s, token), ct);
        Assert.Equal(HttpStatusCode.OK, (await Get(s.Public, "/health/ready")).StatusCode);
        (await Get(s.AdminWithKey, "/admin/identities")).EnsureSuccessStatusCode();
        (await Get(s.Public, "/self-service/registration/api")).EnsureSuccessStatusCode();
    }

    [Fact(Timeout = 60_000)]
    public async Task Sqlite_busy_and_unopenable_databases_count_as_unavailable_not_as_bugs()
    {
        var path = Path.Combine(Path.GetTempPath(), "gatehouse-busy-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            await using var holder = new SqliteConnection($"Data Source={path};Pooling=False");
            await holder.OpenAsync(TestContext.Current.CancellationToken);
            await using (var create = holder.CreateCommand())
            {
                create.CommandText = "CREATE TABLE t (x INTEGER); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);";
                await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            }
            // A short timeout, not 0: for Microsoft.Data.Sqlite a command timeout of 0 means retry a busy database forever.
            await using var other = new SqliteConnection($"Data Source={path};Pooling=False;Default Timeout=1");
            await other.OpenAsync(TestContext.Current.CancellationToken);
            await using var write = other.CreateCommand();
            write.CommandText = "INSERT INTO t VALUES (2)";
            var busy = await Assert.ThrowsAsync<SqliteException>(() => write.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
            Assert.True(DbErrors.IsUnavailable(busy), busy.Message);
            Assert.True(DbErrors.IsUnavailable(new Microsoft.EntityFrameworkCore.DbUpdateException("save failed", busy)));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(path);
        }

        await using var missing = new SqliteConnection($"Data Source={Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "x.db")};Mode=ReadWrite");
        var cantOpen = await Assert.ThrowsAsync<SqliteException>(() => missing.OpenAsync(TestContext.Current.CancellationToken));
        Assert.True(DbErrors.IsUnavailable(cantOpen), cantOpen.Message);

        // A constraint violation is the request's problem, not an outage.
        await using var mem = new SqliteConnection("Data Source=:memory:");
        await mem.OpenAsync(TestContext.Current.CancellationToken);
        await using var cmd = mem.CreateCommand();
        cmd.CommandText = "CREATE TABLE u (x INTEGER UNIQUE); INSERT INTO u VALUES (1); INSERT INTO u VALUES (1);";
        var unique = await Assert.ThrowsAsync<SqliteException>(() => cmd.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        Assert.False(DbErrors.IsUnavailable(unique));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_refused_postgres_connection_counts_as_unavailable()
    {
        await using var conn = new NpgsqlConnection($"Host=127.0.0.1;Port={TestServer.FreePort()};Username=x;Timeout=3");
        var refused = await Assert.ThrowsAnyAsync<NpgsqlException>(() => conn.OpenAsync(TestContext.Current.CancellationToken));
        Assert.True(DbErrors.IsUnavailable(refused), refused.Message);
        Assert.False(DbErrors.IsUnavailable(new InvalidOperationException("a bug")));
    }

    private static Task<HttpResponseMessage> Whoami(TestServer s, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        request.Headers.Add("X-Session-Token", token);
        return Send(s.Public, request);
    }

    private static Task<HttpResponseMessage> Get(HttpClient client, string path) => Send(client, new HttpRequestMessage(HttpMethod.Get, path));

    private static async Task<HttpResponseMessage> Send(HttpClient client, HttpRequestMessage request)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(RequestTimeout);
        return await client.SendAsync(request, cts.Token);
    }

    /// <summary>A PostgreSQL cluster owned by one test (never the shared one), as <c>.ci/start-postgres.sh</c> starts it.</summary>
    private sealed class PrivateCluster : IAsyncDisposable
    {
        private readonly string _dir;
        private readonly int _port;

        private PrivateCluster(string dir, int port)
        {
            _dir = dir;
            _port = port;
        }

        public string Dsn => $"postgres://postgres@127.0.0.1:{_port}/postgres?sslmode=disable";

        public static async Task<PrivateCluster> StartAsync()
        {
            var dir = Directory.CreateTempSubdirectory("gatehouse-outage-pg.").FullName;
            if (Environment.UserName == "root") await RunAsync("chown", "postgres:postgres", dir);
            var cluster = new PrivateCluster(dir, TestServer.FreePort());
            try
            {
                await PgAsync(Path.Combine(PgBin, "initdb"), "-D", Path.Combine(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync");
                await cluster.StartAgainAsync();
                return cluster;
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }

        // No synchronous_commit=off here (unlike the shared test cluster): the outage is an immediate stop, i.e. a crash,
        // and commits acknowledged before their WAL was written would be lost with it (seen as a registered session
        // answering 401 after the restart on a busy machine).
        public Task StartAgainAsync() => PgAsync(Path.Combine(PgBin, "pg_ctl"), "-D", Path.Combine(_dir, "data"), "-l", Path.Combine(_dir, "log"), "-w", "-t", "60", "-o",
            $"-c listen_addresses=127.0.0.1 -p {_port} -k {_dir} -c fsync=off -c full_page_writes=off", "start");

        public Task StopAsync() => PgAsync(Path.Combine(PgBin, "pg_ctl"), "-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "-t", "60", "stop");

        public async ValueTask DisposeAsync()
        {
            try { await StopAsync(); } catch (InvalidOperationException) { /* already stopped */ } catch (TimeoutException) { /* logged by the failure */ }
            try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        private static Task PgAsync(string exe, params string[] args) =>
            Environment.UserName == "root" ? RunAsync("runuser", ["-u", "postgres", "--", exe, .. args]) : RunAsync(exe, args);

        private static async Task RunAsync(string exe, params string[] args)
        {
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            // pg_ctl -l sends the server's own output to the log file, so these pipes close when pg_ctl exits; reading them
            // is still bounded below in case a child keeps one open.
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try
            {
                await p.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"{exe} {string.Join(' ', args)} did not finish within 90 s");
            }
            if (p.ExitCode != 0)
            {
                var output = Task.WhenAll(stderr, stdout);
                var text = await Task.WhenAny(output, Task.Delay(TimeSpan.FromSeconds(5))) == output ? stderr.Result + stdout.Result : "(output not available)";
                throw new InvalidOperationException($"{exe} failed ({p.ExitCode}): {text}");
            }
        }
    }
}
