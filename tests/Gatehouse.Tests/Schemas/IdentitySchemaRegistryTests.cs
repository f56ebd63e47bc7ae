using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Schemas;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Schemas;

public sealed class IdentitySchemaRegistryTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gatehouse-schemas-").FullName;
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IdentityOptions Options(params (string Id, string Url)[] schemas) => new()
    {
        DefaultSchemaId = schemas.Length > 0 ? schemas[0].Id : "default",
        Schemas = schemas.Select(s => new IdentitySchemaEntry { Id = s.Id, Url = s.Url }).ToList(),
    };

    private string WriteSchema(string name, string json = TestSchemas.Rich)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, json);
        return path;
    }

    private Task<IdentitySchemaRegistry> Load(IdentityOptions options) =>
        IdentitySchemaRegistry.LoadAsync(options, _http, _folder, Ct);

    private async Task<SchemaConfigException> LoadFails(IdentityOptions options) =>
        await Assert.ThrowsAsync<SchemaConfigException>(() => Load(options));

    [Fact]
    public async Task Serve_fetches_schema_urls_under_the_outbound_address_rules()
    {
        // What `serve` loads with (Kratos: an ory/x resilient client): 0.0.0.0 (loopback on Linux) is refused by default,
        // loopback with clients.http.disallow_private_ip_ranges.
        var port = Gatehouse.Tests.Infrastructure.TestServer.FreePort();
        var options = new Gatehouse.Config.GatehouseOptions { Identity = Options(("default", $"http://0.0.0.0:{port}/schema.json")) };
        var special = await Assert.ThrowsAsync<SchemaConfigException>(() => IdentitySchemaRegistry.LoadAsync(options, _folder, Ct));
        Assert.Contains("0.0.0.0 is not a permitted destination", special.Message, StringComparison.Ordinal);
        options.Identity = Options(("default", $"http://127.0.0.1:{port}/schema.json"));
        options.Clients.Http.DisallowPrivateIpRanges = true;
        var loopback = await Assert.ThrowsAsync<SchemaConfigException>(() => IdentitySchemaRegistry.LoadAsync(options, _folder, Ct));
        Assert.Contains("127.0.0.1 is not a permitted destination", loopback.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_absolute_file_url_is_read_and_its_text_kept_verbatim()
    {
        var path = WriteSchema("absolute.json");

        var registry = await Load(Options(("customer", "file://" + path)));

        var schema = Assert.Single(registry.All);
        Assert.Equal("customer", schema.Id);
        Assert.Equal("file://" + path, schema.Url);
        Assert.Equal(TestSchemas.Rich, schema.RawJson);
        Assert.Same(schema, registry.Default);
    }

    [Theory]
    [InlineData("file://./relative.json")]
    [InlineData("file://relative.json")]
    public async Task A_relative_file_url_resolves_against_the_config_folder(string url)
    {
        WriteSchema("relative.json");

        var registry = await Load(Options(("default", url)));

        Assert.Equal(url, registry.Default.Url);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(TestSchemas.Rich), registry.Default.RawSchema));
    }

    [Fact]
    public async Task A_file_url_in_a_nested_folder_resolves_against_the_config_folder()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "schemas"));
        WriteSchema(Path.Combine("schemas", "person.json"));

        var registry = await Load(Options(("person", "file://./schemas/person.json")));

        Assert.Equal("person", registry.Default.Id);
    }

    [Fact]
    public async Task A_base64_url_in_standard_and_url_safe_alphabets_is_decoded()
    {
        var bytes = Encoding.UTF8.GetBytes(TestSchemas.Rich);
        var standard = "base64://" + Convert.ToBase64String(bytes);
        var urlSafe = "base64://" + Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_').TrimEnd('=');

        var registry = await Load(Options(("a", standard), ("b", urlSafe)));

        Assert.Equal(TestSchemas.Rich, registry.Find("a")!.RawJson);
        Assert.Equal(TestSchemas.Rich, registry.Find("b")!.RawJson);
    }

    [Fact]
    public async Task An_http_url_is_fetched_with_the_given_client()
    {
        await using var server = await SchemaServer.StartAsync();

        var registry = await Load(Options(("remote", server.Url("/identity.schema.json"))));

        Assert.Equal(TestSchemas.Rich, registry.Default.RawJson);
        Assert.Equal(server.Url("/identity.schema.json"), registry.Default.Url);
    }

    [Fact]
    public async Task An_http_url_answering_404_is_a_configuration_error_naming_the_status()
    {
        await using var server = await SchemaServer.StartAsync();
        var url = server.Url("/missing.json");

        var error = await LoadFails(Options(("remote", url)));

        Assert.Contains("\"remote\"", error.Message, StringComparison.Ordinal);
        Assert.Contains(url, error.Message, StringComparison.Ordinal);
        Assert.Contains("404", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_http_url_is_a_configuration_error()
    {
        await using var server = await SchemaServer.StartAsync();
        var url = server.Url("/identity.schema.json");
        await server.DisposeAsync();

        var error = await LoadFails(Options(("remote", url)));

        Assert.Contains("could not be fetched", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_configured_schemas_the_built_in_email_password_schema_is_the_default()
    {
        var registry = await Load(new IdentityOptions());

        var schema = Assert.Single(registry.All);
        Assert.Same(schema, registry.Default);
        Assert.Equal("default", schema.Id);
        Assert.StartsWith("base64://", schema.Url, StringComparison.Ordinal);
        var email = Assert.Single(schema.TraitFields);
        Assert.Equal(new TraitField("traits.email", "string", "email", "E-Mail", true, email.Extension) { MaxLength = 320 }, email);
        Assert.True(email.Extension.PasswordIdentifier);
        Assert.Equal("email", email.Extension.VerificationVia);
        Assert.Equal("email", email.Extension.RecoveryVia);

        var result = schema.Validate(JsonNode.Parse("""{"email":" Jane@Example.org "}"""));
        Assert.False(result.IsValid); // the format assertion sees the spaces

        result = schema.Validate(JsonNode.Parse("""{"email":"Jane@Example.org"}"""));
        Assert.True(result.IsValid);
        Assert.Equal(["jane@example.org"], result.CredentialIdentifiers["password"]);
        Assert.Equal([new AddressSpec("jane@example.org", "email")], result.VerifiableAddresses);
        Assert.Equal([new AddressSpec("jane@example.org", "email")], result.RecoveryAddresses);

        Assert.False(schema.Validate(JsonNode.Parse("""{"email":"jane@example.org","nick":"j"}""")).IsValid);
        Assert.False(schema.Validate(null).IsValid);
    }

    [Fact]
    public async Task The_built_in_schema_takes_the_configured_default_schema_id()
    {
        var registry = await Load(new IdentityOptions { DefaultSchemaId = "customer" });

        Assert.Equal("customer", registry.Default.Id);
        Assert.Same(registry.Default, registry.Find("customer"));
    }

    [Fact]
    public async Task Find_accepts_the_id_or_its_unpadded_base64url_form()
    {
        var json = TestSchemas.Base64Url(TestSchemas.Rich);
        var registry = await Load(Options(("default", json), ("customer?v=2", json)));

        Assert.Equal("ZGVmYXVsdA", IdentitySchemaRegistry.EncodeId("default"));
        Assert.Same(registry.Find("default"), registry.Find("ZGVmYXVsdA"));
        Assert.Equal("customer?v=2", registry.Find(IdentitySchemaRegistry.EncodeId("customer?v=2"))!.Id);
        Assert.Null(registry.Find("unknown"));
        Assert.Null(registry.Find("dW5rbm93bg")); // "unknown"
        Assert.Null(registry.Find(""));
    }

    [Fact]
    public async Task All_keeps_configuration_order_and_default_follows_default_schema_id()
    {
        var json = TestSchemas.Base64Url(TestSchemas.Rich);
        var options = Options(("a", json), ("b", json), ("c", json));
        options.DefaultSchemaId = "b";

        var registry = await Load(options);

        Assert.Equal(["a", "b", "c"], registry.All.Select(s => s.Id));
        Assert.Equal("b", registry.Default.Id);
    }

    [Fact]
    public async Task A_default_schema_id_that_is_not_configured_is_an_error()
    {
        var options = Options(("a", TestSchemas.Base64Url(TestSchemas.Rich)));
        options.DefaultSchemaId = "b";

        var error = await LoadFails(options);

        Assert.Contains("identity.default_schema_id", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"b\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Duplicate_schema_ids_are_an_error()
    {
        var json = TestSchemas.Base64Url(TestSchemas.Rich);

        var error = await LoadFails(Options(("a", json), ("a", json)));

        Assert.Contains("\"a\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("unique", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_file_is_an_error_naming_id_url_and_path()
    {
        var error = await LoadFails(Options(("a", "file://./nope.json")));

        Assert.Contains("\"a\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("file://./nope.json", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_folder, "nope.json"), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://example.org/x.json", "unsupported URL scheme")]
    [InlineData("./x.json", "unsupported URL scheme")]
    [InlineData("", "has no url")]
    [InlineData("base64://not*base64", "not valid base64")]
    public async Task Unusable_urls_are_errors(string url, string expected)
    {
        var error = await LoadFails(Options(("a", url)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_json_is_an_error()
    {
        var error = await LoadFails(Options(("broken", TestSchemas.Base64Url("""{"properties": """))));

        Assert.Contains("\"broken\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("is not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type": "string", "minLength": "three"}""")]
    [InlineData("""{"type": 5}""")]
    [InlineData("""{"type": "string", "pattern": 7}""")]
    public async Task A_document_that_is_not_a_json_schema_is_an_error(string emailSchema)
    {
        var json = TestSchemas.WithTrait("email", emailSchema);

        var error = await LoadFails(Options(("a", TestSchemas.Base64Url(json))));

        Assert.Contains("is not a valid JSON schema", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("#/definitions/missing", "does not point to a schema in this document")]
    [InlineData("https://example.org/other.json#/definitions/x", "points to another document")]
    public async Task An_unresolvable_reference_is_an_error_at_load(string reference, string expected)
    {
        var json = TestSchemas.WithTrait("email", $$"""{"$ref": "{{reference}}"}""");

        var error = await LoadFails(Options(("a", TestSchemas.Base64Url(json))));

        Assert.Contains("is not a valid JSON schema", error.Message, StringComparison.Ordinal);
        Assert.Contains("#/properties/traits/properties/email/$ref", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task References_within_the_schema_resolve()
    {
        var json = """
            {
              "definitions": { "email": { "type": "string", "format": "email", "title": "Mail" } },
              "properties": { "traits": { "type": "object", "properties": { "email": { "$ref": "#/definitions/email" } } } }
            }
            """;

        var registry = await Load(Options(("a", TestSchemas.Base64Url(json))));

        Assert.Equal([new TraitField("traits.email", "string", "email", "Mail", false, TraitExtension.None)], registry.Default.TraitFields);
        Assert.False(registry.Default.Validate(JsonNode.Parse("""{"email":"nope"}""")).IsValid);
    }

    [Theory]
    [InlineData("""[]""", "must be a JSON object")]
    [InlineData("""{"type": "object"}""", "#/properties/traits")]
    [InlineData("""{"properties": {"traits": {"type": "object"}}}""", "#/properties/traits/properties must be an object with at least one trait")]
    [InlineData("""{"properties": {"traits": {"type": "object", "properties": {}}}}""", "at least one trait")]
    [InlineData("""{"properties": {"traits": {"type": "string", "properties": {"a": {}}}}}""", "#/properties/traits/type must be \"object\"")]
    [InlineData("""{"properties": {"traits": {"properties": {"a": true}}}}""", "#/properties/traits/properties/a must be an object schema")]
    public async Task A_schema_without_the_traits_shape_kratos_requires_is_an_error(string json, string expected)
    {
        var error = await LoadFails(Options(("a", TestSchemas.Base64Url(json))));

        Assert.Contains("is not a valid identity schema", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"credential": {}}""", "unknown key \"credential\"")]
    [InlineData("""{"credentials": {"password": {"identifier": "yes"}}}""", "credentials/password/identifier must be true or false")]
    [InlineData("""{"credentials": {"passkey": {"identifier": true}}}""", "credentials/passkey has unknown key \"identifier\"")]
    [InlineData("""{"credentials": {"code": {"identifier": true, "via": "fax"}}}""", "credentials/code/via must be one of \"email\", \"sms\"")]
    [InlineData("""{"verification": {"via": "pigeon"}}""", "verification/via must be one of")]
    [InlineData("""{"recovery": {"channel": "email"}}""", "recovery has unknown key \"channel\"")]
    [InlineData("""{"organizations": {"matcher": "domain"}}""", "organizations/matcher must be one of \"email_domain\"")]
    [InlineData("""[]""", "ory.sh~1kratos must be an object")]
    public async Task A_malformed_kratos_extension_is_an_error_with_its_path(string extension, string expected)
    {
        var json = TestSchemas.WithTrait("email", $$"""{"type": "string", "ory.sh/kratos": {{extension}}}""");

        var error = await LoadFails(Options(("a", TestSchemas.Base64Url(json))));

        Assert.Contains("#/properties/traits/properties/email/ory.sh~1kratos", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_extension_on_a_nested_trait_is_an_error()
    {
        var json = TestSchemas.WithTrait("name", """
            {"type": "object", "properties": {"first": {"type": "string", "ory.sh/kratos": {"credentials": {"totp": {"account_name": 1}}}}}}
            """);

        var error = await LoadFails(Options(("a", TestSchemas.Base64Url(json))));

        Assert.Contains("#/properties/traits/properties/name/properties/first/ory.sh~1kratos/credentials/totp/account_name must be true or false", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_verified_trait_with_an_unsupported_format_is_an_error()
    {
        var json = TestSchemas.WithTrait("email", """{"type": "string", "format": "uri", "ory.sh/kratos": {"verification": {"via": "email"}}}""");

        var error = await LoadFails(Options(("a", TestSchemas.Base64Url(json))));

        Assert.Contains("#/properties/traits/properties/email/format must be one of", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verification_via_sms_without_a_format_is_an_error()
    {
        var json = TestSchemas.WithTrait("phone", """{"type": "string", "ory.sh/kratos": {"verification": {"via": "sms"}}}""");

        var error = await LoadFails(Options(("a", TestSchemas.Base64Url(json))));

        Assert.Contains("must set \"format\": \"tel\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("email-password")]
    [InlineData("all-strategies")]
    public async Task The_kratos_quickstart_schemas_load(string folder)
    {
        var path = ReferenceData.PathOrSkip("kratos", "quickstart", folder, "identity.schema.json");

        var registry = await Load(Options(("default", "file://" + path)));

        Assert.Equal(File.ReadAllText(path), registry.Default.RawJson);
        Assert.Equal(["traits.email", "traits.name.first", "traits.name.last"], registry.Default.TraitFields.Select(f => f.Name));
    }

    /// <summary>A Kestrel server on a free port that serves the rich test schema.</summary>
    private sealed class SchemaServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private bool _disposed;

        private SchemaServer(WebApplication app) => _app = app;

        public static async Task<SchemaServer> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.MapGet("/identity.schema.json", () => Results.Text(TestSchemas.Rich, "application/schema+json"));
            await app.StartAsync(Ct);
            return new SchemaServer(app);
        }

        public string Url(string path) => _app.Urls.First().TrimEnd('/') + path;

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await _app.StopAsync(Ct);
            await _app.DisposeAsync();
        }
    }
}
