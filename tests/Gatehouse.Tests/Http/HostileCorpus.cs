using System.Text;

namespace Gatehouse.Tests.Http;

/// <summary>One hostile request: a route, a method, a relative URL and what makes it hostile.</summary>
public sealed record HostileCase(string Name, string Method, string Url, bool Admin, byte[]? Body, string? ContentType, IReadOnlyList<(string Name, string Value)> Headers)
{
    /// <summary>The exact status a hand-picked case must get (so it is known to reach the code it targets).</summary>
    public int? Expect { get; init; }

    public override string ToString() => $"{Method} {Url} [{Name}]";
}

/// <summary>A route as the app's endpoint data source lists it: method, pattern, and whether it is on the admin listener.</summary>
public sealed record HostileRoute(string Method, string Pattern, bool Admin);

/// <summary>
/// The hostile request classes, crossed with every route: each body class for every route that takes a body
/// (POST/PUT/PATCH/DELETE), each query/header class for every route. Route parameters and <c>?flow=</c> are filled
/// with live ids (<see cref="Ids"/>), so the hostile part reaches the body reader and the handlers instead of dying
/// on "not found".
/// </summary>
public static class HostileCorpus
{
    /// <summary>Ids of live objects the URLs point at.</summary>
    public sealed record Ids(string IdentityId, string SessionId, IReadOnlyDictionary<string, string> FlowIds);

    /// <summary>Bodies larger than this are sent with <c>Expect: 100-continue</c>.</summary>
    public const int ExpectContinueFrom = 2 * 1024 * 1024;

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private const string Json = "application/json";
    private const string Form = "application/x-www-form-urlencoded";

    /// <summary>The body classes: a name, the bytes and the content type.</summary>
    public static IEnumerable<(string Name, byte[] Body, string? ContentType)> BodyClasses()
    {
        yield return ("json duplicate keys", Utf8("""{"method":"password","method":"code","traits":{"email":"a@example.com","email":"b@example.com"},"password":"x","password":"y"}"""), Json);
        yield return ("json lone high surrogate value", Utf8("""{"method":"\ud800","identifier":"\ud800","password":"\ud800","traits":{"email":"\ud800@example.com"},"schema_id":"\ud800","email":"\ud800","code":"\ud800","session_token":"\ud800","action":"\ud800","expires_in":"\ud800"}"""), Json);
        yield return ("json lone low surrogate key", Utf8("""{"\udc00":1,"traits":{"\udfff":"x"}}"""), Json);
        yield return ("json reversed surrogate pair", Utf8("""{"method":"\udc00\ud800","identifier":"a\udc00\ud800b"}"""), Json);
        yield return ("json invalid utf-8 in string", Concat(Utf8("{\"method\":\"password\",\"identifier\":\""), [0xff, 0xfe, 0xc3, 0x28], Utf8("\",\"password\":\"x\"}")), Json);
        yield return ("json overlong utf-8", Concat(Utf8("{\"method\":\""), [0xc0, 0xaf, 0xe0, 0x80, 0xaf], Utf8("\"}")), Json);
        yield return ("json invalid utf-8 outside strings", Concat([0xef, 0xbb], Utf8("""{"method":"password"}""")), Json);
        yield return ("json deep array nesting", Utf8(new string('[', 100_000) + new string(']', 100_000)), Json);
        yield return ("json deep object nesting", Utf8(string.Concat(Enumerable.Repeat("{\"a\":", 20_000)) + "1" + new string('}', 20_000)), Json);
        yield return ("json deep traits nesting within parser depth", Utf8("""{"method":"password","traits":""" + string.Concat(Enumerable.Repeat("{\"a\":", 60)) + "1" + new string('}', 60) + "}"), Json);
        yield return ("json huge exponent numbers", Utf8("""{"method":1e999999,"page_size":1e999999,"traits":{"email":1e400,"age":-1e400},"expires_in":1e400,"code":1e400,"identities":[1e400]}"""), Json);
        yield return ("json huge integer digits", Utf8($$"""{"method":"password","traits":{"age":{{new string('9', 400)}}},"page_size":{{new string('9', 400)}},"expires_in":{{new string('9', 40)}},"state":-{{new string('9', 30)}}}"""), Json);
        yield return ("json wrong types", Utf8("""{"method":["password"],"identifier":{"a":1},"password":123,"traits":"x","schema_id":[],"csrf_token":{},"expires_in":{},"identity_id":[],"credentials":"x","state":7,"metadata_public":"x","session_token":42,"action":[],"identities":"x","sessions":{}}"""), Json);
        yield return ("json nulls", Utf8("""{"method":null,"identifier":null,"password":null,"traits":null,"schema_id":null,"expires_in":null,"identity_id":null,"credentials":null,"session_token":null}"""), Json);
        yield return ("json array body", Utf8("""[{"op":"replace","path":"/traits/x/2000000000","value":1},1,"x",null]"""), Json);
        yield return ("json scalar body", Utf8("\"x\""), Json);
        yield return ("json truncated", Utf8("""{"method":"password","identifier":"a@"""), Json);
        yield return ("json trailing garbage", Utf8("""{"method":"password"} {"x":1} garbage"""), Json);
        yield return ("json empty body", [], Json);
        yield return ("json nul bytes and control characters", Utf8("{\"method\":\"pass\\u0000word\",\"identifier\":\"a\\u0000@example.com\",\"traits\":{\"email\":\"\\u0000\"}}"), Json);
        yield return ("json 1 MB string", Utf8("{\"method\":\"password\",\"identifier\":\"" + new string('a', 1 << 20) + "\"}"), Json);
        yield return ("json 20,000 keys", Utf8("{" + string.Join(",", Enumerable.Range(0, 20_000).Select(i => $"\"k{i}\":{i}")) + "}"), Json);
        yield return ("text/plain content type", Utf8("""{"method":"password"}"""), "text/plain");
        yield return ("xml content type", Utf8("<method>password</method>"), "application/xml");
        yield return ("multipart with broken boundary", Utf8("--x\r\nContent-Disposition: form-data; name=\"method\"\r\n\r\npassword\r\n--y--"), "multipart/form-data; boundary=x");
        yield return ("unparseable content type", Utf8("""{"method":"password"}"""), "application/json; charset=\"unterminated");
        yield return ("unknown charset", Utf8("""{"method":"password"}"""), "application/json; charset=x-hostile");
        yield return ("form 5,000 fields", Utf8(string.Join("&", Enumerable.Range(0, 5000).Select(i => $"f{i}=v"))), Form);
        yield return ("form 100 KB key", Utf8(new string('k', 100_000) + "=v&method=password"), Form);
        yield return ("form 1 MB value", Utf8("method=password&identifier=" + new string('a', 1 << 20)), Form);
        yield return ("form deep dotted key", Utf8("method=password&traits." + string.Join(".", Enumerable.Repeat("a", 5000)) + "=x"), Form);
        yield return ("form dotted key conflicts", Utf8("traits=x&traits.email=a@example.com&traits.email.x=1&.=1&..=2&a..b=3&method=password"), Form);
        yield return ("form invalid percent-encoding and utf-8", Utf8("method=%ff%fe&identifier=%ED%A0%80&password=%zz&traits.email=%c0%af&%ff=1"), Form);
    }

    /// <summary>The query and header classes, applied to every route.</summary>
    public static IEnumerable<(string Name, string Query, IReadOnlyList<(string, string)> Headers)> QueryAndHeaderClasses()
    {
        yield return ("query invalid utf-8 and lone surrogates", "id=%ff%fe&flow=%ED%A0%80&return_to=%ff&token=%ED%B0%80&code=%c0%af&page_token=%ff&credential=%ff&identity_schema=%ED%A0%80", []);
        yield return ("query huge numbers", "page_size=99999999999999999999999&page=-99999999999999999999&per_page=1e999&size=NaN&expand=Identity&include_credential=password&active=maybe", []);
        yield return ("query garbage page tokens", "page_token=" + Uri.EscapeDataString(Convert.ToBase64String(Utf8("""{"id":"\ud800","x":1e999}"""))) + "&page_size=1", []);
        yield return ("query repeated parameters", string.Join("&", Enumerable.Range(0, 300).Select(i => $"flow=f{i}&id=i{i}")), []);
        yield return ("hostile headers", "", [
            ("Cookie", "ory_kratos_session=" + new string('\u0001', 1) + "%ff%ED%A0%80; csrf_token=" + new string('x', 4000) + "; " + string.Join("; ", Enumerable.Range(0, 200).Select(i => $"c{i}=v"))),
            ("X-Session-Token", "ory_st_" + new string('a', 4000)),
            ("Authorization", "Bearer " + new string('b', 4000)),
            ("X-Forwarded-For", "not-an-ip, 999.999.999.999, ::::"),
            ("Accept", "application/json;q=abc, text/html;q=-1, */*;q=1e999"),
            ("Origin", "null"),
        ]);
        yield return ("malformed authorization schemes", "", [
            ("Authorization", "Basic %%%"),
            ("X-Session-Token", ""),
            ("Cookie", "=; ==; ;;; ory_kratos_session"),
        ]);
    }

    /// <summary>
    /// The corpus in the order it runs: the hand-picked cases first and the DELETE routes last, since a DELETE whose
    /// hostile query string is ignored succeeds (and removes the seeded identity or session the others point at).
    /// </summary>
    public static List<HostileCase> Build(IReadOnlyList<HostileRoute> routes, Ids ids)
    {
        var cases = new List<HostileCase>(Targeted(ids));
        var bodies = BodyClasses().ToList();
        var queries = QueryAndHeaderClasses().ToList();
        foreach (var route in routes)
        {
            var path = Fill(route.Pattern, ids);
            var baseQuery = FlowQuery(route, ids);
            if (route.Method is "POST" or "PUT" or "PATCH" or "DELETE")
            {
                foreach (var (name, body, contentType) in bodies)
                {
                    cases.Add(new HostileCase(name, route.Method, Join(path, baseQuery), route.Admin, body, contentType, []));
                }
            }
            foreach (var (name, query, headers) in queries)
            {
                var q = string.Join("&", new[] { baseQuery, query }.Where(s => s.Length > 0));
                cases.Add(new HostileCase(name, route.Method, Join(path, q), route.Admin, null, null, headers));
            }
        }
        // A method the route does not take (the routing's own 405).
        foreach (var group in routes.GroupBy(r => r.Pattern))
        {
            if (new[] { "PUT", "PATCH", "DELETE", "GET" }.FirstOrDefault(m => group.All(r => r.Method != m)) is not { } method) continue;
            cases.Add(new HostileCase("unsupported method", method, Join(Fill(group.Key, ids), FlowQuery(group.First(), ids)), group.First().Admin, null, null, []));
        }
        return [.. cases.OrderBy(c => c.Method == "DELETE")];
    }

    /// <summary>Hand-picked bodies for the routes whose fields were each a 500 or a hang.</summary>
    private static IEnumerable<HostileCase> Targeted(Ids ids)
    {
        foreach (var route in new[] { "/admin/recovery/code", "/admin/recovery/link" })
        {
            foreach (var duration in new[] { "80000000h", "2562048h", "9223372036854775807ns1h", "-80000000h", "1e400h", "99999999999999999999999999s", ".h", "1h1", "\u00b5", "5000000000000000000000000000000000000000000000000000000000000h" })
            {
                var c = Case(route, $$"""{"identity_id":"{{ids.IdentityId}}","expires_in":"{{duration}}"}""", "absurd expires_in " + duration) with { Expect = 400 };
                yield return c;
            }
        }
        // Over the 5 MB cap, on routes that read their body (a route that ignores it answers before the upload ends).
        var oversized = "{\"method\":\"" + new string('a', 5 * 1024 * 1024 + 10) + "\"}";
        yield return Case("/admin/identities", oversized, "body over 5 MB") with { Expect = 413 };
        foreach (var (kind, id) in ids.FlowIds.Where(f => f.Key != "settings"))
        {
            yield return new HostileCase("body over 5 MB", "POST", $"/self-service/{kind}?flow={id}", false, Utf8(oversized), Json, []) { Expect = 413 };
        }
        var identity = "/admin/identities/" + ids.IdentityId;
        foreach (var pointer in new[] { "/traits/tags/2000000000", "/traits/tags/2000000000/x", "/metadata_public/list/2000000000", "/metadata_public/list/2000000000/a/b", "/metadata_admin/99999999999999999999", "/traits/tags/-1", "/traits/tags/01", "/metadata_public/" + string.Join("/", Enumerable.Repeat("a", 2000)) })
        {
            foreach (var op in new[] { "add", "replace", "remove" })
            {
                var c = Case(identity, $$"""[{"op":"{{op}}","path":"{{pointer}}","value":1}]""", $"json patch {op} {pointer[..Math.Min(pointer.Length, 40)]}", "PATCH")
                    with { Expect = pointer.Contains("2000000000", StringComparison.Ordinal) ? 400 : null };
                yield return c;
            }
        }
        var hashes = new[]
        {
            "$2a$31$" + new string('a', 53),
            "$2a$99$" + new string('a', 53),
            "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=19$m=65536,t=4294967295,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=19$m=65536,t=1,p=255$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=19$m=99999999999999999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$pbkdf2-sha256$i=2147483647,l=32$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$pbkdf2-sha256$i=99999999999999999999,l=99999999$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$scrypt$ln=60,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$scrypt$ln=16,r=2147483647,p=2147483647$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$6$rounds=999999999$salt$" + new string('a', 86),
            "$firescrypt$ln=60,r=8,p=1$c2FsdA==$aGFzaA==$c2FsdHNlcA==$a2V5",
            "$argon2id$v=19$m=-1,t=-1,p=-1$$",
        };
        foreach (var hash in hashes)
        {
            var credentials = "{\"password\":{\"config\":{\"hashed_password\":\"" + hash + "\"}}}";
            var create = Case("/admin/identities", $$"""{"schema_id":"default","traits":{"email":"hash-{{Guid.NewGuid():N}}@example.com"},"credentials":{{credentials}}}""", "absurd hash " + hash[..Math.Min(hash.Length, 30)]) with { Expect = 400 };
            yield return create;
            var update = Case(identity, $$"""{"schema_id":"default","state":"active","traits":{"email":"hash-{{Guid.NewGuid():N}}@example.com"},"credentials":{{credentials}}}""", "absurd hash on update " + hash[..Math.Min(hash.Length, 30)], "PUT") with { Expect = 400 };
            yield return update;
        }

        static HostileCase Case(string url, string json, string name, string method = "POST") =>
            new(name, method, url, true, Utf8(json), Json, []);
    }

    private static string Join(string path, string query) => query.Length == 0 ? path : path + "?" + query;

    private static string FlowQuery(HostileRoute route, Ids ids)
    {
        if (route.Admin) return "";
        foreach (var (kind, id) in ids.FlowIds)
        {
            if (route.Pattern == "/self-service/" + kind) return "flow=" + id;
        }
        return "";
    }

    /// <summary>Fills route parameters with live ids, so the request reaches the handler's parsing.</summary>
    private static string Fill(string pattern, Ids ids)
    {
        var path = pattern;
        if (path.Contains("/sessions/{id}", StringComparison.Ordinal)) path = path.Replace("{id}", ids.SessionId, StringComparison.Ordinal);
        path = path.Replace("{id}", ids.IdentityId, StringComparison.Ordinal).Replace("{type}", "password", StringComparison.Ordinal);
        // Any other parameter (with or without constraints) gets a fixed unknown value.
        while (path.IndexOf('{', StringComparison.Ordinal) is var start and >= 0)
        {
            var end = path.IndexOf('}', start);
            path = path[..start] + "unknown" + path[(end + 1)..];
        }
        return path;
    }
}
