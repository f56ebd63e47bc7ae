using System.Net;
using System.Net.Http.Headers;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Cli;

public sealed class CliTests
{
    private static async Task<string> ConfigFile(string dsn, int publicPort = 0, int adminPort = 0)
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-cli-").FullName;
        var path = Path.Combine(dir, "gatehouse.yml");
        await File.WriteAllTextAsync(path, $"""
            dsn: "{dsn}"
            serve:
              public:
                host: 127.0.0.1
                port: {publicPort}
              admin:
                host: 127.0.0.1
                port: {adminPort}
            secrets:
              cookie: ["a-test-secret-of-32-characters!!"]
            hashers:
              algorithm: bcrypt
              bcrypt:
                cost: 12
            """);
        return path;
    }

    [Fact]
    public async Task Version_prints_the_version_and_exits_zero()
    {
        var r = await CliProcess.RunAsync(["version"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"^v\d+\.\d+\.\d+", r.Stdout.Trim());
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("migrate")]
    [InlineData("keys")]
    public async Task Every_command_has_help(string command)
    {
        var r = await CliProcess.RunAsync([command, "--help"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage", r.Stdout);
    }

    [Fact]
    public async Task Unknown_commands_and_bad_config_fail_with_one_line_on_stderr()
    {
        var unknown = await CliProcess.RunAsync(["frobnicate"]);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Single(unknown.Stderr.Trim().Split('\n'));

        var missing = await CliProcess.RunAsync(["keys", "list", "--config", "/nonexistent/gatehouse.yml"]);
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Single(missing.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error:", missing.Stderr.Trim());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Migrate_then_keys_create_list_revoke(string db)
    {
        var dsn = await Db.NewDsnAsync(db);
        var config = await ConfigFile(dsn);

        var unmigrated = await CliProcess.RunAsync(["keys", "list", "--config", config]);
        Assert.NotEqual(0, unmigrated.ExitCode);
        Assert.Contains("migrate sql", unmigrated.Stderr);

        var noConfirm = await CliProcess.RunAsync(["migrate", "sql", "--config", config], stdin: "n\n");
        Assert.NotEqual(0, noConfirm.ExitCode);

        var migrate = await CliProcess.RunAsync(["migrate", "sql", "--yes", "--config", config]);
        Assert.True(migrate.ExitCode == 0, migrate.Stderr);
        var again = await CliProcess.RunAsync(["migrate", "sql", "--yes", "--config", config]);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("up to date", again.Stdout);

        var create = await CliProcess.RunAsync(["keys", "create", "--name", "ci-bot", "--config", config]);
        Assert.True(create.ExitCode == 0, create.Stderr);
        var key = create.Stdout.Trim().Split('\n')[^1].Trim();
        Assert.StartsWith("gh_", key);

        var list = await CliProcess.RunAsync(["keys", "list", "--config", config]);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("ci-bot", list.Stdout);
        Assert.DoesNotContain(key, list.Stdout);
        var id = list.Stdout.Split('\n').First(l => l.Contains("ci-bot")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];

        var revoke = await CliProcess.RunAsync(["keys", "revoke", id, "--config", config]);
        Assert.True(revoke.ExitCode == 0, revoke.Stderr);
        Assert.Contains("revoked", (await CliProcess.RunAsync(["keys", "list", "--config", config])).Stdout);
        var twice = await CliProcess.RunAsync(["keys", "revoke", id, "--config", config]);
        Assert.NotEqual(0, twice.ExitCode);
        var bad = await CliProcess.RunAsync(["keys", "revoke", "not-a-uuid", "--config", config]);
        Assert.NotEqual(0, bad.ExitCode);
    }

    [Fact]
    public async Task Migrate_takes_the_dsn_as_argument_and_from_the_environment()
    {
        var file = Path.Combine(Path.GetTempPath(), $"gatehouse-cli-{Guid.NewGuid():N}.db");
        var arg = await CliProcess.RunAsync(["migrate", "sql", "--yes", $"sqlite://{file}?_fk=true"]);
        Assert.True(arg.ExitCode == 0, arg.Stderr);
        var file2 = Path.Combine(Path.GetTempPath(), $"gatehouse-cli-{Guid.NewGuid():N}.db");
        var env = await CliProcess.RunAsync(["migrate", "sql", "-e", "--yes"], new Dictionary<string, string> { ["DSN"] = $"sqlite://{file2}?_fk=true" });
        Assert.True(env.ExitCode == 0, env.Stderr);
        Assert.True(File.Exists(file2));
    }

    /// <summary>
    /// Kratos's <c>migrate sql status</c> / <c>migrate sql up</c> and Hydra's <c>migrate status</c> (ory/x popx): the table
    /// of migrations, its JSON, and <c>--block</c> waiting until another process has applied them (an init container's wait).
    /// </summary>
    [Fact]
    public async Task Migrate_status_lists_the_migrations_and_block_waits_until_they_are_applied()
    {
        var file = Path.Combine(Path.GetTempPath(), $"gatehouse-status-{Guid.NewGuid():N}.db");
        var dsn = $"sqlite://{file}?_fk=true";

        var before = await CliProcess.RunAsync(["migrate", "sql", "status", dsn]);
        Assert.True(before.ExitCode == 0, before.Stderr);
        var lines = before.Stdout.Trim().Split('\n');
        Assert.Equal("Version\tName\tStatus", lines[0]);
        Assert.Equal("20261126230529\tInitial\tPending", lines[1]);
        Assert.All(lines.Skip(1), l => Assert.EndsWith("\tPending", l, StringComparison.Ordinal));

        using var waiting = System.Diagnostics.Process.Start(CliProcess.StartInfo(["migrate", "status", "-e", "--block", "--format", "json"], new Dictionary<string, string> { ["DSN"] = dsn }))!;
        try
        {
            // It says it waits, and what for, before anything applies the migrations.
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            Assert.Equal("Waiting for migrations to finish...", await waiting.StandardOutput.ReadLineAsync(cts.Token));
            Assert.Equal(" - Initial", await waiting.StandardOutput.ReadLineAsync(cts.Token));
            var up = await CliProcess.RunAsync(["migrate", "sql", "up", "--yes", dsn]);
            Assert.True(up.ExitCode == 0, up.Stderr);
            await waiting.WaitForExitAsync(cts.Token);
            Assert.Equal(0, waiting.ExitCode);
        }
        finally
        {
            if (!waiting.HasExited) waiting.Kill(entireProcessTree: true);
        }
        var output = await waiting.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var json = System.Text.Json.Nodes.JsonNode.Parse(output[output.IndexOf('[', StringComparison.Ordinal)..])!.AsArray();
        Assert.Equal(lines.Length - 1, json.Count);
        Assert.All(json, m => Assert.Equal("Applied", (string)m!["state"]!));
        Assert.Equal("Initial", (string)json[0]!["name"]!);
    }

    [Fact]
    public async Task Serve_refuses_an_unmigrated_database_without_dev()
    {
        var dsn = await Db.NewDsnAsync(Db.Sqlite);
        var config = await ConfigFile(dsn, TestServer.FreePort(), TestServer.FreePort());
        var r = await CliProcess.RunAsync(["serve", "--config", config]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("pending migration", r.Stderr);
    }

    /// <summary>
    /// Kratos's <c>dev</c> and <c>watch-courier</c> keys in the file do what <c>--dev</c> and <c>--watch-courier</c> do: the
    /// unmigrated database is migrated (which only dev mode does) and the courier worker runs in the process.
    /// </summary>
    [Fact]
    public async Task Serve_with_kratos_dev_and_watch_courier_keys_migrates_and_runs_the_worker()
    {
        var dsn = await Db.NewDsnAsync(Db.Sqlite);
        var publicPort = TestServer.FreePort();
        var config = await ConfigFile(dsn, publicPort, TestServer.FreePort());
        await File.AppendAllTextAsync(config, """

            dev: true
            watch-courier: true
            courier:
              delivery_strategy: http
              http:
                request_config:
                  url: http://127.0.0.1:1/mail
            """);

        var serve = ServeProcess.Start(["serve", "--config", config]);
        await using (serve)
        {
            await serve.WaitUntilReadyAsync(publicPort);
        }
        var stderr = await serve.Stderr;
        Assert.Contains("applied ", stderr, StringComparison.Ordinal);
        Assert.Contains(", courier worker running", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("is not supported", stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// A listener port another process holds: one <c>error:</c> line and exit code 1, without the generic host's
    /// "Hosting failed to start" log line and its stack trace before it.
    /// </summary>
    [Fact]
    public async Task Serve_on_a_port_already_in_use_fails_with_one_line_and_no_stack_trace()
    {
        var dsn = await Db.NewMigratedDsnAsync(Db.Sqlite);
        using var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((IPEndPoint)holder.LocalEndpoint).Port;
        var config = await ConfigFile(dsn, taken, TestServer.FreePort());

        var r = await CliProcess.RunAsync(["serve", "--config", config]);

        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Equal($"error: Failed to bind to address http://127.0.0.1:{taken}: address already in use.", line);
        Assert.DoesNotContain("Hosting failed to start", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_stops_on_a_tokenizer_template_that_cannot_sign_naming_the_key()
    {
        var dsn = await Db.NewDsnAsync(Db.Sqlite);
        var config = await ConfigFile(dsn, TestServer.FreePort(), TestServer.FreePort());
        var missing = Path.Combine(Path.GetDirectoryName(config)!, "missing-jwks.json");
        await File.AppendAllTextAsync(config, $"""

            session:
              whoami:
                tokenizer:
                  templates:
                    jwt:
                      jwks_url: file://{missing}
            """);

        var r = await CliProcess.RunAsync(["serve", "--config", config]);

        Assert.NotEqual(0, r.ExitCode);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.StartsWith($"error: session.whoami.tokenizer.templates.jwt.jwks_url: cannot be read: file://{missing}", line, StringComparison.Ordinal);
    }

    /// <summary>
    /// Hydra's <c>serve public</c> and <c>serve admin</c>: each process binds its own listener (were either to bind both,
    /// the second could not start), they share one PostgreSQL database (an identity made through the admin half signs in
    /// through the public half), and Kratos's and Hydra's <c>--sqa-opt-out</c> is accepted.
    /// </summary>
    [Fact]
    public async Task Serve_public_and_serve_admin_split_the_listeners_over_one_postgres_database()
    {
        Assert.SkipWhen(Db.PostgresDsn is null, "GATEHOUSE_TEST_POSTGRES_DSN is not set: serve public and serve admin need PostgreSQL");
        var dsn = await Db.NewMigratedDsnAsync(Db.Postgres);
        var publicPort = TestServer.FreePort();
        var adminPort = TestServer.FreePort();
        var config = await ConfigFile(dsn, publicPort, adminPort);
        var env = new Dictionary<string, string> { ["SERVE_ADMIN_REQUIRE_API_KEY"] = "false", ["LOG_LEVEL"] = "warning" };
        var publicHalf = ServeProcess.Start(["serve", "public", "--config", config, "--sqa-opt-out"], env);
        var adminHalf = ServeProcess.Start(["serve", "admin", "--config", config], env);
        await using (publicHalf)
        await using (adminHalf)
        {
            await publicHalf.WaitUntilReadyAsync(publicPort);
            await adminHalf.WaitUntilReadyAsync(adminPort);
            using var http = new HttpClient();

            var created = await http.PostAsync($"http://127.0.0.1:{adminPort}/admin/identities", new StringContent(
                """{"traits":{"email":"split@example.com"},"credentials":{"password":{"config":{"password":"correct horse battery staple"}}}}""",
                System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

            var flow = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{publicPort}/self-service/login/api"))!;
            var login = await http.PostAsync($"http://127.0.0.1:{publicPort}/self-service/login?flow={flow["id"]}", new StringContent(
                """{"method":"password","identifier":"split@example.com","password":"correct horse battery staple"}""",
                System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            Assert.Contains("session_token", await login.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            // The public half still serves the admin API under /admin, behind the API key, as `serve` does.
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://127.0.0.1:{publicPort}/admin/identities")).StatusCode);
        }
        var publicLog = await publicHalf.Stderr;
        Assert.Contains($"public API on 127.0.0.1:{publicPort}, database", publicLog, StringComparison.Ordinal);
        Assert.DoesNotContain("admin API on", publicLog, StringComparison.Ordinal);
        Assert.Contains($"admin API on 127.0.0.1:{adminPort}, database", await adminHalf.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("public")]
    [InlineData("admin")]
    public async Task Serve_public_or_admin_alone_refuses_a_database_another_process_cannot_share(string half)
    {
        var config = await ConfigFile(await Db.NewMigratedDsnAsync(Db.Sqlite));
        var r = await CliProcess.RunAsync(["serve", half, "--config", config]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: serve {half} needs PostgreSQL, which both halves share: SQLite and memory serve one process (run `gatehouse serve` for both listeners in one).",
            r.Stderr.Trim().Split('\n')[^1]);
    }

    [Fact]
    public async Task Serve_help_lists_hydras_subcommands_and_the_telemetry_opt_out()
    {
        var r = await CliProcess.RunAsync(["serve", "--help"]);
        Assert.Equal(0, r.ExitCode);
        foreach (var expected in new[] { "--sqa-opt-out", "all", "public", "admin" })
            Assert.Contains(expected, r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_dev_without_config_migrates_and_serves_both_listeners()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-dev-").FullName;
        var publicPort = TestServer.FreePort();
        var adminPort = TestServer.FreePort();
        var serve = ServeProcess.Start(["serve", "--dev"], new Dictionary<string, string>
        {
            ["SERVE_PUBLIC_PORT"] = publicPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SERVE_ADMIN_PORT"] = adminPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, dir);
        await using (serve)
        {
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
            await serve.WaitUntilReadyAsync(publicPort);
            Assert.True(File.Exists(Path.Combine(dir, "gatehouse.db")));
            // --dev: no key on the admin listener, but the public /admin still needs one.
            var created = await http.PostAsync($"http://127.0.0.1:{adminPort}/admin/identities",
                new StringContent("""{"traits":{"email":"dev@example.com"}}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://127.0.0.1:{publicPort}/admin/identities")).StatusCode);
            var schema = await http.GetStringAsync($"http://127.0.0.1:{publicPort}/schemas/default");
            Assert.Contains("email", schema);
            // The built-in pages are on, and their address is printed.
            Assert.Equal(HttpStatusCode.SeeOther, (await http.GetAsync($"http://127.0.0.1:{publicPort}/ui/login")).StatusCode);
        }
        Assert.Contains($"self-service UI: http://127.0.0.1:{publicPort}/ui/login", await serve.Stderr);
    }

    /// <summary>
    /// A rolling deploy sends SIGTERM: the listeners close at once and every request in flight is still answered, up to
    /// Kratos's 120 s (graceful.DefaultShutdownTimeout), then the process exits 0. Before, System.CommandLine's default
    /// 2 s termination limit ended the process with 143 and cut the request. The web hook is held for 3 s of real time
    /// after the signal — longer than that old limit — since what is tested is another process's clock. The server runs
    /// with <c>log.format: json</c>, so it also shows that every line it logs is one JSON object.
    /// </summary>
    [Fact]
    public async Task Serve_stopped_by_sigterm_answers_the_requests_in_flight_and_exits_zero_logging_json_lines()
    {
        await using var hooks = await Hooks.HookReceiver.StartAsync();
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hookUrl = hooks.On("/held", async (_, ct) =>
        {
            arrived.TrySetResult();
            await release.Task.WaitAsync(ct);
            return (200, "{}");
        });
        var dsn = await Db.NewDsnAsync(Db.Sqlite);
        var publicPort = TestServer.FreePort();
        var config = await ConfigFile(dsn, publicPort, TestServer.FreePort());
        await File.AppendAllTextAsync(config, $$"""

            log:
              format: json
            selfservice:
              methods:
                password:
                  config:
                    haveibeenpwned_enabled: false
              flows:
                registration:
                  style: unified
                  after:
                    password:
                      hooks:
                        - hook: web_hook
                          config:
                            url: {{hookUrl}}
                            method: POST
                            body: "base64://{{Convert.ToBase64String("function(ctx) {}"u8)}}"
            """);
        var migrate = await CliProcess.RunAsync(["migrate", "sql", "--yes", "--config", config]);
        Assert.True(migrate.ExitCode == 0, migrate.Stderr);

        var serve = ServeProcess.Start(["serve", "--config", config]);
        var p = serve.Process;
        var baseUrl = $"http://127.0.0.1:{publicPort}";
        await using (serve)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            await serve.WaitUntilReadyAsync(publicPort);
            var flow = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync($"{baseUrl}/self-service/registration/api"))!["id"]!.GetValue<string>();
            var submit = http.PostAsync($"{baseUrl}/self-service/registration?flow={flow}", new StringContent(
                """{"method":"password","password":"a-long-unique-password-1234","traits":{"email":"in-flight@example.com"}}""",
                System.Text.Encoding.UTF8, "application/json"));
            await arrived.Task.WaitAsync(TimeSpan.FromSeconds(60));

            using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync();
                Assert.Equal(0, kill.ExitCode);
            }
            // The listener closes: a new connection is refused while the request in flight waits.
            var refused = false;
            for (var i = 0; i < 100 && !refused; i++)
            {
                try
                {
                    using var fresh = new HttpClient();
                    await fresh.GetAsync($"{baseUrl}/health/alive");
                    await Task.Delay(20);
                }
                catch (HttpRequestException) { refused = true; }
            }
            Assert.True(refused, "the public listener still accepted connections after SIGTERM");
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.False(p.HasExited, "the process ended while a request was in flight");
            release.TrySetResult();

            var answer = await submit;
            var body = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal("in-flight@example.com", System.Text.Json.Nodes.JsonNode.Parse(body)!["identity"]!["traits"]!["email"]!.GetValue<string>());
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, p.ExitCode);
        }
        Assert.DoesNotContain("Exception", await serve.Stderr + await serve.Stdout, StringComparison.Ordinal);
        var lines = (await serve.Stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            var entry = System.Text.Json.Nodes.JsonNode.Parse(line)!.AsObject();
            Assert.True(entry["Timestamp"] is not null && entry["LogLevel"] is not null && entry["Category"] is not null && entry["Message"] is not null, line);
        }
        var hookLine = Assert.Single(lines, l => l.Contains("\"Gatehouse.Http.Outbound.WebHookSender\"", StringComparison.Ordinal));
        Assert.Equal(hookUrl, System.Text.Json.Nodes.JsonNode.Parse(hookLine)!["State"]!["Url"]!.GetValue<string>());
    }
}
