using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse oauth2 …</c>: the commands of Hydra's CLI that its users reach for first, with Hydra's verbs, nouns and
/// flags (<c>hydra create client</c> is <c>gatehouse oauth2 create client</c>). They talk to a running server over HTTP —
/// the admin API (<c>/admin/…</c>, with an API key on the public listener, as on Ory Network) and, for
/// <c>perform client-credentials</c>, the token endpoint — never to the database.
/// </summary>
internal static partial class OAuth2Command
{
    internal static readonly Option<string> Endpoint = new("--endpoint", "-e")
    {
        Description = "The server's URL (the public URL with an API key, or the admin URL). Default: $ORY_SDK_URL ($KRATOS_ADMIN_URL first for identity commands).",
        Recursive = true,
    };

    internal static readonly Option<string> ApiKey = new("--api-key")
    {
        Description = "Admin API key, sent as \"Authorization: Bearer\". Default: $ORY_API_KEY.",
        Recursive = true,
    };

    internal static readonly Option<string> Format = new("--format")
    {
        Description = "Output: default (a table; Kratos's and Hydra's name for it, table, works too), json, or json-pretty.",
        DefaultValueFactory = _ => "default",
        // Kratos's and Hydra's CLIs call the table format `table` (their default); the commands here know it as `default`.
        CustomParser = result => result.Tokens is [{ Value: "table" }] ? "default" : result.Tokens.Count > 0 ? result.Tokens[^1].Value : "default",
        Recursive = true,
    };

    internal static readonly Option<string> Timeout = TimeoutOption();

    /// <summary>How long a client command waits for each answer (a Go duration, as Ory's CLIs take durations).</summary>
    internal static Option<string> TimeoutOption() => new("--timeout")
    {
        Description = "How long to wait for each answer of the server, e.g. 30s or 2m.",
        DefaultValueFactory = _ => "30s",
        Recursive = true,
    };

    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true };

    public static Command Create()
    {
        var root = new Command("oauth2", "Manage the OAuth2 provider (Hydra's CLI): clients, tokens, JSON Web Keys.") { Endpoint, ApiKey, Format, Timeout };
        foreach (var (verb, description, nouns) in HydraVerbs())
        {
            var command = new Command(verb, description);
            foreach (var noun in nouns) command.Subcommands.Add(noun);
            root.Subcommands.Add(command);
        }
        // Issue 14's spelling, noun first: `oauth2 clients create|get|list|delete`, `oauth2 keys rotate`.
        root.Subcommands.Add(new Command("clients", "Manage OAuth 2.0 clients (the same commands, noun first).")
        {
            Renamed(CreateClient(), "create"), Renamed(GetClient(), "get"), Renamed(ListClients(), "list"), Renamed(DeleteClient(), "delete"),
            Renamed(UpdateClient(), "update"), Renamed(ImportClients(), "import"),
        });
        root.Subcommands.Add(new Command("keys", "Manage the provider's signing keys.") { RotateKeys() });
        return root;
    }

    /// <summary>
    /// Hydra's verbs (<c>cmd/root.go</c>), each with fresh instances of its nouns (a command has one parent): under
    /// <c>gatehouse oauth2</c>, and at the top level beside Kratos's verbs (<see cref="KratosCommands"/>), so that
    /// <c>hydra create oauth2-client …</c> runs with <c>gatehouse</c> in place of <c>hydra</c>.
    /// </summary>
    internal static IEnumerable<(string Verb, string Description, Command[] Nouns)> HydraVerbs() =>
    [
        ("create", "Create resources.", [WithAliases(CreateClient(), "oauth2-client"), WithAliases(CreateJwks(), "jwk")]),
        ("get", "Get resources.", [WithAliases(GetClient(), "clients", "oauth2-client", "oauth2-clients"), GetJwks()]),
        ("list", "List resources.", [WithAliases(ListClients(), "oauth2-clients")]),
        ("delete", "Delete resources.", [WithAliases(DeleteClient(), "clients", "oauth2-client", "oauth2-clients"), DeleteAccessTokens(), DeleteJwks()]),
        ("update", "Update resources.", [WithAliases(UpdateClient(), "oauth2-client")]),
        ("import", "Import resources.", [WithAliases(ImportClients(), "oauth2-client", "oauth2-clients"), ImportJwk()]),
        ("revoke", "Revoke resources.", [RevokeToken()]),
        ("introspect", "Introspect resources.", [IntrospectToken()]),
        ("perform", "Perform OAuth 2.0 flows.", [PerformClientCredentials(), PerformAuthorizationCode(), PerformDeviceCode()]),
    ];

    /// <summary>Hydra's names for a noun that Gatehouse names otherwise (<c>oauth2-client</c>, <c>oauth2-clients</c>, <c>jwk</c>).</summary>
    private static Command WithAliases(Command command, params string[] aliases)
    {
        foreach (var alias in aliases) command.Aliases.Add(alias);
        return command;
    }

    /// <summary>A copy of <paramref name="command"/> under another name (System.CommandLine commands have one parent).</summary>
    private static Command Renamed(Command command, string name)
    {
        var renamed = new Command(name, command.Description);
        foreach (var o in command.Options) renamed.Options.Add(o);
        foreach (var a in command.Arguments) renamed.Arguments.Add(a);
        renamed.Action = command.Action;
        return renamed;
    }

    private static Command RotateKeys()
    {
        var alg = new Option<string>("--alg") { Description = "The new key's algorithm (RS256, ES256, …).", DefaultValueFactory = _ => "RS256" };
        var set = new Option<string>("--set") { Description = "The key set to rotate.", DefaultValueFactory = _ => "hydra.openid.id-token" };
        var command = new Command("rotate", "Rotate the ID-token signing key: a new key signs from now on; older keys stay published so tokens in flight keep verifying.") { alg, set };
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var created = await api.SendAsync(HttpMethod.Post, "admin/keys/" + Uri.EscapeDataString(parse.GetValue(set)!), Json(new JsonObject { ["alg"] = parse.GetValue(alg), ["use"] = "sig" }), ct);
            var key = created["keys"]?.AsArray().OfType<JsonObject>().FirstOrDefault() ?? throw new InvalidOperationException("the server answered without a key");
            if (parse.GetValue(Format) == "default") Vertical(["SET ID", "KEY ID", "ALGORITHM"], [parse.GetValue(set)!, Str(key, "kid"), Str(key, "alg")]);
            else PrintJson(parse, new JsonObject { ["set"] = parse.GetValue(set), ["kid"] = Str(key, "kid"), ["alg"] = Str(key, "alg") });
            return 0;
        }));
        return command;
    }

    // ---- create / update / import client ----

    /// <summary>Hydra's client flags (<c>registerClientFlags</c>), shared by <c>create client</c> and <c>update client</c>.</summary>
    private sealed class ClientFlags
    {
        private readonly Option<string> _name = new("--name") { Description = "The client's name." };
        private readonly Option<string[]> _grantTypes = Strings("--grant-type", "A list of allowed grant types.", "authorization_code");
        private readonly Option<string[]> _responseTypes = Strings("--response-type", "A list of allowed response types.", "code");
        private readonly Option<string[]> _scopes = Strings("--scope", "The scope the client is allowed to request.");
        private readonly Option<string[]> _redirectUris = Strings("--redirect-uri", "List of allowed OAuth2 Redirect URIs.");
        private readonly Option<string[]> _audience = Strings("--audience", "The audience this client is allowed to request.");
        private readonly Option<string[]> _postLogout = Strings("--post-logout-callback", "List of allowed URLs to be redirected to after a logout.");
        private readonly Option<string> _authMethod = new("--token-endpoint-auth-method") { Description = "client_secret_basic, client_secret_post, or none.", DefaultValueFactory = _ => "client_secret_basic" };
        private readonly Option<string> _secret = new("--secret") { Description = "Provide the client's secret (at least 6 characters); generated when left out." };
        private readonly Option<string> _owner = new("--owner") { Description = "The owner of this client, typically email addresses or a user ID." };
        private readonly Option<string> _front = new("--frontchannel-logout-callback") { Description = "Front-channel logout URI." };
        private readonly Option<string> _back = new("--backchannel-logout-callback") { Description = "Back-channel logout URI." };
        private readonly Option<bool> _skipConsent = new("--skip-consent") { Description = "Skip the consent screen for this client (first-party apps)." };
        private readonly Option<bool> _skipLogoutConsent = new("--skip-logout-consent") { Description = "Skip the logout question for this client." };
        private readonly Option<string> _metadata = new("--metadata") { Description = "Metadata, an arbitrary JSON object." };
        private readonly Option<string> _subjectType = new("--subject-type") { Description = "A identifier algorithm. Valid values are `public` and `pairwise`.", DefaultValueFactory = _ => "public" };
        private readonly Option<string> _sectorIdentifierUri = new("--sector-identifier-uri") { Description = "URL using the https scheme to be used in calculating Pseudonymous Identifiers by the OP. The URL references a file with a single JSON array of redirect_uri values." };
        private readonly Option<string> _file = new("--file") { Description = "Read the client as JSON from this file (\"-\": standard input); the other client flags are ignored." };

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { _name, _grantTypes, _responseTypes, _scopes, _redirectUris, _audience, _postLogout, _authMethod, _secret, _owner, _front, _back, _skipConsent, _skipLogoutConsent, _metadata, _subjectType, _sectorIdentifierUri, _file })
                command.Options.Add(o);
        }

        /// <summary>The client from <c>--file</c>, or null without it.</summary>
        public async Task<JsonObject?> FromFileAsync(ParseResult parse, CancellationToken ct)
        {
            if (parse.GetValue(_file) is not { Length: > 0 } path) return null;
            var text = path == "-" ? await Console.In.ReadToEndAsync(ct) : await File.ReadAllTextAsync(path, ct);
            return JsonNode.Parse(text) as JsonObject ?? throw new FormatException($"{path} does not hold a JSON object");
        }

        /// <summary>Each client field with its flag's value (given or default), as Hydra's <c>clientFromFlags</c>.</summary>
        private IEnumerable<(string Field, Option Flag, JsonNode? Value)> Fields(ParseResult parse)
        {
            yield return ("grant_types", _grantTypes, Array(List(parse, _grantTypes)));
            yield return ("response_types", _responseTypes, Array(List(parse, _responseTypes)));
            yield return ("redirect_uris", _redirectUris, Array(List(parse, _redirectUris)));
            yield return ("audience", _audience, Array(List(parse, _audience)));
            yield return ("post_logout_redirect_uris", _postLogout, Array(List(parse, _postLogout)));
            yield return ("token_endpoint_auth_method", _authMethod, parse.GetValue(_authMethod));
            yield return ("scope", _scopes, List(parse, _scopes) is { Count: > 0 } s ? string.Join(' ', s) : null);
            yield return ("client_name", _name, parse.GetValue(_name) is { Length: > 0 } n ? n : null);
            yield return ("client_secret", _secret, parse.GetValue(_secret) is { Length: > 0 } sec ? sec : null);
            yield return ("owner", _owner, parse.GetValue(_owner) is { Length: > 0 } o ? o : null);
            yield return ("frontchannel_logout_uri", _front, parse.GetValue(_front) is { Length: > 0 } f ? f : null);
            yield return ("backchannel_logout_uri", _back, parse.GetValue(_back) is { Length: > 0 } b ? b : null);
            yield return ("skip_consent", _skipConsent, parse.GetValue(_skipConsent) ? true : null);
            yield return ("skip_logout_consent", _skipLogoutConsent, parse.GetValue(_skipLogoutConsent) ? true : null);
            yield return ("subject_type", _subjectType, parse.GetValue(_subjectType) is { Length: > 0 } st ? st : null);
            yield return ("sector_identifier_uri", _sectorIdentifierUri, parse.GetValue(_sectorIdentifierUri) is { Length: > 0 } sector ? sector : null);
            yield return ("metadata", _metadata, parse.GetValue(_metadata) is { Length: > 0 } m ? JsonNode.Parse(m) as JsonObject ?? throw new FormatException("--metadata must be a JSON object") : null);
        }

        /// <summary>A whole client from the flags (defaults included).</summary>
        public JsonObject Body(ParseResult parse)
        {
            var body = new JsonObject();
            foreach (var (field, _, value) in Fields(parse))
            {
                if (value is not null) body[field] = value;
            }
            return body;
        }

        /// <summary>
        /// A JSON Patch of only the flags given on the command line (Hydra's <c>clientPatchFromFlags</c>): the client's
        /// other fields keep their values.
        /// </summary>
        public JsonArray Patch(ParseResult parse)
        {
            var patch = new JsonArray();
            foreach (var (field, flag, value) in Fields(parse))
            {
                if (parse.GetResult(flag) is not { Implicit: false }) continue;
                patch.Add(new JsonObject { ["op"] = "replace", ["path"] = "/" + field, ["value"] = value ?? (flag is Option<bool> ? false : null) });
            }
            return patch.Count > 0 ? patch : throw new ArgumentException("nothing to update: give the fields to change as flags, or the whole client with --file");
        }
    }

    private static Command CreateClient()
    {
        var flags = new ClientFlags();
        var command = new Command("client", "Create an OAuth 2.0 client (createOAuth2Client). The secret is shown once.");
        flags.AddTo(command);
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var body = await flags.FromFileAsync(parse, ct) ?? flags.Body(parse);
            var created = await api.SendAsync(HttpMethod.Post, "admin/clients", Json(body), ct);
            PrintClients(parse, created, single: true);
            return 0;
        }));
        return command;
    }

    private static Command UpdateClient()
    {
        var id = new Argument<string>("id") { Description = "The client to update." };
        var flags = new ClientFlags();
        var command = new Command("client", "Update an OAuth 2.0 client: only the fields given as flags change (patchOAuth2Client); --file replaces the whole client (setOAuth2Client), fields left out of it are reset.") { id };
        flags.AddTo(command);
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var path = "admin/clients/" + Uri.EscapeDataString(parse.GetValue(id)!);
            var updated = await flags.FromFileAsync(parse, ct) is { } whole
                ? await api.SendAsync(HttpMethod.Put, path, Json(whole), ct)
                : await api.SendAsync(HttpMethod.Patch, path, Json(flags.Patch(parse)), ct);
            PrintClients(parse, updated, single: true);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Hydra's <c>import client</c>: each file (or standard input without files) holds a JSON array of clients, each created
    /// as <c>createOAuth2Client</c>; existing clients are not updated. A client that fails is reported on standard error and
    /// the others are still imported; the exit code is 1 then.
    /// </summary>
    private static Command ImportClients()
    {
        var files = new Argument<string[]>("file") { Description = "JSON files, each an array of clients; none: standard input.", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("client", "Import OAuth 2.0 clients from JSON files (each an array of clients) or standard input.") { files };
        command.Aliases.Add("clients");
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var sources = parse.GetValue(files) is { Length: > 0 } paths
                ? await Task.WhenAll(paths.Select(async p => (Name: p, Text: await File.ReadAllTextAsync(p, ct))))
                : [("STDIN", await Console.In.ReadToEndAsync(ct))];
            var batches = new List<(string Source, JsonArray Clients)>();
            foreach (var (name, text) in sources)
            {
                if (text.Trim().Length == 0) continue;
                batches.Add((name, JsonNode.Parse(text) as JsonArray ?? throw new FormatException($"{name}: expected a JSON array of clients")));
            }
            var imported = new JsonArray();
            var failed = 0;
            foreach (var (source, clients) in batches)
            {
                foreach (var client in clients)
                {
                    try
                    {
                        var created = await api.SendAsync(HttpMethod.Post, "admin/clients", Json(client ?? new JsonObject()), ct);
                        if (created["client_secret"] is null && client?["client_secret"] is { } given) created["client_secret"] = given.DeepClone();
                        imported.Add(created);
                    }
                    catch (InvalidOperationException e)
                    {
                        failed++;
                        Console.Error.WriteLine($"{source}: {e.Message}");
                    }
                }
            }
            PrintClients(parse, imported, single: false);
            return failed == 0 ? 0 : 1;
        }));
        return command;
    }

    // ---- get / list / delete client ----

    private static Command GetClient()
    {
        var ids = new Argument<string[]>("id") { Description = "Client ids.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("client", "Get OAuth 2.0 clients by id (getOAuth2Client).") { ids };
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var clients = new JsonArray();
            foreach (var id in parse.GetValue(ids)!) clients.Add(await api.SendAsync(HttpMethod.Get, "admin/clients/" + Uri.EscapeDataString(id), null, ct));
            PrintClients(parse, clients.Count == 1 ? clients[0]!.DeepClone() : clients, single: clients.Count == 1);
            return 0;
        }));
        return command;
    }

    private static Command ListClients()
    {
        var pageSize = new Option<int>("--page-size") { Description = "How many clients per page (default 250, at most 1000).", DefaultValueFactory = _ => 250 };
        var pageToken = new Option<string>("--page-token") { Description = "The page to show (the next page's token is printed after the list)." };
        var command = new Command("clients", "List OAuth 2.0 clients (listOAuth2Clients).") { pageSize, pageToken };
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var query = "admin/clients?page_size=" + parse.GetValue(pageSize).ToString(CultureInfo.InvariantCulture);
            if (parse.GetValue(pageToken) is { Length: > 0 } token) query += "&page_token=" + Uri.EscapeDataString(token);
            var (clients, next) = await api.SendWithNextPageAsync(query, ct);
            PrintClients(parse, clients, single: false);
            if (next is not null && parse.GetValue(Format) == "default") Console.WriteLine($"\nNEXT PAGE TOKEN\t{next}");
            return 0;
        }));
        return command;
    }

    private static Command DeleteClient()
    {
        var ids = new Argument<string[]>("id") { Description = "Client ids.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("client", "Delete OAuth 2.0 clients and their tokens (deleteOAuth2Client).") { ids };
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            foreach (var id in parse.GetValue(ids)!)
            {
                await api.SendAsync(HttpMethod.Delete, "admin/clients/" + Uri.EscapeDataString(id), null, ct);
                Console.WriteLine(id);
            }
            return 0;
        }));
        return command;
    }

    // ---- delete access-tokens / revoke token ----

    private static Command DeleteAccessTokens()
    {
        var clientId = new Argument<string>("client-id") { Description = "The client whose tokens are deleted." };
        var command = new Command("access-tokens", "Delete all OAuth2 access tokens of an OAuth2 client (deleteOAuth2Token).") { clientId };
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            await api.SendAsync(HttpMethod.Delete, "admin/oauth2/tokens?client_id=" + Uri.EscapeDataString(parse.GetValue(clientId)!), null, ct);
            Console.WriteLine(parse.GetValue(clientId));
            return 0;
        }));
        return command;
    }

    private static Command RevokeToken()
    {
        var token = new Argument<string>("token") { Description = "The access or refresh token." };
        var clientId = ClientIdOption();
        var clientSecret = ClientSecretOption();
        var command = new Command("token", "Revoke an access or refresh token and its grant at /oauth2/revoke (client_secret_basic).") { token, clientId, clientSecret };
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var basic = ClientBasic(parse.GetValue(clientId), parse.GetValue(clientSecret));
            await api.SendAsync(HttpMethod.Post, "oauth2/revoke", new FormUrlEncodedContent([new("token", parse.GetValue(token)!)]), ct, basic);
            Console.WriteLine(parse.GetValue(token));
            return 0;
        }));
        return command;
    }

    /// <summary>HTTP Basic of a client (flags, else Hydra's environment variables); id and secret form-url-encoded first (RFC 6749 2.3.1).</summary>
    private static AuthenticationHeaderValue ClientBasic(string? id, string? secret)
    {
        id ??= Environment.GetEnvironmentVariable("OAUTH2_CLIENT_ID");
        secret ??= Environment.GetEnvironmentVariable("OAUTH2_CLIENT_SECRET");
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(secret)) throw new ArgumentException("--client-id and --client-secret (or $OAUTH2_CLIENT_ID and $OAUTH2_CLIENT_SECRET) are required");
        return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(id) + ":" + Uri.EscapeDataString(secret))));
    }

    // ---- create jwks (key rotation) ----

    private static Command CreateJwks()
    {
        var set = new Argument<string>("set") { Description = "The key set, e.g. hydra.openid.id-token (a new key there rotates the ID-token signing key)." };
        var alg = new Option<string>("--alg") { Description = "RS256, ES256, EdDSA, … (as createJsonWebKeySet).", DefaultValueFactory = _ => "RS256" };
        var use = new Option<string>("--use") { Description = "sig or enc.", DefaultValueFactory = _ => "sig" };
        var kid = new Option<string>("--kid") { Description = "The key id; generated when left out." };
        var pub = new Option<bool>("--public") { Description = "Print only the public part." };
        var command = new Command("jwks", "Generate a key in a JSON Web Key Set (createJsonWebKeySet); the newest key signs, older ones stay published.") { set, alg, use, kid, pub };
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var body = new JsonObject { ["alg"] = parse.GetValue(alg), ["use"] = parse.GetValue(use), ["kid"] = parse.GetValue(kid) ?? "" };
            var created = await api.SendAsync(HttpMethod.Post, "admin/keys/" + Uri.EscapeDataString(parse.GetValue(set)!), Json(body), ct);
            if (parse.GetValue(pub) && created["keys"] is JsonArray keys)
            {
                foreach (var key in keys.OfType<JsonObject>()) RemovePrivate(key);
            }
            if (parse.GetValue(Format) == "default")
            {
                Console.WriteLine("SET ID\tKEY ID\tALGORITHM\tUSE");
                foreach (var key in created["keys"]?.AsArray().OfType<JsonObject>() ?? [])
                    Console.WriteLine($"{parse.GetValue(set)}\t{Str(key, "kid")}\t{Str(key, "alg")}\t{Str(key, "use")}");
            }
            else
            {
                PrintJson(parse, created);
            }
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Hydra's <c>hydra import jwk set-id file-1 [file-n]</c>: each file (or standard input) holds one key as a JSON Web Key
    /// or PEM/DER (PKCS#8, PKCS#1, SEC1 or SubjectPublicKeyInfo; RSA or EC); it is stored with <c>setJsonWebKey</c>, which
    /// creates the set when it does not exist. A key without <c>kid</c> gets a random UUID; <c>alg</c> and <c>use</c> come
    /// from the flags when the key names none. A file that fails is reported on standard error, the others are imported,
    /// and the exit code is 1.
    /// </summary>
    private static Command ImportJwk()
    {
        var set = new Argument<string>("set-id") { Description = "The key set to import into (created when missing)." };
        var files = new Argument<string[]>("file") { Description = "Files with one key each (JSON Web Key, PEM or DER); none: standard input.", Arity = ArgumentArity.ZeroOrMore };
        var use = new Option<string>("--use") { Description = "The key's \"use\" when the key defines none.", DefaultValueFactory = _ => "sig" };
        var alg = new Option<string>("--alg") { Description = "The key's \"alg\" when the key defines none (required for PEM/DER).", DefaultValueFactory = _ => "" };
        var command = new Command("jwk", "Import JSON Web Keys from JSON, PEM or DER files or standard input into a key set (setJsonWebKey).") { set, files, use, alg };
        command.Aliases.Add("jwks");
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var setId = parse.GetValue(set)!;
            var sources = parse.GetValue(files) is { Length: > 0 } paths
                ? await Task.WhenAll(paths.Select(async p => (Name: p, Bytes: await File.ReadAllBytesAsync(p, ct))))
                : [("STDIN", Encoding.UTF8.GetBytes(await Console.In.ReadToEndAsync(ct)))];
            var imported = new JsonArray();
            var failed = 0;
            foreach (var (source, bytes) in sources)
            {
                try
                {
                    var key = KeyFiles.ToJwk(bytes);
                    if (Str(key, "kid").Length == 0) key["kid"] = Guid.NewGuid().ToString();
                    if (Str(key, "alg").Length == 0) key["alg"] = parse.GetValue(alg) is { Length: > 0 } a ? a : throw new FormatException("Flag `--alg` is required when imported key does not define the `alg` field itself.");
                    if (Str(key, "use").Length == 0) key["use"] = parse.GetValue(use) is { Length: > 0 } u ? u : throw new FormatException("Flag `--use` is required when imported key does not define the `use` field itself.");
                    var stored = await api.SendAsync(HttpMethod.Put, $"admin/keys/{Uri.EscapeDataString(setId)}/{Uri.EscapeDataString(Str(key, "kid"))}", Json(key), ct);
                    imported.Add(stored);
                }
                catch (Exception e) when (e is FormatException or InvalidOperationException or CryptographicException)
                {
                    failed++;
                    Console.Error.WriteLine($"{source}: {e.Message}");
                }
            }
            if (parse.GetValue(Format) == "default")
            {
                Console.WriteLine("SET ID\tKEY ID\tALGORITHM\tUSE");
                foreach (var key in imported.OfType<JsonObject>()) Console.WriteLine($"{setId}\t{Str(key, "kid")}\t{Str(key, "alg")}\t{Str(key, "use")}");
            }
            else
            {
                PrintJson(parse, new JsonObject { ["keys"] = imported });
            }
            return failed == 0 ? 0 : 1;
        }));
        return command;
    }

    private static Command GetJwks()
    {
        var sets = new Argument<string[]>("set") { Description = "Key set ids.", Arity = ArgumentArity.OneOrMore };
        var pub = new Option<bool>("--public") { Description = "Print only the public parts." };
        var command = new Command("jwks", "Get JSON Web Key Sets by their ids (getJsonWebKeySet).") { sets, pub };
        command.Aliases.Add("jwk");
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var keys = new JsonArray();
            foreach (var set in parse.GetValue(sets)!)
            {
                var found = await api.SendAsync(HttpMethod.Get, "admin/keys/" + Uri.EscapeDataString(set), null, ct);
                foreach (var key in found["keys"]?.AsArray().OfType<JsonObject>() ?? [])
                {
                    var copy = (JsonObject)key.DeepClone();
                    if (parse.GetValue(pub)) RemovePrivate(copy);
                    copy["set"] = set;
                    keys.Add(copy);
                }
            }
            if (parse.GetValue(Format) == "default")
            {
                Console.WriteLine("SET ID\tKEY ID\tALGORITHM\tUSE");
                foreach (var key in keys.OfType<JsonObject>()) Console.WriteLine($"{Str(key, "set")}\t{Str(key, "kid")}\t{Str(key, "alg")}\t{Str(key, "use")}");
            }
            else
            {
                foreach (var key in keys.OfType<JsonObject>()) key.Remove("set");
                PrintJson(parse, new JsonObject { ["keys"] = keys });
            }
            return 0;
        }));
        return command;
    }

    private static Command DeleteJwks()
    {
        var sets = new Argument<string[]>("set") { Description = "Key set ids.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("jwks", "Delete JSON Web Key Sets by their ids (deleteJsonWebKeySet).") { sets };
        command.Aliases.Add("jwk");
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            foreach (var set in parse.GetValue(sets)!)
            {
                await api.SendAsync(HttpMethod.Delete, "admin/keys/" + Uri.EscapeDataString(set), null, ct);
                Console.WriteLine(set);
            }
            return 0;
        }));
        return command;
    }

    /// <summary>Leaves only a key's public members.</summary>
    private static void RemovePrivate(JsonObject key)
    {
        foreach (var member in new[] { "d", "p", "q", "dp", "dq", "qi", "k" }) key.Remove(member);
    }

    // ---- introspect token ----

    private static Command IntrospectToken()
    {
        var token = new Argument<string>("token") { Description = "The access or refresh token." };
        var scopes = Strings("--scope", "Additionally check that the token was granted these scopes.");
        var command = new Command("token", "Introspect an access or refresh token (introspectOAuth2Token).") { token, scopes };
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var form = new List<KeyValuePair<string, string>> { new("token", parse.GetValue(token)!) };
            if (List(parse, scopes) is { Count: > 0 } s) form.Add(new("scope", string.Join(' ', s)));
            var result = (JsonObject)await api.SendAsync(HttpMethod.Post, "admin/oauth2/introspect", new FormUrlEncodedContent(form), ct);
            if (parse.GetValue(Format) == "default")
            {
                var exp = result["exp"] is JsonValue e && e.TryGetValue<long>(out var unix) ? DateTimeOffset.FromUnixTimeSeconds(unix).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : "";
                Vertical(["ACTIVE", "SUBJECT", "CLIENT ID", "SCOPE", "EXPIRY", "TOKEN USE"],
                    [result["active"]?.ToJsonString() ?? "false", Str(result, "sub"), Str(result, "client_id"), Str(result, "scope"), exp, Str(result, "token_use")]);
            }
            else
            {
                PrintJson(parse, result);
            }
            return 0;
        }));
        return command;
    }

    // ---- perform client-credentials ----

    private static Command PerformClientCredentials()
    {
        var clientId = ClientIdOption();
        var clientSecret = ClientSecretOption();
        var scopes = Strings("--scope", "Scopes to request.");
        var audience = Strings("--audience", "Audiences to request.");
        var command = new Command("client-credentials", "Get an access token with the client credentials grant at /oauth2/token (client_secret_basic).") { clientId, clientSecret, scopes, audience };
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var basic = ClientBasic(parse.GetValue(clientId), parse.GetValue(clientSecret));
            var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
            if (List(parse, scopes) is { Count: > 0 } s) form.Add(new("scope", string.Join(' ', s)));
            if (List(parse, audience) is { Count: > 0 } a) form.Add(new("audience", string.Join(' ', a)));
            var issuedAt = DateTime.UtcNow;
            var token = (JsonObject)await api.SendAsync(HttpMethod.Post, "oauth2/token", new FormUrlEncodedContent(form), ct, basic);
            PrintToken(parse, token, issuedAt);
            return 0;
        }));
        return command;
    }

    // ---- plumbing ----

    /// <summary>The HTTP side: one base URL, the API key on admin calls, Hydra's errors as one line.</summary>
    internal sealed class Api(HttpClient http, Uri baseUrl, string? apiKey)
    {
        /// <summary>Whether a GET of <paramref name="path"/> answers 2xx; false when it answers otherwise or not at all.</summary>
        public async Task<bool> IsOkAsync(string path, CancellationToken ct)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(baseUrl, path), ct);
                return response.IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested))
            {
                return false;
            }
        }

        /// <summary>A path under the endpoint.</summary>
        public Uri Resolve(string path) => new(baseUrl, path);

        /// <summary>A form POST to an OAuth2 endpoint (never with the API key): the status and the JSON answer, whatever they are.</summary>
        public async Task<(int Status, JsonNode? Body)> TryTokenAsync(Uri url, IEnumerable<KeyValuePair<string, string>> form, AuthenticationHeaderValue? auth, CancellationToken ct)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
            request.Headers.Authorization = auth;
            try
            {
                using var response = await http.SendAsync(request, ct);
                var text = await response.Content.ReadAsStringAsync(ct);
                JsonNode? body;
                try
                {
                    body = text.Length == 0 ? null : JsonNode.Parse(text);
                }
                catch (JsonException)
                {
                    body = JsonValue.Create(text.Length > 200 ? text[..200] : text);
                }
                return ((int)response.StatusCode, body);
            }
            catch (HttpRequestException e)
            {
                throw new InvalidOperationException($"{url.GetLeftPart(UriPartial.Path)}: {e.Message}", e);
            }
            catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
            {
                throw new InvalidOperationException($"{url.GetLeftPart(UriPartial.Path)}: no answer within {http.Timeout.TotalSeconds:0.###} s", e);
            }
        }

        /// <summary><see cref="TryTokenAsync"/> that wants a 200 with a JSON object, else fails with the server's error.</summary>
        public async Task<JsonObject> TokenAsync(Uri url, IEnumerable<KeyValuePair<string, string>> form, AuthenticationHeaderValue? auth, CancellationToken ct)
        {
            var (status, body) = await TryTokenAsync(url, form, auth, ct);
            return status == 200 && body is JsonObject o ? o : throw new InvalidOperationException(Describe(status, body));
        }

        /// <summary>An answer as one phrase: the status and the OAuth2 error.</summary>
        public static string Describe(int status, JsonNode? body) => $"{status} {Describe(body?.ToJsonString() ?? "")}";

        public async Task<JsonNode> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct, AuthenticationHeaderValue? auth = null)
        {
            using var response = await SendRawAsync(method, path, content, ct, auth);
            var text = await response.Content.ReadAsStringAsync(ct);
            return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject();
        }

        public async Task<(JsonNode Items, string? Next)> SendWithNextPageAsync(string path, CancellationToken ct)
        {
            using var response = await SendRawAsync(HttpMethod.Get, path, null, ct, null);
            var items = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct)) ?? new JsonArray();
            string? next = null;
            if (response.Headers.TryGetValues("Link", out var links))
            {
                foreach (var link in links.SelectMany(l => l.Split(',')))
                {
                    if (!link.Contains("rel=\"next\"", StringComparison.Ordinal)) continue;
                    var url = link[(link.IndexOf('<', StringComparison.Ordinal) + 1)..link.IndexOf('>', StringComparison.Ordinal)];
                    next = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(baseUrl, url).Query)["page_token"].ToString();
                }
            }
            return (items, string.IsNullOrEmpty(next) ? null : next);
        }

        private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct, AuthenticationHeaderValue? auth)
        {
            using var request = new HttpRequestMessage(method, new Uri(baseUrl, path)) { Content = content };
            if (auth is not null) request.Headers.Authorization = auth;
            else if (!string.IsNullOrEmpty(apiKey)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, ct);
            }
            catch (HttpRequestException e)
            {
                throw new InvalidOperationException($"{new Uri(baseUrl, path).GetLeftPart(UriPartial.Path)}: {e.Message}", e);
            }
            catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
            {
                throw new InvalidOperationException($"{new Uri(baseUrl, path).GetLeftPart(UriPartial.Path)}: no answer within {http.Timeout.TotalSeconds:0.###} s", e);
            }
            if (response.IsSuccessStatusCode) return response;
            var body = await response.Content.ReadAsStringAsync(ct);
            response.Dispose();
            throw new InvalidOperationException($"{(int)response.StatusCode} {Describe(body)}");
        }

        /// <summary>Hydra's <c>{error, error_description}</c>, or Kratos's envelope (a missing API key), as one phrase.</summary>
        public static string Describe(string body)
        {
            try
            {
                if (JsonNode.Parse(body) is JsonObject o)
                {
                    if (o["error"] is JsonValue e) return $"{e}: {o["error_description"]}".TrimEnd(' ', ':');
                    if (o["error"] is JsonObject k) return $"{k["status"]}: {k["reason"] ?? k["message"]}";
                }
            }
            catch (JsonException)
            {
            }
            return body.Length > 200 ? body[..200] : body;
        }
    }

    private static Task<int> Run(ParseResult parse, Func<Api, Task<int>> body) =>
        RunAgainst(parse.GetValue(Endpoint), "$ORY_SDK_URL", parse.GetValue(ApiKey), parse.GetValue(Format), parse.GetValue(Timeout), body);

    /// <summary>
    /// A command against a running server: the endpoint (else the environment variable <paramref name="endpointVariable"/>,
    /// else <c>$ORY_SDK_URL</c>), the API key (else <c>$ORY_API_KEY</c>), a known output format; failures become one line.
    /// </summary>
    internal static Task<int> RunAgainst(string? endpoint, string endpointVariable, string? apiKey, string? format, string? timeout, Func<Api, Task<int>> body) => CliContext.Run(async () =>
    {
        if (!Config.GoDuration.TryParse(timeout ?? "30s", out var wait) || wait <= TimeSpan.Zero || wait > TimeSpan.FromHours(1))
            throw new ArgumentException($"--timeout \"{timeout}\" is not a duration between 1ms and 1h (e.g. 30s)");
        endpoint ??= Environment.GetEnvironmentVariable(endpointVariable.TrimStart('$')) is { Length: > 0 } fromEnv ? fromEnv : Environment.GetEnvironmentVariable("ORY_SDK_URL");
        if (string.IsNullOrEmpty(endpoint))
            throw new ArgumentException($"the server's URL is needed: --endpoint or {endpointVariable}{(endpointVariable == "$ORY_SDK_URL" ? "" : " (or $ORY_SDK_URL)")}");
        if (!Uri.TryCreate(endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--endpoint \"{endpoint}\" is not an http(s) URL");
        if (format is not ("default" or "json" or "json-pretty")) throw new ArgumentException("--format must be default, json or json-pretty");
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = wait };
        return await body(new Api(http, baseUrl, apiKey ?? Environment.GetEnvironmentVariable("ORY_API_KEY")));
    });

    private static Option<string[]> Strings(string name, string description, params string[] defaults) => new(name)
    {
        Description = description + " Repeat the flag or separate values with commas.",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => defaults,
    };

    /// <summary>The values of a repeatable flag, comma-separated values split (as Hydra's string slices).</summary>
    private static List<string> List(ParseResult parse, Option<string[]> option) =>
        [.. (parse.GetValue(option) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    private static JsonArray Array(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)v)]);

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private static string Str(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    /// <summary>Hydra's client table: one client vertically, several as rows.</summary>
    private static void PrintClients(ParseResult parse, JsonNode clients, bool single)
    {
        if (parse.GetValue(Format) != "default")
        {
            PrintJson(parse, clients);
            return;
        }
        string[] header = ["CLIENT ID", "CLIENT SECRET", "GRANT TYPES", "RESPONSE TYPES", "SCOPE", "AUDIENCE", "REDIRECT URIS"];
        static string[] Columns(JsonObject c) =>
        [
            Str(c, "client_id"), Str(c, "client_secret"), Join(c["grant_types"]), Join(c["response_types"]), Str(c, "scope"), Join(c["audience"]), Join(c["redirect_uris"]),
        ];
        if (single)
        {
            Vertical(header, Columns(clients.AsObject()));
            return;
        }
        Console.WriteLine(string.Join('\t', header));
        foreach (var c in clients.AsArray().OfType<JsonObject>()) Console.WriteLine(string.Join('\t', Columns(c)));
    }

    private static string Join(JsonNode? values) => values is JsonArray a ? string.Join(", ", a.Select(v => v?.GetValue<string>())) : "";

    private static void Vertical(string[] header, string[] values)
    {
        for (var i = 0; i < header.Length; i++) Console.WriteLine($"{header[i]}\t{values[i]}");
    }

    private static void PrintJson(ParseResult parse, JsonNode node) =>
        Console.WriteLine(parse.GetValue(Format) == "json-pretty" ? node.ToJsonString(Pretty) : node.ToJsonString());
}
