using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.Schemas;

namespace Gatehouse.Cli;

/// <summary>
/// Kratos's client commands, with its verbs first: <c>import identities</c>, <c>get identity</c>, <c>list identities</c>,
/// <c>delete identity</c>, <c>validate identity</c> (<c>cmd/identities</c>), and <c>remote status</c> / <c>remote version</c>
/// (<c>cmd/remote</c>). Like Kratos's CLI they talk to a running server over HTTP (<c>--endpoint</c>, else
/// <c>$KRATOS_ADMIN_URL</c> or <c>$ORY_SDK_URL</c>; an API key with <c>--api-key</c> or <c>$ORY_API_KEY</c>), never to
/// the database.
/// </summary>
internal static class KratosCommands
{
    private sealed class Flags
    {
        // The options Hydra's commands read too: the top-level verbs hold the nouns of both CLIs (see Create).
        public Option<string> Endpoint => OAuth2Command.Endpoint;

        public Option<string> ApiKey => OAuth2Command.ApiKey;

        public Option<string> Format => OAuth2Command.Format;

        public Option<string> Timeout => OAuth2Command.Timeout;

        public Command Verb(string name, string description, params Command[] nouns)
        {
            var verb = new Command(name, description) { Endpoint, ApiKey, Format, Timeout };
            foreach (var noun in nouns) verb.Subcommands.Add(noun);
            return verb;
        }

        public Task<int> Run(ParseResult parse, Func<OAuth2Command.Api, Task<int>> body) =>
            OAuth2Command.RunAgainst(parse.GetValue(Endpoint), "$KRATOS_ADMIN_URL", parse.GetValue(ApiKey), parse.GetValue(Format), parse.GetValue(Timeout), body);

        public void Print(ParseResult parse, JsonNode node) =>
            Console.WriteLine(parse.GetValue(Format) == "json-pretty" ? node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) : node.ToJsonString());

        /// <summary>Kratos's identity table (<c>outputIdentity</c>): one identity vertically, several as rows.</summary>
        public void PrintIdentities(ParseResult parse, IReadOnlyList<JsonObject> identities, string? nextPageToken = null, bool listing = false)
        {
            if (parse.GetValue(Format) != "default")
            {
                JsonNode list = new JsonArray([.. identities.Select(i => (JsonNode)i.DeepClone())]);
                Print(parse, listing ? new JsonObject { ["identities"] = list, ["next_page_token"] = nextPageToken ?? "" } : identities.Count == 1 ? identities[0] : list);
                return;
            }
            string[] header = ["ID", "VERIFIED ADDRESSES", "RECOVERY ADDRESSES", "SCHEMA ID", "SCHEMA URL"];
            if (identities.Count == 1 && !listing)
            {
                var columns = Columns(identities[0]);
                for (var i = 0; i < header.Length; i++) Console.WriteLine($"{header[i]}\t{columns[i]}");
                return;
            }
            Console.WriteLine(string.Join('\t', header));
            foreach (var identity in identities) Console.WriteLine(string.Join('\t', Columns(identity)));
            if (!listing) return;
            Console.WriteLine();
            Console.WriteLine($"NEXT PAGE TOKEN\t{nextPageToken}");
        }

        private static string[] Columns(JsonObject i)
        {
            static string Values(JsonNode? list) => list is JsonArray a
                ? string.Join(", ", a.OfType<JsonObject>().Select(x => x["value"]?.GetValue<string>() ?? "").Where(v => v.Length > 0)) : "";
            return [Str(i, "id"), Values(i["verifiable_addresses"]), Values(i["recovery_addresses"]), Str(i, "schema_id"), Str(i, "schema_url")];
        }
    }

    private static string Str(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    /// <summary>
    /// Kratos's and Hydra's verbs as top-level commands, as each CLI has them: a verb holds Kratos's identity noun and
    /// Hydra's nouns (<c>get identity</c>, <c>get oauth2-client</c>, <c>get jwk</c>), so a script written for either runs
    /// with <c>gatehouse</c> in place of <c>kratos</c> or <c>hydra</c>. The two CLIs share their flags (<c>--endpoint</c>,
    /// <c>--format</c>); Kratos's nouns read <c>$KRATOS_ADMIN_URL</c> before <c>$ORY_SDK_URL</c>, Hydra's only the latter,
    /// as in each. Hydra's verbs stay under <c>gatehouse oauth2</c> too.
    /// </summary>
    public static IEnumerable<Command> Create()
    {
        var flags = new Flags();
        var kratos = new List<(string Verb, string Description, Command[] Nouns)>
        {
            ("import", "Import identities (Kratos's CLI)", [Import(flags)]),
            ("get", "Get identities (Kratos's CLI)", [Get(flags)]),
            ("list", "List identities (Kratos's CLI)", [List(flags)]),
            ("delete", "Delete identities (Kratos's CLI)", [Delete(flags)]),
            ("validate", "Validate identity files (Kratos's CLI)", [Validate(flags)]),
            ("remote", "A running Gatehouse: its health and version (Kratos's CLI)", [Status(flags), RemoteVersion(flags)]),
        };
        var hydra = OAuth2Command.HydraVerbs().ToList();
        foreach (var (verb, description, nouns) in kratos)
        {
            var shared = hydra.Where(h => h.Verb == verb).Select(h => h.Nouns).SingleOrDefault();
            yield return flags.Verb(verb, shared is null ? description + "." : $"{description}; OAuth2 resources (Hydra's CLI).", [.. nouns, .. shared ?? []]);
        }
        foreach (var (verb, description, nouns) in hydra.Where(h => kratos.All(k => k.Verb != h.Verb)))
            yield return flags.Verb(verb, $"{description[..^1]} (Hydra's CLI).", nouns);
    }

    /// <summary>Kratos's <c>remote status</c>: whether the server is alive and ready; exit code 1 unless both.</summary>
    private static Command Status(Flags flags)
    {
        var command = new Command("status", "Print whether the server is alive and ready (/health/alive, /health/ready).");
        command.SetAction((parse, ct) => flags.Run(parse, async api =>
        {
            var alive = await api.IsOkAsync("health/alive", ct);
            var ready = alive && await api.IsOkAsync("health/ready", ct);
            if (parse.GetValue(flags.Format) == "default")
            {
                Console.WriteLine($"ALIVE\t{(alive ? "true" : "false")}");
                Console.WriteLine($"READY\t{(ready ? "true" : "false")}");
            }
            else
            {
                flags.Print(parse, new JsonObject { ["alive"] = alive, ["ready"] = ready });
            }
            return alive && ready ? 0 : 1;
        }));
        return command;
    }

    /// <summary>Kratos's <c>remote version</c>: the server's <c>/version</c>.</summary>
    private static Command RemoteVersion(Flags flags)
    {
        var command = new Command("version", "Print the version of the server (/version).");
        command.SetAction((parse, ct) => flags.Run(parse, async api =>
        {
            var version = Str((JsonObject)await api.SendAsync(HttpMethod.Get, "version", null, ct), "version");
            if (parse.GetValue(flags.Format) == "default") Console.WriteLine($"VERSION\t{version}");
            else flags.Print(parse, new JsonObject { ["version"] = version });
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The identities in files (or standard input without any), as Kratos's <c>readIdentities</c>: each file holds one
    /// identity or an array of them, named <c>file[i]</c> (<c>STD_IN[i]</c>).
    /// </summary>
    private static async Task<List<(string Source, JsonNode? Identity)>> ReadAsync(string[] files, CancellationToken ct)
    {
        var found = new List<(string, JsonNode?)>();
        foreach (var (name, text) in files.Length == 0 ? [("STD_IN", await Console.In.ReadToEndAsync(ct))] : await Task.WhenAll(files.Select(async f => (f, await ReadFileAsync(f, ct)))))
        {
            JsonNode? parsed;
            try
            {
                parsed = JsonNode.Parse(text);
            }
            catch (JsonException e)
            {
                throw new InvalidOperationException($"{name}: not JSON: {e.Message}");
            }
            if (parsed is JsonArray list) found.AddRange(list.Select((item, i) => ($"{name}[{i}]", item)));
            else found.Add(($"{name}[0]", parsed));
        }
        return found;
    }

    private static async Task<string> ReadFileAsync(string file, CancellationToken ct)
    {
        try
        {
            return await File.ReadAllTextAsync(file, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{file}: Could not open identity file: {e.Message}");
        }
    }

    /// <summary>Failures, one line each on standard error (Kratos's <c>PrintErrors</c>); exit code 1 when there were any.</summary>
    private static int Report(Dictionary<string, string> failed)
    {
        foreach (var (source, error) in failed) Console.Error.WriteLine($"error: {source}: {CliContext.OneLine(error)}");
        return failed.Count == 0 ? 0 : 1;
    }

    private static Command Import(Flags flags)
    {
        var files = new Argument<string[]>("files") { Description = "JSON files, each one identity (createIdentity's body) or an array of them; standard input without any.", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("identities", "Import one or more identities from files or standard input (createIdentity for each; a failing one is reported, the others are still created).") { files };
        command.SetAction((parse, ct) => flags.Run(parse, async api =>
        {
            var imported = new List<JsonObject>();
            var failed = new Dictionary<string, string>();
            foreach (var (source, identity) in await ReadAsync(parse.GetValue(files) ?? [], ct))
            {
                try
                {
                    imported.Add((JsonObject)await api.SendAsync(HttpMethod.Post, "admin/identities", Json(identity), ct));
                }
                catch (InvalidOperationException e)
                {
                    failed[source] = e.Message;
                }
            }
            if (imported.Count > 0) flags.PrintIdentities(parse, imported);
            return Report(failed);
        }));
        return command;
    }

    private static StringContent Json(JsonNode? body) => new(body?.ToJsonString() ?? "null", System.Text.Encoding.UTF8, "application/json");

    private static Command Get(Flags flags)
    {
        var ids = new Argument<string[]>("id") { Description = "Identity ids.", Arity = ArgumentArity.OneOrMore };
        var include = new Option<string[]>("--include-credentials", "-i")
        {
            Description = "Include these credentials' configuration (getIdentity's include_credential: password, oidc, totp, webauthn, passkey, lookup_secret, code; never their secrets).",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("identity", "Get one or more identities by their ids.") { ids, include };
        command.SetAction((parse, ct) => flags.Run(parse, async api =>
        {
            var query = string.Concat((parse.GetValue(include) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Select((c, i) => $"{(i == 0 ? "?" : "&")}include_credential={Uri.EscapeDataString(c)}"));
            var found = new List<JsonObject>();
            var failed = new Dictionary<string, string>();
            foreach (var id in parse.GetValue(ids) ?? [])
            {
                try
                {
                    found.Add((JsonObject)await api.SendAsync(HttpMethod.Get, "admin/identities/" + Uri.EscapeDataString(id) + query, null, ct));
                }
                catch (InvalidOperationException e)
                {
                    failed[id] = e.Message;
                }
            }
            if (found.Count > 0) flags.PrintIdentities(parse, found);
            return Report(failed);
        }));
        return command;
    }

    private static Command List(Flags flags)
    {
        var pageSize = new Option<int>("--page-size") { Description = "Identities per page (1-1000).", DefaultValueFactory = _ => 250 };
        var pageToken = new Option<string>("--page-token") { Description = "The page to read: the NEXT PAGE TOKEN of the previous one." };
        var consistency = new Option<string>("--consistency") { Description = "Kratos's read consistency; every read here is strong, so eventual and strong answer alike.", DefaultValueFactory = _ => "eventual" };
        var command = new Command("identities", "List identities, a page at a time (listIdentities with keyset pagination).") { pageSize, pageToken, consistency };
        command.SetAction((parse, ct) => flags.Run(parse, async api =>
        {
            if (parse.GetValue(consistency) is not ("eventual" or "strong")) throw new ArgumentException("--consistency must be strong or eventual");
            var size = parse.GetValue(pageSize);
            if (size is < 1 or > 1000) throw new ArgumentException("--page-size must be between 1 and 1000");
            var path = $"admin/identities?page_size={size}" + (parse.GetValue(pageToken) is { Length: > 0 } token ? "&page_token=" + Uri.EscapeDataString(token) : "");
            var (items, next) = await api.SendWithNextPageAsync(path, ct);
            flags.PrintIdentities(parse, [.. items.AsArray().OfType<JsonObject>()], next, listing: true);
            return 0;
        }));
        return command;
    }

    private static Command Delete(Flags flags)
    {
        var ids = new Argument<string[]>("id") { Description = "Identity ids.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("identity", "Delete one or more identities by their ids (their sessions and credentials go with them).") { ids };
        command.SetAction((parse, ct) => flags.Run(parse, async api =>
        {
            var deleted = new JsonArray();
            var failed = new Dictionary<string, string>();
            foreach (var id in parse.GetValue(ids) ?? [])
            {
                try
                {
                    await api.SendAsync(HttpMethod.Delete, "admin/identities/" + Uri.EscapeDataString(id), null, ct);
                    deleted.Add(id);
                }
                catch (InvalidOperationException e)
                {
                    failed[id] = e.Message;
                }
            }
            if (parse.GetValue(flags.Format) == "default") foreach (var id in deleted) Console.WriteLine(id!.GetValue<string>());
            else if (deleted.Count > 0) flags.Print(parse, deleted.Count == 1 ? deleted[0]! : deleted);
            return Report(failed);
        }));
        return command;
    }

    /// <summary>
    /// Kratos's <c>validate identity</c>: each identity in the files is checked as createIdentity's body and its traits
    /// against the identity schema it names, fetched from the server (<c>/admin/schemas/{id}</c>) and applied with the
    /// server's own rules (formats, the <c>ory.sh/kratos</c> extension). Nothing is created. What only the server can
    /// know (an identifier already taken, a password hash it cannot read) is not checked.
    /// </summary>
    private static Command Validate(Flags flags)
    {
        var files = new Argument<string[]>("files") { Description = "JSON files, each one identity or an array of them; standard input without any.", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("identity", "Validate local identity files against their identity schemas, creating nothing.") { files };
        command.SetAction((parse, ct) => flags.Run(parse, async api =>
        {
            var schemas = new Dictionary<string, IdentitySchema>(StringComparer.Ordinal);
            var failed = new Dictionary<string, string>();
            foreach (var (source, identity) in await ReadAsync(parse.GetValue(files) ?? [], ct))
            {
                IdentityBody body;
                try
                {
                    body = IdentityBody.ParseCreate(identity);
                }
                catch (GatehouseError e)
                {
                    failed[source] = "not valid: " + e.Reason;
                    continue;
                }
                if (body.State is { } state && !IdentityStates.IsValid(state))
                {
                    failed[source] = $"not valid: The supplied state ('{state}') was not valid. Valid states are ('active', 'inactive').";
                    continue;
                }
                if (string.IsNullOrEmpty(body.SchemaId))
                {
                    failed[source] = "Expected key \"schema_id\" to be defined in identity file";
                    continue;
                }
                if (!schemas.TryGetValue(body.SchemaId, out var schema))
                {
                    try
                    {
                        var raw = await api.SendAsync(HttpMethod.Get, "admin/schemas/" + Uri.EscapeDataString(body.SchemaId), null, ct);
                        schemas[body.SchemaId] = schema = IdentitySchema.Create(body.SchemaId, "admin/schemas/" + body.SchemaId, raw.ToJsonString());
                    }
                    catch (Exception e) when (e is InvalidOperationException or SchemaConfigException)
                    {
                        failed[source] = $"Could not fetch schema with ID \"{body.SchemaId}\": {e.Message}";
                        continue;
                    }
                }
                var result = schema.Validate(body.Traits ?? new JsonObject());
                if (!result.IsValid) failed[source] = "not valid: " + string.Join("; ", result.Errors.Select(e => $"{e.InstancePointer}: {e.Message}"));
            }
            if (failed.Count == 0) Console.WriteLine("All identity files are valid.");
            return Report(failed);
        }));
        return command;
    }
}
