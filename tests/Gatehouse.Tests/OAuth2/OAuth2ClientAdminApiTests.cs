using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Clients;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.OAuth2;

public sealed class OAuth2ClientAdminApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static string NewName() => "app-" + Guid.NewGuid().ToString("N")[..12];

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Create_returns_201_with_location_hydra_defaults_and_the_generated_secret_once(string db)
    {
        var s = await fixture.Get(db);
        var name = NewName();
        var res = await s.AdminWithKey.PostJson("/admin/clients", $$"""{"client_name":"{{name}}","redirect_uris":["https://app.example/cb"]}""");
        var c = (await res.Json(HttpStatusCode.Created)).AsObject();
        var id = c["client_id"]!.GetValue<string>();
        Assert.True(Guid.TryParse(id, out _));
        Assert.Equal("/admin/clients/" + id, res.Headers.Location?.OriginalString);
        var secret = c["client_secret"]!.GetValue<string>();
        Assert.Equal(26, secret.Length);
        Assert.Equal(
            ["client_id", "client_name", "client_secret", "redirect_uris", "grant_types", "response_types", "scope", "audience", "owner",
             "policy_uri", "allowed_cors_origins", "tos_uri", "client_uri", "logo_uri", "contacts", "client_secret_expires_at",
             "subject_type", "token_endpoint_auth_method", "userinfo_signed_response_alg", "created_at", "updated_at",
             "skip_consent", "skip_logout_consent"],
            c.Select(kv => kv.Key));
        Assert.Equal("client_secret_basic", c["token_endpoint_auth_method"]!.GetValue<string>());
        Assert.Equal("offline_access offline openid", c["scope"]!.GetValue<string>());
        Assert.Equal("public", c["subject_type"]!.GetValue<string>());
        Assert.Equal("none", c["userinfo_signed_response_alg"]!.GetValue<string>());
        Assert.Null(c["skip_logout_consent"]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", c["created_at"]!.GetValue<string>());

        // Never again: get and list blank the secret.
        var got = (await (await s.AdminWithKey.GetAsync("/admin/clients/" + id)).Json(HttpStatusCode.OK)).AsObject();
        Assert.False(got.ContainsKey("client_secret"));
        Assert.Equal(name, got["client_name"]!.GetValue<string>());
        var listed = Assert.Single((await (await s.AdminWithKey.GetAsync("/admin/clients?client_name=" + name)).Json(HttpStatusCode.OK)).AsArray())!.AsObject();
        Assert.False(listed.ContainsKey("client_secret"));

        // Only a hash is stored, and it verifies the secret.
        await using var scope = s.Services.CreateAsyncScope();
        var clients = scope.ServiceProvider.GetRequiredService<OAuth2ClientService>();
        var row = (await clients.FindAsync(id, CancellationToken.None))!.Row;
        Assert.StartsWith("$pbkdf2-sha256$", row.SecretHash);
        Assert.DoesNotContain(secret, row.SecretHash + row.Document);
        Assert.True(clients.VerifySecret(row, secret));
        Assert.False(clients.VerifySecret(row, secret + "x"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Chosen_id_and_secret_are_kept_public_clients_get_no_secret_back_and_a_duplicate_id_is_409(string db)
    {
        var s = await fixture.Get(db);
        var id = "my-client-" + Guid.NewGuid().ToString("N")[..8];
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", $$"""{"client_id":"{{id}}","client_secret":"s3cr3t-value","grant_types":["client_credentials"],"scope":"read write","audience":["https://api.example"],"metadata":{"tier":"gold"},"skip_consent":true,"token_endpoint_auth_method":"client_secret_post"}""")).Json(HttpStatusCode.Created);
        Assert.Equal(id, c["client_id"]!.GetValue<string>());
        Assert.Equal("s3cr3t-value", c["client_secret"]!.GetValue<string>());
        Assert.Equal("gold", c["metadata"]!["tier"]!.GetValue<string>());
        Assert.True(c["skip_consent"]!.GetValue<bool>());
        Assert.Equal("client_secret_post", c["token_endpoint_auth_method"]!.GetValue<string>());

        var dup = await s.AdminWithKey.PostJson("/admin/clients", $$"""{"client_id":"{{id}}"}""");
        await dup.OAuth2Error(HttpStatusCode.Conflict);

        var pub = await (await s.AdminWithKey.PostJson("/admin/clients", """{"token_endpoint_auth_method":"none","redirect_uris":["http://127.0.0.1:5000/cb"]}""")).Json(HttpStatusCode.Created);
        Assert.False(pub.AsObject().ContainsKey("client_secret"));
        Assert.Equal("none", pub["token_endpoint_auth_method"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Invalid_metadata_is_a_hydra_error_and_creates_nothing(string db)
    {
        var s = await fixture.Get(db);
        var owner = "bad-" + Guid.NewGuid().ToString("N");
        (string Body, string Error, string Hint)[] cases =
        [
            ("""{"client_secret":"abc"}""", "invalid_client_metadata", "Field client_secret must contain a secret that is at least 6 characters long."),
            ("""{"redirect_uris":["https://app.example/cb#frag"]}""", "invalid_redirect_uri", "Redirect URIs must not contain fragments (#)."),
            ("""{"redirect_uris":["not a url"]}""", "invalid_redirect_uri", "Unable to parse redirect URL: not a url"),
            ("""{"userinfo_signed_response_alg":"HS256"}""", "invalid_client_metadata", "Field userinfo_signed_response_alg can either be 'none' or 'RS256'."),
            ("""{"token_endpoint_auth_method":"private_key_jwt"}""", "invalid_client_metadata", "When token_endpoint_auth_method is 'private_key_jwt', either jwks or jwks_uri must be set."),
            ("""{"allowed_cors_origins":["https://app.example/path"]}""", "invalid_client_metadata", "Origin URL https://app.example/path must have an empty path, query, and fragment but one of the parts is not empty."),
            ("""{"policy_uri":"ftp://files.example/p"}""", "invalid_client_metadata", "ftp://files.example/p must use https:// or http:// as HTTP scheme for field policy_uri."),
            ("""{"subject_type":"pairwise"}""", "invalid_client_metadata", "Subject type pairwise is not supported by server, only [public] are allowed."),
            ("""{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://b.example/bye"]}""", "invalid_client_metadata", "post_logout_redirect_uri 'https://b.example/bye' must match the domain, port, scheme of at least one of the registered redirect URIs but did not"),
            ("""{"access_token_strategy":"paseto"}""", "invalid_client_metadata", "invalid access token strategy"),
        ];
        foreach (var (body, error, hint) in cases)
        {
            var withOwner = body.Insert(1, $"\"owner\":\"{owner}\",");
            var e = await (await s.AdminWithKey.PostJson("/admin/clients", withOwner)).OAuth2Error(HttpStatusCode.BadRequest, error);
            Assert.Contains(hint, e["error_description"]!.GetValue<string>());
        }

        var typeError = await (await s.AdminWithKey.PostJson("/admin/clients", """{"client_name":42}""")).OAuth2Error(HttpStatusCode.BadRequest);
        Assert.Equal("Unable to decode the request body: json: cannot unmarshal number into Go struct field Client.client_name of type string", typeError["error_description"]!.GetValue<string>());
        await (await s.AdminWithKey.PostJson("/admin/clients", "{not json")).OAuth2Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PostJson("/admin/clients", "[]")).OAuth2Error(HttpStatusCode.BadRequest);

        Assert.Empty((await (await s.AdminWithKey.GetAsync("/admin/clients?owner=" + owner)).Json(HttpStatusCode.OK)).AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Unknown_client_is_hydra_404_on_every_operation(string db)
    {
        var s = await fixture.Get(db);
        var id = "/admin/clients/nope-" + Guid.NewGuid();
        var e = await (await s.AdminWithKey.GetAsync(id)).OAuth2Error(HttpStatusCode.NotFound);
        Assert.Equal("Unable to locate the resource", e["error"]!.GetValue<string>());
        await (await s.AdminWithKey.PutJson(id, "{}")).OAuth2Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.PatchJson(id, "[]")).OAuth2Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.DeleteAsync(id)).OAuth2Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.PutJson(id + "/lifespans", "{}")).OAuth2Error(HttpStatusCode.NotFound);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Put_replaces_the_document_keeps_the_secret_unless_given_and_delete_removes_it(string db)
    {
        var s = await fixture.Get(db);
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", """{"client_name":"before","client_secret":"first-secret","scope":"a b"}""")).Json(HttpStatusCode.Created);
        var id = c["client_id"]!.GetValue<string>();

        var put = (await (await s.AdminWithKey.PutJson("/admin/clients/" + id, """{"client_id":"ignored","client_name":"after","redirect_uris":["https://x.example/cb"]}""")).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(id, put["client_id"]!.GetValue<string>());
        Assert.Equal("after", put["client_name"]!.GetValue<string>());
        Assert.Equal("offline_access offline openid", put["scope"]!.GetValue<string>());
        Assert.False(put.ContainsKey("client_secret"));
        Assert.Equal(c["created_at"]!.GetValue<string>(), put["created_at"]!.GetValue<string>());
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var clients = scope.ServiceProvider.GetRequiredService<OAuth2ClientService>();
            Assert.True(clients.VerifySecret((await clients.FindAsync(id, CancellationToken.None))!.Row, "first-secret"));
        }

        var withSecret = await (await s.AdminWithKey.PutJson("/admin/clients/" + id, """{"client_name":"after","client_secret":"second-secret"}""")).Json(HttpStatusCode.OK);
        Assert.Equal("second-secret", withSecret["client_secret"]!.GetValue<string>());
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var clients = scope.ServiceProvider.GetRequiredService<OAuth2ClientService>();
            var row = (await clients.FindAsync(id, CancellationToken.None))!.Row;
            Assert.True(clients.VerifySecret(row, "second-secret"));
            Assert.False(clients.VerifySecret(row, "first-secret"));
        }

        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync("/admin/clients/" + id)).StatusCode);
        await (await s.AdminWithKey.GetAsync("/admin/clients/" + id)).OAuth2Error(HttpStatusCode.NotFound);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Patch_applies_json_patch_validates_the_result_and_changes_nothing_on_error(string db)
    {
        var s = await fixture.Get(db);
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", """{"client_name":"p","redirect_uris":["https://a.example/cb"]}""")).Json(HttpStatusCode.Created);
        var id = c["client_id"]!.GetValue<string>();

        var patched = (await (await s.AdminWithKey.PatchJson("/admin/clients/" + id,
            """[{"op":"replace","path":"/client_name","value":"patched"},{"op":"add","path":"/redirect_uris/-","value":"https://b.example/cb"},{"op":"add","path":"/metadata","value":{"k":1}}]""")).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("patched", patched["client_name"]!.GetValue<string>());
        Assert.Equal(["https://a.example/cb", "https://b.example/cb"], patched["redirect_uris"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(1, patched["metadata"]!["k"]!.GetValue<int>());
        Assert.False(patched.ContainsKey("client_secret"));

        // An invalid result is the validator's 400; every failure of the patch itself is a 400 naming the reason (Hydra
        // answers its catch-all 500, ory/x jsonx.ApplyJSONPatch errors being neither fosite's nor herodot's); the stored
        // client is unchanged.
        await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, """[{"op":"add","path":"/redirect_uris/-","value":"https://c.example/#x"}]""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_redirect_uri");
        await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, """[{"op":"replace","path":"/client_name","value":"renamed"},{"op":"replace","path":"/client_secret","value":"abc"}]""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_client_metadata");
        foreach (var bad in new[]
        {
            """[{"op":"replace","path":"/client_name","value":"renamed"},{"op":"remove","path":"/nothing/here"}]""",
            """[{"op":"remove","path":"/jwks"}]""", // absent from the client's JSON (omitempty)
            """[{"op":"replace","path":"/redirect_uris/5","value":"https://d.example/cb"}]""", // element access stays a replace
            """[{"op":"move","from":"/client_name","path":"/owner"}]""",
            """[{"op":"copy","from":"/client_name","path":"/owner"}]""",
            """[{"op":"test","path":"/client_name","value":"patched"}]""",
            """[{"path":"/client_name","value":"renamed"}]""",
            """[{"op":"replace","value":"renamed"}]""",
            """[{"op":"replace","path":"/id","value":"other"}]""",
            """[{"op":"replace","path":"/client_name","value":42}]""",
            """{"op":"replace"}""",
            "{not json",
            "",
        })
        {
            var refused = await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, bad)).OAuth2Error(HttpStatusCode.BadRequest, "The request was malformed or contained invalid parameters");
            Assert.StartsWith("Unable to apply the JSON Patch: ", refused["error_description"]!.GetValue<string>());
        }
        // client_id may be patched in Hydra, which then updates the client it names: an unknown one is a 404; Gatehouse
        // refuses to overwrite another existing client (409). The same id is accepted.
        await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, $$"""[{"op":"replace","path":"/client_id","value":"other-{{Guid.NewGuid()}}"}]""")).OAuth2Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, """[{"op":"remove","path":"/client_id"}]""")).OAuth2Error(HttpStatusCode.NotFound);
        var otherId = (await (await s.AdminWithKey.PostJson("/admin/clients", """{"client_name":"other"}""")).Json(HttpStatusCode.Created))["client_id"]!.GetValue<string>();
        await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, $$"""[{"op":"replace","path":"/client_id","value":"{{otherId}}"}]""")).OAuth2Error(HttpStatusCode.Conflict);
        Assert.Equal("other", (await (await s.AdminWithKey.GetAsync("/admin/clients/" + otherId)).Json(HttpStatusCode.OK))["client_name"]!.GetValue<string>());
        await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, $$"""[{"op":"replace","path":"/client_id","value":"{{id}}"}]""")).Json(HttpStatusCode.OK);
        // As in Hydra, a replace of an object member is an add (missing members and parents are created), and "null" is an empty patch.
        var tolerated = await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, """[{"op":"replace","path":"/metadata/nested/k","value":2},{"op":"replace","path":"/logo_uri","value":"https://a.example/logo.png"},{"op":"replace","path":"/unknown_field","value":1}]""")).Json(HttpStatusCode.OK);
        Assert.Equal(2, tolerated["metadata"]!["nested"]!["k"]!.GetValue<int>());
        Assert.Equal(1, tolerated["metadata"]!["k"]!.GetValue<int>());
        Assert.Equal("https://a.example/logo.png", tolerated["logo_uri"]!.GetValue<string>());
        Assert.False(tolerated.AsObject().ContainsKey("unknown_field"));
        Assert.Equal("https://a.example/logo.png", (await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, "null")).Json(HttpStatusCode.OK))["logo_uri"]!.GetValue<string>());
        var after = await (await s.AdminWithKey.GetAsync("/admin/clients/" + id)).Json(HttpStatusCode.OK);
        Assert.Equal("patched", after["client_name"]!.GetValue<string>());
        Assert.Equal(2, after["redirect_uris"]!.AsArray().Count);

        // Patching the secret sets a new one and shows it.
        var secret = await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, """[{"op":"add","path":"/client_secret","value":"patched-secret"}]""")).Json(HttpStatusCode.OK);
        Assert.Equal("patched-secret", secret["client_secret"]!.GetValue<string>());
        // The secret is part of the patched JSON (Hydra's client has its hash there): removing it keeps the secret.
        var removed = (await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, """[{"op":"remove","path":"/client_secret"}]""")).Json(HttpStatusCode.OK)).AsObject();
        Assert.False(removed.ContainsKey("client_secret"));
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }) };
        tokenRequest.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Uri.EscapeDataString(id) + ":patched-secret")));
        // The client may not use client_credentials: the secret was accepted, the grant is refused.
        await (await s.Public.SendAsync(tokenRequest)).OAuth2Error(HttpStatusCode.BadRequest, "unauthorized_client");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_patch_is_checked_whole_before_it_is_applied_with_the_json_patch_librarys_words(string db)
    {
        // evanphx/json-patch v5.9.11 DecodePatch (validatePatch) then ory/x jsonx.ApplyJSONPatch's loop, before any
        // operation is applied; Hydra answers them with its catch-all 500, Gatehouse with a 400 carrying the same reason.
        var s = await fixture.Get(db);
        var id = (await (await s.AdminWithKey.PostJson("/admin/clients", """{"client_name":"checked"}""")).Json(HttpStatusCode.Created))["client_id"]!.GetValue<string>();
        foreach (var (patch, reason) in new[]
        {
            ("""[{"op":"add","path":"/client_name"}]""", """invalid operation {'op':'add','path':'/client_name'}: failed to decode 'value': operation, missing value field: missing value"""),
            ("""[{"path":"/client_name", "op":"replace"}]""", """invalid operation {'op':'replace','path':'/client_name'}: failed to decode 'value': operation, missing value field: missing value"""),
            // The whole patch is checked first: the bad third operation is reported, not the missing path of the second.
            ("""[{"op":"replace","path":"/client_name","value":"renamed"},{"op":"remove","path":"/nothing"},{"x":[1, 2.50],"op":"add","path":"/a<b>"}]""",
                """invalid operation {'op':'add','path':'/a\u003cb\u003e','x':[1,2.50]}: failed to decode 'value': operation, missing value field: missing value"""),
            ("""[{"op":"add","value":1}]""", """invalid operation {'op':'add','value':1}: failed to decode 'path': operation missing path field: missing value"""),
            ("""[{"op":"remove","path":7}]""", """invalid operation {'op':'remove','path':7}: failed to decode 'path': json: cannot unmarshal number into Go value of type string"""),
            ("""[{"op":"move","path":"/owner"}]""", """invalid operation {'op':'move','path':'/owner'}: failed to decode 'from': operation, missing from field: missing value"""),
            ("""[{"op":"frob","path":"/owner"}]""", """invalid operation {'op':'frob','path':'/owner'}: unsupported operation"""),
            ("""[{"path":"/owner","value":"x"}]""", """invalid operation {'path':'/owner','value':'x'}: unsupported operation"""),
            ("""[null]""", """invalid operation null: unsupported operation"""),
            ("""[{"op":"remove","path":"/nothing"},{"op":"copy","from":"/client_name","path":"/owner"}]""", "unsupported operation: copy"),
            ("""[{"op":"replace","path":"/ID","value":"other"}]""", "patch includes denied path: /ID"),
            ("""{"op":"replace"}""", "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
            ("""[1,{"op":"add"}]""", "json: cannot unmarshal number into Go value of type jsonpatch.Operation"),
        })
        {
            var refused = await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, patch)).OAuth2Error(HttpStatusCode.BadRequest, "The request was malformed or contained invalid parameters");
            Assert.Equal("Unable to apply the JSON Patch: " + reason, refused["error_description"]!.GetValue<string>());
        }
        // A null value is a value.
        var nulled = await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, """[{"op":"replace","path":"/owner","value":null}]""")).Json(HttpStatusCode.OK);
        Assert.Equal("checked", nulled["client_name"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Server_set_fields_of_the_wrong_type_fail_the_decode_with_gos_words(string db)
    {
        // created_at, updated_at (time.Time), client_secret_expires_at (int) and the registration token fields are
        // fields of Hydra's client.Client: encoding/json decodes them (Time.UnmarshalJSON, time.Parse(RFC3339)) before
        // Hydra overwrites them.
        var s = await fixture.Get(db);
        var id = (await (await s.AdminWithKey.PostJson("/admin/clients", """{"client_name":"times"}""")).Json(HttpStatusCode.Created))["client_id"]!.GetValue<string>();
        foreach (var (body, reason) in new[]
        {
            ("""{"created_at":5}""", "Time.UnmarshalJSON: input is not a JSON string"),
            ("""{"updated_at":{"a":1}}""", "Time.UnmarshalJSON: input is not a JSON string"),
            ("""{"created_at":"yesterday"}""", "parsing time 'yesterday' as '2006-01-02T15:04:05Z07:00': cannot parse 'yesterday' as '2006'"),
            ("""{"created_at":"2026-13-01T00:00:00Z"}""", "parsing time '2026-13-01T00:00:00Z': month out of range"),
            ("""{"created_at":"2026-02-30T00:00:00Z"}""", "parsing time '2026-02-30T00:00:00Z': day out of range"),
            ("""{"updated_at":"2026-01-02 03:04:05Z"}""", "parsing time '2026-01-02 03:04:05Z' as '2006-01-02T15:04:05Z07:00': cannot parse ' 03:04:05Z' as 'T'"),
            ("""{"updated_at":"2026-01-02T03:04:05"}""", "parsing time '2026-01-02T03:04:05' as '2006-01-02T15:04:05Z07:00': cannot parse '' as 'Z07:00'"),
            ("""{"updated_at":"2026-01-02T03:04:05Zjunk"}""", "parsing time '2026-01-02T03:04:05Zjunk': extra text: 'junk'"),
            ("""{"updated_at":"2026-01-02T03:04:05+25:00"}""", "parsing time '2026-01-02T03:04:05+25:00': time zone offset hour out of range"),
            // Time.UnmarshalJSON's error stops the decoder; a type error met before it is only recorded.
            ("""{"client_name":1,"created_at":true}""", "Time.UnmarshalJSON: input is not a JSON string"),
            ("""{"client_secret_expires_at":"0"}""", "json: cannot unmarshal string into Go struct field Client.client_secret_expires_at of type int"),
            ("""{"client_secret_expires_at":1.5}""", "json: cannot unmarshal number 1.5 into Go struct field Client.client_secret_expires_at of type int"),
            ("""{"registration_access_token":1}""", "json: cannot unmarshal number into Go struct field Client.registration_access_token of type string"),
            ("""{"registration_client_uri":[]}""", "json: cannot unmarshal array into Go struct field Client.registration_client_uri of type string"),
        })
        {
            var created = await (await s.AdminWithKey.PostJson("/admin/clients", body)).OAuth2Error(HttpStatusCode.BadRequest, "The request was malformed or contained invalid parameters");
            Assert.Equal("Unable to decode the request body: " + reason, created["error_description"]!.GetValue<string>());
            var put = await (await s.AdminWithKey.PutJson("/admin/clients/" + id, body)).OAuth2Error(HttpStatusCode.BadRequest, "The request was malformed or contained invalid parameters");
            Assert.Equal("Unable to decode the request body: " + reason, put["error_description"]!.GetValue<string>());
        }
        Assert.Equal("times", (await (await s.AdminWithKey.GetAsync("/admin/clients/" + id)).Json(HttpStatusCode.OK))["client_name"]!.GetValue<string>());

        // Values of the right type (a one-digit hour and a 24h offset are Go's too) are taken and dropped: the server sets them.
        var ok = await (await s.AdminWithKey.PostJson("/admin/clients",
            """{"created_at":"2001-02-03T4:05:06,5+24:00","updated_at":null,"client_secret_expires_at":99,"registration_access_token":"mine","registration_client_uri":"https://x.example"}""")).Json(HttpStatusCode.Created);
        Assert.StartsWith(DateTime.UtcNow.Year.ToString(System.Globalization.CultureInfo.InvariantCulture), ok["created_at"]!.GetValue<string>());
        Assert.Equal(0, ok["client_secret_expires_at"]!.GetValue<int>());
        Assert.Null(ok["registration_access_token"]);

        // In a patch, the patched client is decoded by ory/x jsonx.ApplyJSONPatch: Go's error as it is.
        foreach (var (patch, reason) in new[]
        {
            ("""[{"op":"replace","path":"/created_at","value":5}]""", "Time.UnmarshalJSON: input is not a JSON string"),
            ("""[{"op":"replace","path":"/updated_at","value":"soon"}]""", "parsing time 'soon' as '2006-01-02T15:04:05Z07:00': cannot parse 'soon' as '2006'"),
            ("""[{"op":"replace","path":"/client_secret_expires_at","value":"never"}]""", "json: cannot unmarshal string into Go struct field Client.client_secret_expires_at of type int"),
            ("""[{"op":"replace","path":"/client_name","value":42}]""", "json: cannot unmarshal number into Go struct field Client.client_name of type string"),
        })
        {
            var refused = await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, patch)).OAuth2Error(HttpStatusCode.BadRequest, "The request was malformed or contained invalid parameters");
            Assert.Equal("Unable to apply the JSON Patch: " + reason, refused["error_description"]!.GetValue<string>());
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Lifespans_are_set_as_go_durations_replacing_the_previous_ones(string db)
    {
        var s = await fixture.Get(db);
        var id = (await (await s.AdminWithKey.PostJson("/admin/clients", "{}")).Json(HttpStatusCode.Created))["client_id"]!.GetValue<string>();
        var c = (await (await s.AdminWithKey.PutJson($"/admin/clients/{id}/lifespans", """{"client_credentials_grant_access_token_lifespan":"90m","authorization_code_grant_refresh_token_lifespan":"720h"}""")).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("1h30m0s", c["client_credentials_grant_access_token_lifespan"]!.GetValue<string>());
        Assert.Equal("720h0m0s", c["authorization_code_grant_refresh_token_lifespan"]!.GetValue<string>());
        Assert.False(c.ContainsKey("client_secret"));

        var again = (await (await s.AdminWithKey.PutJson($"/admin/clients/{id}/lifespans", """{"refresh_token_grant_access_token_lifespan":"5m"}""")).Json(HttpStatusCode.OK)).AsObject();
        Assert.False(again.ContainsKey("client_credentials_grant_access_token_lifespan"));
        Assert.Equal("5m0s", again["refresh_token_grant_access_token_lifespan"]!.GetValue<string>());

        // Hydra's texts: time.ParseDuration's error as is, and the type error of NullDuration's inner string decode.
        foreach (var (body, reason) in new[]
        {
            ("""{"refresh_token_grant_access_token_lifespan":"soon"}""", "time: invalid duration 'soon'"),
            ("""{"refresh_token_grant_access_token_lifespan":"5"}""", "time: missing unit in duration '5'"),
            ("""{"refresh_token_grant_access_token_lifespan":"5x"}""", "time: unknown unit 'x' in duration '5x'"),
            ("""{"refresh_token_grant_access_token_lifespan":""}""", "time: invalid duration ''"),
            ("""{"refresh_token_grant_access_token_lifespan":5}""", "json: cannot unmarshal number into Go struct field Lifespans.refresh_token_grant_access_token_lifespan of type string"),
        })
        {
            var refused = await (await s.AdminWithKey.PutJson($"/admin/clients/{id}/lifespans", body)).OAuth2Error(HttpStatusCode.BadRequest, "The request was malformed or contained invalid parameters");
            Assert.Equal("Unable to decode the request body: " + reason, refused["error_description"]!.GetValue<string>());
        }
        var inClient = await (await s.AdminWithKey.PutJson("/admin/clients/" + id, """{"client_credentials_grant_access_token_lifespan":true}""")).OAuth2Error(HttpStatusCode.BadRequest);
        Assert.Equal("Unable to decode the request body: json: cannot unmarshal bool into Go struct field Client.client_credentials_grant_access_token_lifespan of type string", inClient["error_description"]!.GetValue<string>());
        // The client is looked up before the body is read: an unknown one is a 404 whatever the body.
        await (await s.AdminWithKey.PutJson($"/admin/clients/nope-{Guid.NewGuid()}/lifespans", "{not json")).OAuth2Error(HttpStatusCode.NotFound);
        var unchanged = await (await s.AdminWithKey.GetAsync("/admin/clients/" + id)).Json(HttpStatusCode.OK);
        Assert.Equal("5m0s", unchanged["refresh_token_grant_access_token_lifespan"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Negative_lifespans_are_kept_and_written_back_as_go_writes_them(string db)
    {
        // Hydra's x.NullDuration takes whatever time.ParseDuration takes, and client/validator.go checks no lifespan.
        var s = await fixture.Get(db);
        var id = (await (await s.AdminWithKey.PostJson("/admin/clients", "{}")).Json(HttpStatusCode.Created))["client_id"]!.GetValue<string>();
        var set = (await (await s.AdminWithKey.PutJson($"/admin/clients/{id}/lifespans",
            """{"client_credentials_grant_access_token_lifespan":"-90m","refresh_token_grant_refresh_token_lifespan":"-1.5s","authorization_code_grant_id_token_lifespan":"-0s"}""")).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("-1h30m0s", set["client_credentials_grant_access_token_lifespan"]!.GetValue<string>());
        Assert.Equal("-1.5s", set["refresh_token_grant_refresh_token_lifespan"]!.GetValue<string>());
        Assert.Equal("0s", set["authorization_code_grant_id_token_lifespan"]!.GetValue<string>());
        var got = await (await s.AdminWithKey.GetAsync("/admin/clients/" + id)).Json(HttpStatusCode.OK);
        Assert.Equal("-1h30m0s", got["client_credentials_grant_access_token_lifespan"]!.GetValue<string>());

        // The same on create and on a whole-client update.
        var created = await (await s.AdminWithKey.PostJson("/admin/clients", """{"jwt_bearer_grant_access_token_lifespan":"-5m"}""")).Json(HttpStatusCode.Created);
        Assert.Equal("-5m0s", created["jwt_bearer_grant_access_token_lifespan"]!.GetValue<string>());
        var put = await (await s.AdminWithKey.PutJson("/admin/clients/" + id, """{"device_authorization_grant_access_token_lifespan":"-300ms"}""")).Json(HttpStatusCode.OK);
        Assert.Equal("-300ms", put["device_authorization_grant_access_token_lifespan"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task List_pages_with_a_link_header_and_filters_by_owner(string db)
    {
        var s = await fixture.Get(db);
        var owner = "pager-" + Guid.NewGuid().ToString("N");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add((await (await s.AdminWithKey.PostJson("/admin/clients", $$"""{"owner":"{{owner}}","client_name":"c{{i}}"}""")).Json(HttpStatusCode.Created))["client_id"]!.GetValue<string>());

        var seen = new List<string>();
        var url = $"/admin/clients?owner={owner}&page_size=2";
        for (var pages = 0; url is not null && pages < 10; pages++)
        {
            var res = await s.AdminWithKey.GetAsync(url);
            var page = (await res.Json(HttpStatusCode.OK)).AsArray();
            Assert.True(page.Count <= 2);
            seen.AddRange(page.Select(c => c!["client_id"]!.GetValue<string>()));
            var link = res.Headers.GetValues("Link").Single();
            Assert.Contains("rel=\"first\"", link);
            var next = link.Split(',').FirstOrDefault(l => l.Contains("rel=\"next\"", StringComparison.Ordinal));
            url = next is null ? null : new Uri(next[(next.IndexOf('<') + 1)..next.IndexOf('>')]).PathAndQuery;
        }
        Assert.Equal(ids, seen);
        await (await s.AdminWithKey.GetAsync("/admin/clients?page_token=garbage")).OAuth2Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.GetAsync("/admin/clients?page_size=-1")).OAuth2Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Secret_rotation_keeps_the_old_secret_valid_until_rotated_secrets_are_deleted(string db)
    {
        var s = await fixture.Get(db);
        var id = (await (await s.AdminWithKey.PostJson("/admin/clients", """{"client_secret":"original-secret"}""")).Json(HttpStatusCode.Created))["client_id"]!.GetValue<string>();
        var rotated = await (await s.AdminWithKey.PostAsync($"/admin/clients/{id}/secrets/rotate", null)).Json(HttpStatusCode.OK);
        var newSecret = rotated["client_secret"]!.GetValue<string>();
        Assert.NotEqual("original-secret", newSecret);

        async Task<(bool Old, bool New)> CheckAsync()
        {
            await using var scope = s.Services.CreateAsyncScope();
            var clients = scope.ServiceProvider.GetRequiredService<OAuth2ClientService>();
            var row = (await clients.FindAsync(id, CancellationToken.None))!.Row;
            return (clients.VerifySecret(row, "original-secret"), clients.VerifySecret(row, newSecret));
        }
        Assert.Equal((true, true), await CheckAsync());
        var cleared = (await (await s.AdminWithKey.DeleteAsync($"/admin/clients/{id}/secrets/rotate")).Json(HttpStatusCode.OK)).AsObject();
        Assert.False(cleared.ContainsKey("client_secret"));
        Assert.Equal((false, true), await CheckAsync());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Admin_listener_serves_it_without_prefix_and_the_public_listener_needs_an_api_key(string db)
    {
        var s = await fixture.Get(db);
        var id = (await (await s.AdminWithKey.PostJson("/clients", "{}")).Json(HttpStatusCode.Created))["client_id"]!.GetValue<string>();
        await (await s.PublicWithKey.GetAsync("/admin/clients/" + id)).Json(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.Public.GetAsync("/admin/clients/" + id)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.Public.PostJson("/admin/clients", "{}")).StatusCode);
    }
}
