using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Cli;

/// <summary>
/// <c>gatehouse oauth2 …</c> (Hydra's CLI verbs) as a real child process against a running server's admin API and token
/// endpoint, on both databases.
/// </summary>
public sealed class OAuth2CliTests
{
    private static Task<CliProcess.Result> Cli(TestServer s, params string[] args) =>
        CliProcess.RunAsync(["oauth2", .. args, "--endpoint", s.PublicUrl, "--api-key", s.ApiKey]);

    /// <summary>
    /// Hydra's own spelling, verbs at the top level and Hydra's nouns (<c>hydra create oauth2-client</c>, <c>hydra get jwk</c>):
    /// the same commands with <c>gatehouse</c> in place of <c>hydra</c>, beside Kratos's identity nouns on the shared verbs.
    /// </summary>
    [Fact]
    public async Task Hydras_top_level_verbs_and_nouns_run_as_hydra_spells_them()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite, configureServices: services =>
            Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton(services, new Gatehouse.OAuth2.Keys.KeyGeneration { RsaBits = 2048 }));
        Task<CliProcess.Result> Hydra(params string[] args) => CliProcess.RunAsync([.. args, "--endpoint", s.PublicUrl, "--api-key", s.ApiKey]);

        var created = await Hydra("create", "oauth2-client", "--name", "top level", "--grant-type", "client_credentials", "--scope", "photos.read", "--format", "json");
        Assert.True(created.ExitCode == 0, created.Stderr);
        var client = JsonNode.Parse(created.Stdout)!.AsObject();
        var id = client["client_id"]!.GetValue<string>();
        var secret = client["client_secret"]!.GetValue<string>();

        // Kratos's and Hydra's name for the table format is `table`.
        var table = await Hydra("get", "oauth2-client", id, "--format", "table");
        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains($"CLIENT ID\t{id}\n", table.Stdout);
        foreach (var noun in new[] { "oauth2-client", "client", "oauth2-clients" })
        {
            var got = await Hydra("get", noun, id, "--format", "json");
            Assert.True(got.ExitCode == 0, got.Stderr);
            Assert.Equal("top level", JsonNode.Parse(got.Stdout)!["client_name"]!.GetValue<string>());
        }
        var listed = await Hydra("list", "oauth2-clients", "--format", "json");
        Assert.True(listed.ExitCode == 0, listed.Stderr);
        Assert.Contains(id, JsonNode.Parse(listed.Stdout)!.AsArray().Select(c => c!["client_id"]!.GetValue<string>()));
        var updated = await Hydra("update", "oauth2-client", id, "--name", "renamed", "--format", "json");
        Assert.True(updated.ExitCode == 0, updated.Stderr);
        Assert.Equal("renamed", JsonNode.Parse(updated.Stdout)!["client_name"]!.GetValue<string>());

        var token = await CliProcess.RunAsync(["perform", "client-credentials", "--endpoint", s.PublicUrl, "--client-id", id, "--client-secret", secret, "--scope", "photos.read", "--format", "json"]);
        Assert.True(token.ExitCode == 0, token.Stderr);
        var accessToken = JsonNode.Parse(token.Stdout)!["access_token"]!.GetValue<string>();
        Assert.Contains("ACTIVE\ttrue\n", (await Hydra("introspect", "token", accessToken)).Stdout);
        var revoked = await CliProcess.RunAsync(["revoke", "token", accessToken, "--endpoint", s.PublicUrl, "--client-id", id, "--client-secret", secret]);
        Assert.True(revoked.ExitCode == 0, revoked.Stderr);
        Assert.Contains("ACTIVE\tfalse\n", (await Hydra("introspect", "token", accessToken)).Stdout);

        var key = await Hydra("create", "jwk", "cli-top-level", "--alg", "ES256", "--format", "json");
        Assert.True(key.ExitCode == 0, key.Stderr);
        var set = await Hydra("get", "jwk", "cli-top-level", "--format", "json");
        Assert.True(set.ExitCode == 0, set.Stderr);
        Assert.Equal("ES256", JsonNode.Parse(set.Stdout)!["keys"]![0]!["alg"]!.GetValue<string>());
        Assert.Equal(0, (await Hydra("delete", "jwk", "cli-top-level")).ExitCode);

        // Kratos's noun on the same verb still reads Kratos's $KRATOS_ADMIN_URL-or-flag endpoint.
        var identity = await Hydra("get", "identity", Guid.NewGuid().ToString());
        Assert.Equal(1, identity.ExitCode);
        Assert.Contains("404", identity.Stderr, StringComparison.Ordinal);

        var deleted = await Hydra("delete", "oauth2-client", id);
        Assert.Equal(0, deleted.ExitCode);
        Assert.Equal(id, deleted.Stdout.Trim());
        Assert.Equal(1, (await Hydra("get", "oauth2-client", id)).ExitCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Create_get_list_perform_introspect_rotate_and_delete_through_the_api(string db)
    {
        await using var s = await TestServer.StartAsync(db, configureServices: services =>
            Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton(services, new Gatehouse.OAuth2.Keys.KeyGeneration { RsaBits = 2048 }));

        var created = await Cli(s, "create", "client", "--name", "CLI app", "--grant-type", "client_credentials", "--scope", "photos.read,photos.write", "--audience", "https://api.example", "--format", "json");
        Assert.True(created.ExitCode == 0, created.Stderr);
        var client = JsonNode.Parse(created.Stdout)!.AsObject();
        var id = client["client_id"]!.GetValue<string>();
        var secret = client["client_secret"]!.GetValue<string>();
        Assert.Equal("CLI app", client["client_name"]!.GetValue<string>());
        Assert.Equal("photos.read photos.write", client["scope"]!.GetValue<string>());
        Assert.Equal(["client_credentials"], client["grant_types"]!.AsArray().Select(g => g!.GetValue<string>()));

        // Hydra's table: one client vertically; the secret is never shown again.
        var got = await Cli(s, "get", "client", id);
        Assert.Equal(0, got.ExitCode);
        Assert.Contains($"CLIENT ID\t{id}\n", got.Stdout);
        Assert.Contains("CLIENT SECRET\t\n", got.Stdout);
        Assert.Contains("SCOPE\tphotos.read photos.write\n", got.Stdout);
        Assert.DoesNotContain(secret, got.Stdout);

        var listed = await Cli(s, "list", "clients", "--format", "json");
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains(id, JsonNode.Parse(listed.Stdout)!.AsArray().Select(c => c!["client_id"]!.GetValue<string>()));

        var token = await CliProcess.RunAsync(["oauth2", "perform", "client-credentials", "--endpoint", s.PublicUrl, "--client-id", id, "--client-secret", secret, "--scope", "photos.read", "--audience", "https://api.example", "--format", "json"]);
        Assert.True(token.ExitCode == 0, token.Stderr);
        var accessToken = JsonNode.Parse(token.Stdout)!["access_token"]!.GetValue<string>();
        Assert.StartsWith("ory_at_", accessToken);

        var introspected = await Cli(s, "introspect", "token", accessToken);
        Assert.Equal(0, introspected.ExitCode);
        Assert.Contains("ACTIVE\ttrue\n", introspected.Stdout);
        Assert.Contains($"CLIENT ID\t{id}\n", introspected.Stdout);
        Assert.Contains("SCOPE\tphotos.read\n", introspected.Stdout);

        // Rotating the ID-token key: the new key signs and is published next to the old one.
        var rotated = await Cli(s, "create", "jwks", "hydra.openid.id-token", "--alg", "ES256", "--kid", "cli-rotated", "--public", "--format", "json-pretty");
        Assert.True(rotated.ExitCode == 0, rotated.Stderr);
        var key = JsonNode.Parse(rotated.Stdout)!["keys"]![0]!;
        Assert.Equal("ES256", key["alg"]!.GetValue<string>());
        Assert.Null(key["d"]);
        Assert.Contains("\"cli-rotated\"", await s.Public.GetStringAsync("/.well-known/jwks.json"));

        // Revoking (the client's own credentials) ends the token; deleting the client's tokens ends a second one.
        var revoked = await CliProcess.RunAsync(["oauth2", "revoke", "token", accessToken, "--endpoint", s.PublicUrl],
            new Dictionary<string, string> { ["OAUTH2_CLIENT_ID"] = id, ["OAUTH2_CLIENT_SECRET"] = secret });
        Assert.True(revoked.ExitCode == 0, revoked.Stderr);
        Assert.Contains("ACTIVE\tfalse\n", (await Cli(s, "introspect", "token", accessToken)).Stdout);
        var second = JsonNode.Parse((await CliProcess.RunAsync(["oauth2", "perform", "client-credentials", "--endpoint", s.PublicUrl, "--client-id", id, "--client-secret", secret, "--format", "json"])).Stdout)!["access_token"]!.GetValue<string>();
        var wiped = await Cli(s, "delete", "access-tokens", id);
        Assert.True(wiped.ExitCode == 0, wiped.Stderr);
        Assert.Equal(id, wiped.Stdout.Trim());
        Assert.Contains("ACTIVE\tfalse\n", (await Cli(s, "introspect", "token", second)).Stdout);

        var deleted = await Cli(s, "delete", "client", id);
        Assert.Equal(0, deleted.ExitCode);
        Assert.Equal(id, deleted.Stdout.Trim());
        Assert.Equal(HttpStatusCode.NotFound, (await s.AdminWithKey.GetAsync($"/admin/clients/{id}")).StatusCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Update_import_and_key_sets_get_and_delete_as_hydras_cli(string db)
    {
        await using var s = await TestServer.StartAsync(db, configureServices: services =>
            Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton(services, new Gatehouse.OAuth2.Keys.KeyGeneration { RsaBits = 2048 }));
        var created = JsonNode.Parse((await Cli(s, "create", "client", "--name", "Before", "--scope", "a,b", "--redirect-uri", "https://app.example/cb", "--owner", "team-1", "--format", "json")).Stdout)!;
        var id = created["client_id"]!.GetValue<string>();

        // Flags change only their fields (patchOAuth2Client); the rest stays.
        var patched = await Cli(s, "update", "client", id, "--name", "After", "--skip-consent", "--format", "json");
        Assert.True(patched.ExitCode == 0, patched.Stderr);
        var after = JsonNode.Parse(patched.Stdout)!;
        Assert.Equal("After", after["client_name"]!.GetValue<string>());
        Assert.True(after["skip_consent"]!.GetValue<bool>());
        Assert.Equal("a b", after["scope"]!.GetValue<string>());
        Assert.Equal("team-1", after["owner"]!.GetValue<string>());
        Assert.Equal(["https://app.example/cb"], after["redirect_uris"]!.AsArray().Select(u => u!.GetValue<string>()));
        // Nothing to change is an error, and changes nothing.
        var empty = await Cli(s, "update", "client", id);
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("nothing to update", empty.Stderr);

        // --file replaces the whole client (setOAuth2Client): fields left out are reset.
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, $$"""{"client_name":"Replaced","grant_types":["client_credentials"],"scope":"c"}""");
            var replaced = JsonNode.Parse((await Cli(s, "update", "client", id, "--file", file, "--format", "json")).Stdout)!;
            Assert.Equal("Replaced", replaced["client_name"]!.GetValue<string>());
            Assert.Equal("", replaced["owner"]!.GetValue<string>());
            Assert.Empty(replaced["redirect_uris"]!.AsArray());

            // Import: each file an array of clients; one bad client is reported and the others are still created.
            await File.WriteAllTextAsync(file, """[{"client_name":"Imported 1","client_secret":"imported-secret-1"},{"client_name":"Bad","redirect_uris":["not a url"]},{"client_name":"Imported 2"}]""");
            var imported = await Cli(s, "import", "client", file, "--format", "json");
            Assert.Equal(1, imported.ExitCode);
            Assert.Contains("invalid_redirect_uri", imported.Stderr);
            var clients = JsonNode.Parse(imported.Stdout)!.AsArray();
            Assert.Equal(["Imported 1", "Imported 2"], clients.Select(c => c!["client_name"]!.GetValue<string>()));
            Assert.Equal("imported-secret-1", clients[0]!["client_secret"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.OK, (await s.AdminWithKey.GetAsync($"/admin/clients/{clients[1]!["client_id"]!.GetValue<string>()}")).StatusCode);
        }
        finally
        {
            File.Delete(file);
        }

        // Key sets: create, get (public parts only with --public), delete.
        Assert.Equal(0, (await Cli(s, "create", "jwks", "cli-set", "--alg", "ES256", "--kid", "k1")).ExitCode);
        var got = await Cli(s, "get", "jwks", "cli-set");
        Assert.Equal(0, got.ExitCode);
        Assert.Contains("cli-set\tk1\tES256\tsig", got.Stdout);
        var publicOnly = JsonNode.Parse((await Cli(s, "get", "jwk", "cli-set", "--public", "--format", "json")).Stdout)!["keys"]![0]!;
        Assert.Equal("k1", publicOnly["kid"]!.GetValue<string>());
        Assert.Null(publicOnly["d"]);
        var deleted = await Cli(s, "delete", "jwks", "cli-set");
        Assert.Equal(0, deleted.ExitCode);
        Assert.Equal("cli-set", deleted.Stdout.Trim());
        Assert.Equal(HttpStatusCode.NotFound, (await s.AdminWithKey.GetAsync("/admin/keys/cli-set")).StatusCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_noun_first_spelling_of_issue_14_works_too(string db)
    {
        await using var s = await TestServer.StartAsync(db, configureServices: services =>
            Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton(services, new Gatehouse.OAuth2.Keys.KeyGeneration { RsaBits = 2048 }));
        var created = await Cli(s, "clients", "create", "--name", "noun first", "--format", "json");
        Assert.True(created.ExitCode == 0, created.Stderr);
        var id = JsonNode.Parse(created.Stdout)!["client_id"]!.GetValue<string>();
        Assert.Contains(id, (await Cli(s, "clients", "list")).Stdout);
        Assert.Contains($"CLIENT ID\t{id}", (await Cli(s, "clients", "get", id)).Stdout);

        var before = await s.Public.GetStringAsync("/.well-known/openid-configuration");
        Assert.Contains("\"RS256\"", before);
        var rotated = await Cli(s, "keys", "rotate", "--alg", "ES256", "--format", "json");
        Assert.True(rotated.ExitCode == 0, rotated.Stderr);
        var kid = JsonNode.Parse(rotated.Stdout)!["kid"]!.GetValue<string>();
        // The new key signs (discovery follows it) and the old one stays published.
        Assert.Contains("\"ES256\"", await s.Public.GetStringAsync("/.well-known/openid-configuration"));
        var jwks = JsonNode.Parse(await s.Public.GetStringAsync("/.well-known/jwks.json"))!["keys"]!.AsArray();
        Assert.Equal(kid, jwks[0]!["kid"]!.GetValue<string>());
        Assert.Equal(2, jwks.Count);

        Assert.Equal(0, (await Cli(s, "clients", "delete", id)).ExitCode);
        Assert.Equal(1, (await Cli(s, "clients", "get", id)).ExitCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Import_jwk_reads_pem_der_and_jwk_files_and_standard_input_into_a_new_set(string db)
    {
        await using var s = await TestServer.StartAsync(db);
        var dir = Directory.CreateTempSubdirectory("gatehouse-import-jwk-").FullName;
        try
        {
            using var rsa = System.Security.Cryptography.RSA.Create(2048);
            using var ec = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
            var rsaPem = Path.Combine(dir, "rsa.key");
            await File.WriteAllTextAsync(rsaPem, rsa.ExportPkcs8PrivateKeyPem());
            var ecDer = Path.Combine(dir, "ec.pub.der");
            await File.WriteAllBytesAsync(ecDer, ec.ExportSubjectPublicKeyInfo());
            var jwk = Path.Combine(dir, "key.json");
            await File.WriteAllTextAsync(jwk, """{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXh4eHg","kid":"given-kid","alg":"HS256","use":"sig"}""");
            var broken = Path.Combine(dir, "broken.pem");
            await File.WriteAllTextAsync(broken, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");

            var imported = await Cli(s, "import", "jwk", "imported-set", rsaPem, ecDer, jwk, "--alg", "RS256");
            Assert.True(imported.ExitCode == 0, imported.Stderr);
            Assert.StartsWith("SET ID\tKEY ID\tALGORITHM\tUSE", imported.Stdout);
            Assert.Contains("imported-set\tgiven-kid\tHS256\tsig", imported.Stdout);

            var set = JsonNode.Parse(await (await s.AdminWithKey.GetAsync("/admin/keys/imported-set")).Content.ReadAsStringAsync())!["keys"]!.AsArray().Select(k => k!.AsObject()).ToList();
            Assert.Equal(3, set.Count);
            var rsaKey = Assert.Single(set, k => k["kty"]!.GetValue<string>() == "RSA");
            Assert.Equal("RS256", rsaKey["alg"]!.GetValue<string>());
            Assert.True(Guid.TryParse(rsaKey["kid"]!.GetValue<string>(), out _));
            Assert.Equal(System.Buffers.Text.Base64Url.EncodeToString(rsa.ExportParameters(false).Modulus!), rsaKey["n"]!.GetValue<string>());
            Assert.NotNull(rsaKey["d"]);
            var ecKey = Assert.Single(set, k => k["kty"]!.GetValue<string>() == "EC");
            Assert.Equal("P-256", ecKey["crv"]!.GetValue<string>());
            Assert.Null(ecKey["d"]);

            // Standard input; a PEM needs --alg; a broken file is reported and the others are still imported (exit 1).
            var fromStdin = await CliProcess.RunAsync(["oauth2", "import", "jwk", "stdin-set", "--alg", "ES256", "--format", "json", "--endpoint", s.PublicUrl, "--api-key", s.ApiKey], stdin: ec.ExportECPrivateKeyPem());
            Assert.True(fromStdin.ExitCode == 0, fromStdin.Stderr);
            Assert.Equal("ES256", JsonNode.Parse(fromStdin.Stdout)!["keys"]![0]!["alg"]!.GetValue<string>());
            var noAlg = await Cli(s, "import", "jwk", "other-set", rsaPem);
            Assert.Equal(1, noAlg.ExitCode);
            Assert.Contains("Flag `--alg` is required", noAlg.Stderr);
            var partial = await Cli(s, "import", "jwk", "partial-set", broken, rsaPem, "--alg", "RS256");
            Assert.Equal(1, partial.ExitCode);
            Assert.Contains("broken.pem", partial.Stderr);
            Assert.Single(JsonNode.Parse(await (await s.AdminWithKey.GetAsync("/admin/keys/partial-set")).Content.ReadAsStringAsync())!["keys"]!.AsArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Subject_type_and_sector_identifier_uri_flags_as_hydras_cli(string db)
    {
        // Hydra cmd/cmd_helper_client.go registerClientFlags: --subject-type (default public) and --sector-identifier-uri.
        await using var s = await TestServer.StartAsync(db, o => o.Oidc.SubjectIdentifiers.SupportedTypes = ["public", "pairwise"]);
        var created = await Cli(s, "create", "client", "--redirect-uri", "https://app.example/cb", "--format", "json");
        Assert.True(created.ExitCode == 0, created.Stderr);
        var client = JsonNode.Parse(created.Stdout)!;
        Assert.Equal("public", client["subject_type"]!.GetValue<string>());

        var pairwise = await Cli(s, "update", "client", client["client_id"]!.GetValue<string>(), "--subject-type", "pairwise", "--format", "json");
        Assert.True(pairwise.ExitCode == 0, pairwise.Stderr);
        Assert.Equal("pairwise", JsonNode.Parse(pairwise.Stdout)!["subject_type"]!.GetValue<string>());

        // The URI reaches the server, which validates it (https only).
        var sector = await Cli(s, "create", "client", "--subject-type", "pairwise", "--sector-identifier-uri", "http://sector.example/uris.json", "--redirect-uri", "https://app.example/cb");
        Assert.Equal(1, sector.ExitCode);
        Assert.Contains("sector_identifier_uri must be an HTTPS URL", sector.Stderr);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Failures_are_one_line_on_stderr_with_hydras_error(string db)
    {
        await using var s = await TestServer.StartAsync(db);

        var missing = await Cli(s, "get", "client", "no-such-client");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("error: 404 Unable to locate the resource", missing.Stderr.Trim());

        var invalid = await Cli(s, "create", "client", "--redirect-uri", "https://app.example/cb#fragment");
        Assert.Equal(1, invalid.ExitCode);
        Assert.StartsWith("error: 400 invalid_redirect_uri: ", invalid.Stderr.Trim());

        var badKey = await CliProcess.RunAsync(["oauth2", "list", "clients", "--endpoint", s.PublicUrl, "--api-key", "wrong"]);
        Assert.Equal(1, badKey.ExitCode);
        Assert.StartsWith("error: 401", badKey.Stderr.Trim());

        var badSecret = await CliProcess.RunAsync(["oauth2", "perform", "client-credentials", "--endpoint", s.PublicUrl, "--client-id", "x", "--client-secret", "y"]);
        Assert.Equal(1, badSecret.ExitCode);
        Assert.StartsWith("error: 401 invalid_client", badSecret.Stderr.Trim());

        var noEndpoint = await CliProcess.RunAsync(["oauth2", "list", "clients"], new Dictionary<string, string> { ["ORY_SDK_URL"] = "" });
        Assert.Equal(1, noEndpoint.ExitCode);
        Assert.Equal("error: the server's URL is needed: --endpoint or $ORY_SDK_URL", noEndpoint.Stderr.Trim());

        var unreachable = await CliProcess.RunAsync(["oauth2", "list", "clients", "--endpoint", $"http://127.0.0.1:{TestServer.FreePort()}"]);
        Assert.Equal(1, unreachable.ExitCode);
        Assert.StartsWith("error: http://127.0.0.1:", unreachable.Stderr.Trim());
        Assert.DoesNotContain("   at ", unreachable.Stderr);
    }
}
