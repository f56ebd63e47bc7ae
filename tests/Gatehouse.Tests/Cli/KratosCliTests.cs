using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Cli;

/// <summary>
/// Kratos's client commands (<c>import identities</c>, <c>get identity</c>, <c>list identities</c>, <c>delete identity</c>,
/// <c>validate identity</c>, <c>remote status</c>, <c>remote version</c>) as a real child process against a running
/// server's admin API, on both databases.
/// </summary>
public sealed class KratosCliTests
{
    private static Task<CliProcess.Result> Cli(TestServer s, string[] args, string? stdin = null, IDictionary<string, string>? env = null) =>
        CliProcess.RunAsync([.. args, "--api-key", s.ApiKey, .. env is null ? new[] { "--endpoint", s.PublicUrl } : []], env, stdin: stdin);

    private static string TempFile(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), $"gatehouse-identities-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static JsonObject Identity(string email) => new() { ["schema_id"] = "default", ["traits"] = new JsonObject { ["email"] = email } };

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Import_get_list_and_delete_identities_through_the_admin_api(string db)
    {
        await using var s = await TestServer.StartAsync(db);
        var (a, b) = (HttpAssertions.UniqueEmail("cli-a"), HttpAssertions.UniqueEmail("cli-b"));
        var file = TempFile(new JsonArray(Identity(a), Identity(b), Identity("not-an-email")).ToJsonString());

        // An array file: two created, the third refused by the schema and reported; exit code 1 for that one.
        var imported = await Cli(s, ["import", "identities", file, "--format", "json"]);
        Assert.Equal(1, imported.ExitCode);
        Assert.StartsWith($"error: {file}[2]: 400 ", imported.Stderr.Trim());
        var created = JsonNode.Parse(imported.Stdout)!.AsArray();
        Assert.Equal([a, b], created.Select(i => i!["traits"]!["email"]!.GetValue<string>()));
        var (idA, idB) = (created[0]!["id"]!.GetValue<string>(), created[1]!["id"]!.GetValue<string>());

        // Standard input, one identity: Kratos's table, vertically.
        var c = HttpAssertions.UniqueEmail("cli-c");
        var piped = await Cli(s, ["import", "identities"], stdin: Identity(c).ToJsonString());
        Assert.True(piped.ExitCode == 0, piped.Stderr);
        var idC = Regex.Match(piped.Stdout, "^ID\t(?<id>[0-9a-f-]{36})\n", RegexOptions.Multiline).Groups["id"].Value;
        Assert.Contains($"VERIFIED ADDRESSES\t{c}\n", piped.Stdout);
        Assert.Contains($"RECOVERY ADDRESSES\t{c}\n", piped.Stdout);
        Assert.Contains("SCHEMA ID\tdefault\n", piped.Stdout);

        // get: several ids as rows; an unknown one is reported and fails the command; credentials on request.
        var got = await Cli(s, ["get", "identity", idA, idB, "00000000-0000-0000-0000-000000000001"]);
        Assert.Equal(1, got.ExitCode);
        Assert.StartsWith("ID\tVERIFIED ADDRESSES\tRECOVERY ADDRESSES\tSCHEMA ID\tSCHEMA URL\n", got.Stdout);
        Assert.Contains($"{idA}\t{a}\t{a}\tdefault\t", got.Stdout);
        Assert.Contains("error: 00000000-0000-0000-0000-000000000001: 404 ", got.Stderr);
        var password = TempFile(new JsonObject
        {
            ["schema_id"] = "default", ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("cli-pw") },
            ["credentials"] = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = "a-long-enough-passphrase-42" } } },
        }.ToJsonString());
        var withPassword = JsonNode.Parse((await Cli(s, ["import", "identities", password, "--format", "json"])).Stdout)!;
        var shown = await Cli(s, ["get", "identity", withPassword["id"]!.GetValue<string>(), "--include-credentials", "password", "--format", "json"]);
        Assert.True(shown.ExitCode == 0, shown.Stderr);
        Assert.NotNull(JsonNode.Parse(shown.Stdout)!["credentials"]!["password"]);
        Assert.DoesNotContain("a-long-enough-passphrase-42", shown.Stdout);

        // list: a page at a time, the next page's token after the table (and in the JSON).
        var first = await Cli(s, ["list", "identities", "--page-size", "2"]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var token = Regex.Match(first.Stdout, "NEXT PAGE TOKEN\t(?<t>\\S+)").Groups["t"].Value;
        Assert.NotEmpty(token);
        var second = JsonNode.Parse((await Cli(s, ["list", "identities", "--page-size", "2", "--page-token", token, "--format", "json"])).Stdout)!;
        var seen = Regex.Matches(first.Stdout, "^([0-9a-f-]{36})\t", RegexOptions.Multiline).Select(m => m.Groups[1].Value)
            .Concat(second["identities"]!.AsArray().Select(i => i!["id"]!.GetValue<string>())).ToList();
        Assert.Equal(4, seen.Distinct().Count());
        Assert.Equal("", second["next_page_token"]!.GetValue<string>());
        Assert.Equal("error: --page-size must be between 1 and 1000", (await Cli(s, ["list", "identities", "--page-size", "0"])).Stderr.Trim());

        // delete: prints each id; the identity is gone. $KRATOS_ADMIN_URL names the endpoint, as for Kratos's CLI.
        var deleted = await Cli(s, ["delete", "identity", idC], env: new Dictionary<string, string> { ["KRATOS_ADMIN_URL"] = s.AdminUrl });
        Assert.True(deleted.ExitCode == 0, deleted.Stderr);
        Assert.Equal(idC, deleted.Stdout.Trim());
        Assert.Equal(HttpStatusCode.NotFound, (await s.AdminWithKey.GetAsync($"/admin/identities/{idC}")).StatusCode);
        var again = await Cli(s, ["delete", "identity", idC]);
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith($"error: {idC}: 404 ", again.Stderr.Trim());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Validate_checks_files_against_the_servers_schemas_and_creates_nothing(string db)
    {
        await using var s = await TestServer.StartAsync(db);
        var good = HttpAssertions.UniqueEmail("valid");
        var valid = TempFile(new JsonArray(Identity(good), new JsonObject { ["schema_id"] = "customer", ["traits"] = new JsonObject { ["username"] = "ada" } }).ToJsonString());
        var ok = await Cli(s, ["validate", "identity", valid]);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Equal("All identity files are valid.", ok.Stdout.Trim());
        Assert.Empty((await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(good)}")).Json(HttpStatusCode.OK)).AsArray());

        var invalid = TempFile(new JsonArray(
            Identity("not-an-email"),
            new JsonObject { ["traits"] = new JsonObject { ["email"] = good } },
            new JsonObject { ["schema_id"] = "no-such-schema", ["traits"] = new JsonObject() },
            new JsonObject { ["schema_id"] = "default", ["traits"] = new JsonObject { ["email"] = good }, ["state"] = "frozen" }).ToJsonString());
        var bad = await Cli(s, ["validate", "identity", invalid]);
        Assert.Equal(1, bad.ExitCode);
        var lines = bad.Stderr.Trim().Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Contains($"error: {invalid}[0]: not valid: #/traits/email: ", lines[0]);
        Assert.Equal($"error: {invalid}[1]: Expected key \"schema_id\" to be defined in identity file", lines[1]);
        Assert.StartsWith($"error: {invalid}[2]: Could not fetch schema with ID \"no-such-schema\": 404 ", lines[2]);
        Assert.StartsWith($"error: {invalid}[3]: not valid: ", lines[3]);
        Assert.Contains("frozen", lines[3]);

        var notJson = await Cli(s, ["validate", "identity"], stdin: "{");
        Assert.Equal(1, notJson.ExitCode);
        Assert.StartsWith("error: STD_IN: not JSON", notJson.Stderr.Trim());
    }

    [Fact]
    public async Task Remote_status_and_version_read_the_servers_health_and_version()
    {
        await using var s = await TestServer.StartAsync("sqlite");
        var status = await Cli(s, ["remote", "status"]);
        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.Equal("ALIVE\ttrue\nREADY\ttrue\n", status.Stdout.ReplaceLineEndings("\n"));
        var expected = (await (await s.Public.GetAsync("/version")).Json(HttpStatusCode.OK))["version"]!.GetValue<string>();
        var version = await Cli(s, ["remote", "version", "--format", "json"]);
        Assert.True(version.ExitCode == 0, version.Stderr);
        Assert.Equal(expected, JsonNode.Parse(version.Stdout)!["version"]!.GetValue<string>());

        // Nothing listening: not alive, not ready, exit code 1.
        var down = await CliProcess.RunAsync(["remote", "status", "--endpoint", $"http://127.0.0.1:{TestServer.FreePort()}"]);
        Assert.Equal(1, down.ExitCode);
        Assert.Equal("ALIVE\tfalse\nREADY\tfalse\n", down.Stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task A_server_that_does_not_answer_in_time_is_a_one_line_failure()
    {
        // Accepts connections and never answers.
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var held = new System.Collections.Concurrent.ConcurrentBag<System.Net.Sockets.TcpClient>();
        _ = Task.Run(async () =>
        {
            while (true) held.Add(await silent.AcceptTcpClientAsync());
        });

        var got = await CliProcess.RunAsync(["get", "identity", "some-id", "--endpoint", $"http://127.0.0.1:{port}", "--timeout", "300ms"]);
        Assert.Equal(1, got.ExitCode);
        Assert.Equal($"error: some-id: http://127.0.0.1:{port}/admin/identities/some-id: no answer within 0.3 s", got.Stderr.Trim());
        var clients = await CliProcess.RunAsync(["oauth2", "list", "clients", "--endpoint", $"http://127.0.0.1:{port}", "--timeout", "300ms"]);
        Assert.Equal(1, clients.ExitCode);
        Assert.Equal($"error: http://127.0.0.1:{port}/admin/clients: no answer within 0.3 s", clients.Stderr.Trim());
        var status = await CliProcess.RunAsync(["remote", "status", "--endpoint", $"http://127.0.0.1:{port}", "--timeout", "300ms"]);
        Assert.Equal(1, status.ExitCode);
        Assert.StartsWith("ALIVE\tfalse", status.Stdout);

        var bad = await CliProcess.RunAsync(["list", "identities", "--endpoint", $"http://127.0.0.1:{port}", "--timeout", "soon"]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Equal("error: --timeout \"soon\" is not a duration between 1ms and 1h (e.g. 30s)", bad.Stderr.Trim());
        foreach (var c in held) c.Dispose();
    }
}
