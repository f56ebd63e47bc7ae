using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.Jsonnet;
using Gatehouse.Sessions;
using Gatehouse.Sessions.Tokenizer;
using Gatehouse.Tests.Hooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.Sessions;

/// <summary>The tokenizer on its own: claims, keys, the claims mapper, Kratos's errors, caching and start-up checks.</summary>
public sealed class SessionTokenizerTests : IDisposable
{
    private const string Issuer = "https://auth.example.com/";

    // Kratos's session/stub/rs512-template.jsonnet: the mapper's sub is ignored, claims.exp is readable.
    private const string KratosStubMapper = """
        local claims = std.extVar('claims');
        local session = std.extVar('session');

        {
          claims: {
            foo: "bar",
            sub: "can not be overwritten",
            schema_id: session.identity.schema_id,
            aal: session.authenticator_assurance_level,
            second_claim: claims.exp,
            [if std.objectHas(session.identity, 'external_id') then 'external_id']: session.identity.external_id,
          }
        }
        """;

    private static readonly RSA RsaKey = RSA.Create(2048);
    private static readonly ECDsa EcKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-tokenizer-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly LogCapture _logs = new();

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        _logs.Dispose();
    }

    private sealed class Clients : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new() { Timeout = TimeSpan.FromSeconds(10) };
    }

    private SessionTokenizer Tokenizer(params (string Name, TokenizerTemplateOptions Template)[] templates)
    {
        var options = new GatehouseOptions();
        options.Serve.Public.BaseUrl = Issuer;
        foreach (var (name, template) in templates) options.Session.Whoami.Tokenizer.Templates[name] = template;
        using var factory = LoggerFactory.Create(b => b.AddProvider(_logs));
        return new SessionTokenizer(options, new JsonnetEngine(), new Clients(), _time, factory.CreateLogger<SessionTokenizer>());
    }

    private static TokenizerTemplateOptions Template(string jwks, string? mapper = null, string subject = "id", TimeSpan? ttl = null) =>
        new() { JwksUrl = jwks, ClaimsMapperUrl = mapper, SubjectSource = subject, Ttl = ttl ?? TimeSpan.FromMinutes(1) };

    private static string RsaJwks(string alg = "RS256") => TestJwks.Base64Url(TestJwks.Set(TestJwks.Rsa(RsaKey, alg)));

    private static string EcJwks() => TestJwks.Base64Url(TestJwks.Set(TestJwks.Ec(EcKey)));

    private static (Session Session, string Json) Sample(string? externalId = "external-id")
    {
        var now = DateTime.UtcNow;
        var identity = new Identity
        {
            Id = Guid.CreateVersion7(),
            SchemaId = "default",
            Traits = """{"email":"ada@example.com"}""",
            ExternalId = externalId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var session = new Session
        {
            Id = Guid.CreateVersion7(),
            IdentityId = identity.Id,
            Identity = identity,
            Active = true,
            AuthenticatedAt = now,
            IssuedAt = now,
            ExpiresAt = now.AddHours(1),
            Aal = "aal1",
        };
        var json = new SessionJson(new IdentityJson(id => "http://127.0.0.1:4433/schemas/" + id), TimeProvider.System)
            .ToNode(session, includeIdentity: true, IdentityView.Public).ToJsonString();
        return (session, json);
    }

    private static async Task<GatehouseError> Fails(SessionTokenizer tokenizer, string template, (Session Session, string Json) sample) =>
        await Assert.ThrowsAsync<GatehouseError>(() => tokenizer.TokenizeAsync(template, sample.Session, sample.Json, CancellationToken.None));

    [Fact]
    public async Task Without_a_mapper_the_claims_are_kratos_s_seven_signed_with_the_first_key()
    {
        var tokenizer = Tokenizer(("jwt", Template(TestJwks.Base64Url(TestJwks.Set(TestJwks.Rsa(RsaKey), TestJwks.Ec(EcKey))))));
        var sample = Sample();

        var token = await tokenizer.TokenizeAsync("jwt", sample.Session, sample.Json, CancellationToken.None);

        await TestJwks.ValidateAsync(token, new RsaSecurityKey(RsaKey.ExportParameters(false)), Issuer);
        var (header, payload) = TestJwks.Decode(token);
        Assert.Equal("""{"alg":"RS256","kid":"rsa-key","typ":"JWT"}""", header.ToJsonString());
        // golang-jwt writes a Go map: keys sorted.
        Assert.Equal(["exp", "iat", "iss", "jti", "nbf", "sid", "sub"], payload.Select(p => p.Key));
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(now, payload["iat"]!.GetValue<long>());
        Assert.Equal(now, payload["nbf"]!.GetValue<long>());
        Assert.Equal(now + 60, payload["exp"]!.GetValue<long>());
        Assert.Equal(Issuer, payload["iss"]!.GetValue<string>());
        Assert.Equal(sample.Session.Id.ToString(), payload["sid"]!.GetValue<string>());
        Assert.Equal(sample.Session.IdentityId.ToString(), payload["sub"]!.GetValue<string>());
        Assert.True(Guid.TryParse(payload["jti"]!.GetValue<string>(), out _));
    }

    [Fact]
    public async Task Every_token_has_its_own_jti_and_exp_is_iat_plus_the_ttl()
    {
        var tokenizer = Tokenizer(("jwt", Template(EcJwks(), ttl: TimeSpan.FromMinutes(90))));
        var sample = Sample();
        var first = TestJwks.Decode(await tokenizer.TokenizeAsync("jwt", sample.Session, sample.Json, CancellationToken.None)).Payload;
        _time.Advance(TimeSpan.FromSeconds(7));
        var second = TestJwks.Decode(await tokenizer.TokenizeAsync("jwt", sample.Session, sample.Json, CancellationToken.None)).Payload;

        Assert.NotEqual(first["jti"]!.GetValue<string>(), second["jti"]!.GetValue<string>());
        Assert.Equal(7, second["iat"]!.GetValue<long>() - first["iat"]!.GetValue<long>());
        foreach (var payload in new[] { first, second })
            Assert.Equal(90 * 60, payload["exp"]!.GetValue<long>() - payload["iat"]!.GetValue<long>());
    }

    public static TheoryData<string> Algorithms => ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS512"];

    [Theory, MemberData(nameof(Algorithms))]
    public async Task Each_algorithm_signs_with_a_key_of_its_kind_and_the_signature_verifies(string alg)
    {
        JsonObject jwk;
        SecurityKey verifier;
        switch (alg[..2])
        {
            case "RS" or "PS":
                jwk = TestJwks.Rsa(RsaKey, alg);
                verifier = new RsaSecurityKey(RsaKey.ExportParameters(false));
                break;
            case "ES":
                var curve = alg switch { "ES256" => ECCurve.NamedCurves.nistP256, "ES384" => ECCurve.NamedCurves.nistP384, _ => ECCurve.NamedCurves.nistP521 };
                var ecdsa = ECDsa.Create(curve);
                jwk = TestJwks.Ec(ecdsa, alg);
                verifier = new ECDsaSecurityKey(ECDsa.Create(ecdsa.ExportParameters(false)));
                break;
            default:
                var secret = RandomNumberGenerator.GetBytes(64);
                jwk = TestJwks.Oct(secret, alg);
                verifier = new SymmetricSecurityKey(secret);
                break;
        }
        var tokenizer = Tokenizer(("jwt", Template(TestJwks.Base64Url(TestJwks.Set(jwk)))));
        var sample = Sample();

        var token = await tokenizer.TokenizeAsync("jwt", sample.Session, sample.Json, CancellationToken.None);

        var validated = await TestJwks.ValidateAsync(token, verifier, Issuer);
        Assert.Equal(alg, validated.Alg);
        Assert.Equal(sample.Session.Id.ToString(), validated.GetClaim("sid").Value);
    }

    [Fact]
    public async Task EdDSA_signs_with_an_Ed25519_key_as_Kratos_does()
    {
        var (jwk, publicKey) = TestJwks.Ed25519();
        var tokenizer = Tokenizer(("jwt", Template(TestJwks.Base64Url(TestJwks.Set(jwk)))));
        var sample = Sample();

        var token = await tokenizer.TokenizeAsync("jwt", sample.Session, sample.Json, CancellationToken.None);

        Assert.True(TestJwks.VerifyEd25519(token, publicKey));
        var (header, payload) = TestJwks.Decode(token);
        Assert.Equal("""{"alg":"EdDSA","kid":"ed-key","typ":"JWT"}""", header.ToJsonString());
        Assert.Equal(sample.Session.IdentityId.ToString(), payload["sub"]!.GetValue<string>());
        var tampered = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];
        Assert.False(TestJwks.VerifyEd25519(tampered, publicKey));
    }

    [Fact]
    public async Task A_single_key_document_works_and_a_key_without_kid_gets_an_empty_kid_header()
    {
        var tokenizer = Tokenizer(("jwt", Template(TestJwks.Base64Url(TestJwks.Ec(EcKey, kid: null).ToJsonString()))));
        var sample = Sample();

        var token = await tokenizer.TokenizeAsync("jwt", sample.Session, sample.Json, CancellationToken.None);

        Assert.Equal("""{"alg":"ES256","kid":"","typ":"JWT"}""", TestJwks.Decode(token).Header.ToJsonString());
        await TestJwks.ValidateAsync(token, new ECDsaSecurityKey(ECDsa.Create(EcKey.ExportParameters(false))), Issuer);
    }

    [Fact]
    public async Task The_kratos_stub_mapper_adds_claims_from_the_session_and_cannot_replace_sub()
    {
        var tokenizer = Tokenizer(
            ("by_id", Template(EcJwks(), TestJwks.Base64Url(KratosStubMapper))),
            ("by_external_id", Template(EcJwks(), TestJwks.Base64Url(KratosStubMapper), subject: "external_id")));
        var sample = Sample();

        var byId = TestJwks.Decode(await tokenizer.TokenizeAsync("by_id", sample.Session, sample.Json, CancellationToken.None)).Payload;
        var byExternalId = TestJwks.Decode(await tokenizer.TokenizeAsync("by_external_id", sample.Session, sample.Json, CancellationToken.None)).Payload;

        // The shape of Kratos's snapshot TestTokenizer-case=rs512-with-jsonnet.json.
        Assert.Equal(["aal", "exp", "external_id", "foo", "iat", "iss", "jti", "nbf", "schema_id", "second_claim", "sid", "sub"], byId.Select(p => p.Key));
        Assert.Equal("aal1", byId["aal"]!.GetValue<string>());
        Assert.Equal("bar", byId["foo"]!.GetValue<string>());
        Assert.Equal("default", byId["schema_id"]!.GetValue<string>());
        Assert.Equal("external-id", byId["external_id"]!.GetValue<string>());
        Assert.Equal(byId["exp"]!.GetValue<long>(), byId["second_claim"]!.GetValue<long>());
        Assert.DoesNotContain(".", byId["second_claim"]!.ToJsonString(), StringComparison.Ordinal); // a whole number, as Go writes it
        Assert.Equal(sample.Session.IdentityId.ToString(), byId["sub"]!.GetValue<string>());
        Assert.Equal("external-id", byExternalId["sub"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_mapper_sees_the_whoami_session_and_the_claims_and_may_replace_every_claim_but_sub()
    {
        const string mapper = """
            local s = std.extVar('session');
            local c = std.extVar('claims');
            { claims: { iss: 'https://other.example/', jti: 'fixed', email: s.identity.traits.email, sid_seen: c.sid, sub_seen: c.sub,
                        nested: { b: [1, 2.5, 'x'], a: null }, sub: 'nope' } }
            """;
        var tokenizer = Tokenizer(("jwt", Template(EcJwks(), TestJwks.Base64Url(mapper))));
        var sample = Sample();

        var payload = TestJwks.Decode(await tokenizer.TokenizeAsync("jwt", sample.Session, sample.Json, CancellationToken.None)).Payload;

        Assert.Equal("https://other.example/", payload["iss"]!.GetValue<string>());
        Assert.Equal("fixed", payload["jti"]!.GetValue<string>());
        Assert.Equal("ada@example.com", payload["email"]!.GetValue<string>());
        Assert.Equal(sample.Session.Id.ToString(), payload["sid_seen"]!.GetValue<string>());
        Assert.Equal(sample.Session.IdentityId.ToString(), payload["sub_seen"]!.GetValue<string>());
        Assert.Equal(sample.Session.IdentityId.ToString(), payload["sub"]!.GetValue<string>());
        Assert.Equal("""{"a":null,"b":[1,2.5,"x"]}""", payload["nested"]!.ToJsonString());
    }

    [Fact]
    public async Task Subject_source_external_id_without_an_external_id_is_kratos_s_400()
    {
        var tokenizer = Tokenizer(("jwt", Template(EcJwks(), subject: "external_id")));

        var error = await Fails(tokenizer, "jwt", Sample(externalId: null));

        Assert.Equal(400, error.Code);
        Assert.Equal(SessionTokenizer.NoExternalId, error.Reason);
    }

    [Fact]
    public async Task An_unknown_template_is_kratos_s_400()
    {
        var error = await Fails(Tokenizer(("jwt", Template(EcJwks()))), "nope", Sample());

        Assert.Equal(400, error.Code);
        Assert.Equal("Unable to find tokenizer template \"nope\".", error.Reason);
        Assert.Equal("The request was malformed or contained invalid parameters", error.Message);
    }

    [Theory]
    [InlineData("{ claims: error 'boom' }", SessionTokenizer.JsonnetFailed)]
    [InlineData("{ claims: ", SessionTokenizer.JsonnetFailed)]
    [InlineData("{ claims: [1] }", SessionTokenizer.ClaimsNotAnObject)]
    [InlineData("{ other: {} }", SessionTokenizer.ClaimsNotAnObject)]
    [InlineData("[1, 2]", SessionTokenizer.ClaimsNotAnObject)]
    public async Task Mapper_failures_are_kratos_s_400s(string mapper, string reason)
    {
        var tokenizer = Tokenizer(("jwt", Template(EcJwks(), TestJwks.Base64Url(mapper))));

        var error = await Fails(tokenizer, "jwt", Sample());

        Assert.Equal(400, error.Code);
        Assert.Equal(reason, error.Reason);
    }

    public static TheoryData<string, string> BrokenKeySets()
    {
        var ec = TestJwks.Ec(EcKey);
        var p256Public = TestJwks.Ec(EcKey, withPrivate: false);
        var noAlg = TestJwks.Ec(EcKey);
        noAlg.Remove("alg");
        var badCurve = TestJwks.Ec(EcKey, alg: "ES384");
        var badX = TestJwks.Ec(EcKey);
        badX["x"] = "AAAA";
        return new TheoryData<string, string>
        {
            // Kratos's session/stub/jwk.es512.broken.json: the closing brace is missing.
            { TestJwks.Set(ec)[..^1], TokenizerSigningKey.ParseFailed },
            { "[]", TokenizerSigningKey.ParseFailed },
            { """{"keys":{}}""", TokenizerSigningKey.ParseFailed },
            { TestJwks.Set(ec, new JsonObject { ["kty"] = "XYZ" }), TokenizerSigningKey.ParseFailed },
            { """{"keys":[]}""", TokenizerSigningKey.NoKey },
            { TestJwks.Set(noAlg), TokenizerSigningKey.InvalidAlgorithm("") },
            { TestJwks.Set(TestJwks.Ec(EcKey, alg: "ES257")), TokenizerSigningKey.InvalidAlgorithm("ES257") },
            { TestJwks.Set(p256Public), TokenizerSigningKey.SignFailed },
            { TestJwks.Set(badCurve), TokenizerSigningKey.SignFailed },
            { TestJwks.Set(TestJwks.Ec(EcKey, alg: "RS256")), TokenizerSigningKey.SignFailed },
            { TestJwks.Set(TestJwks.Rsa(RsaKey, alg: "none")), TokenizerSigningKey.SignFailed },
            { TestJwks.Set(TestJwks.Rsa(RsaKey, withPrivate: false)), TokenizerSigningKey.SignFailed },
            { TestJwks.Set(TestJwks.Oct(Encoding.UTF8.GetBytes("short"))), TokenizerSigningKey.SignFailed },
            { TestJwks.Set(badX), TokenizerSigningKey.DecodeFailed },
        };
    }

    [Theory, MemberData(nameof(BrokenKeySets))]
    public async Task Key_sets_that_cannot_sign_are_kratos_s_400s_at_request_time_and_config_errors_at_start_up(string jwks, string reason)
    {
        var tokenizer = Tokenizer(("jwt", Template(TestJwks.Base64Url(jwks))));

        var error = await Fails(tokenizer, "jwt", Sample());
        Assert.Equal(400, error.Code);
        Assert.Equal(reason, error.Reason);

        var config = await Assert.ThrowsAsync<ConfigException>(() => tokenizer.ValidateAsync(CancellationToken.None));
        Assert.StartsWith("session.whoami.tokenizer.templates.jwt.jwks_url: ", config.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Base64UrlEncoder.Encode(EcKey.ExportParameters(true).D!), config.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_error_comes_after_the_mapper_as_in_kratos()
    {
        var tokenizer = Tokenizer(("jwt", Template(TestJwks.Base64Url(TestJwks.Set(TestJwks.Ec(EcKey, withPrivate: false))), TestJwks.Base64Url("{ claims: error 'first' }"))));

        var error = await Fails(tokenizer, "jwt", Sample());

        Assert.Equal(SessionTokenizer.JsonnetFailed, error.Reason);
    }

    [Fact]
    public async Task A_key_file_is_kept_for_an_hour_then_read_again_and_an_unreadable_one_is_a_500_without_paths()
    {
        var file = Path.Combine(_dir, "jwks.json");
        await File.WriteAllTextAsync(file, TestJwks.Set(TestJwks.Rsa(RsaKey, kid: "old")));
        var tokenizer = Tokenizer(("jwt", Template("file://" + file)));
        var sample = Sample();
        async Task<string> Kid() => TestJwks.Decode(await tokenizer.TokenizeAsync("jwt", sample.Session, sample.Json, CancellationToken.None)).Header["kid"]!.GetValue<string>();

        Assert.Equal("old", await Kid());
        await File.WriteAllTextAsync(file, TestJwks.Set(TestJwks.Ec(EcKey, kid: "new")));
        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal("old", await Kid());
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("new", await Kid());

        File.Delete(file);
        Assert.Equal("new", await Kid());
        _time.Advance(TimeSpan.FromHours(1));
        var error = await Fails(tokenizer, "jwt", sample);
        Assert.Equal(500, error.Code);
        Assert.Equal("Unable to read the JSON Web Key Set of tokenizer template \"jwt\".", error.Reason);
        Assert.DoesNotContain(_dir, error.ToEnvelope().ToJsonString(), StringComparison.Ordinal);
        Assert.Contains(_logs.Lines, l => l.Contains("jwks_url cannot be read", StringComparison.Ordinal) && l.Contains(file, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_mapper_file_is_read_on_every_call_as_in_kratos()
    {
        var file = Path.Combine(_dir, "mapper.jsonnet");
        await File.WriteAllTextAsync(file, "{ claims: { v: 1 } }");
        var tokenizer = Tokenizer(("jwt", Template(EcJwks(), "file://" + file)));
        var sample = Sample();
        async Task<long> V() => TestJwks.Decode(await tokenizer.TokenizeAsync("jwt", sample.Session, sample.Json, CancellationToken.None)).Payload["v"]!.GetValue<long>();

        Assert.Equal(1, await V());
        await File.WriteAllTextAsync(file, "{ claims: { v: 2 } }");
        Assert.Equal(2, await V());
    }

    [Fact]
    public async Task An_http_mapper_is_fetched_once_an_hour()
    {
        await using var receiver = await HookReceiver.StartAsync();
        var url = receiver.On("/mapper.jsonnet", 200, "{ claims: { from: 'http' } }");
        var tokenizer = Tokenizer(("jwt", Template(EcJwks(), url)));
        var sample = Sample();

        await tokenizer.ValidateAsync(CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            var payload = TestJwks.Decode(await tokenizer.TokenizeAsync("jwt", sample.Session, sample.Json, CancellationToken.None)).Payload;
            Assert.Equal("http", payload["from"]!.GetValue<string>());
        }
        Assert.Single(receiver.Received("/mapper.jsonnet"));
        _time.Advance(TimeSpan.FromHours(1));
        await tokenizer.TokenizeAsync("jwt", sample.Session, sample.Json, CancellationToken.None);
        Assert.Equal(2, receiver.Received("/mapper.jsonnet").Count);

        var missing = Tokenizer(("jwt", Template(EcJwks(), receiver.On("/missing.jsonnet", 404))));
        var config = await Assert.ThrowsAsync<ConfigException>(() => missing.ValidateAsync(CancellationToken.None));
        Assert.StartsWith("session.whoami.tokenizer.templates.jwt.claims_mapper_url: cannot be read: ", config.Message, StringComparison.Ordinal);
        Assert.Contains("404", config.Message, StringComparison.Ordinal);
        var error = await Fails(missing, "jwt", sample);
        Assert.Equal(500, error.Code);
        Assert.Equal("Unable to read the claims mapper of tokenizer template \"jwt\".", error.Reason);
    }

    [Fact]
    public async Task Start_up_validation_accepts_working_templates_and_names_the_key_of_a_broken_one()
    {
        await Tokenizer(("a", Template(RsaJwks(), TestJwks.Base64Url(KratosStubMapper))), ("b", Template(EcJwks()))).ValidateAsync(CancellationToken.None);

        var missingFile = await Assert.ThrowsAsync<ConfigException>(() =>
            Tokenizer(("ok", Template(EcJwks())), ("gone", Template("file://" + Path.Combine(_dir, "nope.json")))).ValidateAsync(CancellationToken.None));
        Assert.StartsWith("session.whoami.tokenizer.templates.gone.jwks_url: cannot be read: file://", missingFile.Message, StringComparison.Ordinal);

        var badBase64 = await Assert.ThrowsAsync<ConfigException>(() => Tokenizer(("t", Template("base64://%%%"))).ValidateAsync(CancellationToken.None));
        Assert.Equal("session.whoami.tokenizer.templates.t.jwks_url: cannot be read: base64://[redacted] is not valid base64", badBase64.Message);

        var publicOnly = await Assert.ThrowsAsync<ConfigException>(() =>
            Tokenizer(("t", Template(TestJwks.Base64Url(TestJwks.Set(TestJwks.Rsa(RsaKey, withPrivate: false)))))).ValidateAsync(CancellationToken.None));
        Assert.Contains("cannot sign with its \"alg\"", publicOnly.Message, StringComparison.Ordinal);

        var badMapper = await Assert.ThrowsAsync<ConfigException>(() =>
            Tokenizer(("t", Template(EcJwks(), TestJwks.Base64Url("{ claims: ")))).ValidateAsync(CancellationToken.None));
        Assert.StartsWith("session.whoami.tokenizer.templates.t.claims_mapper_url: is not valid Jsonnet: ", badMapper.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Private_key_material_reaches_neither_errors_nor_logs()
    {
        var secrets = new[] { RsaKey.ExportParameters(true).D!, RsaKey.ExportParameters(true).P! }.Select(Base64UrlEncoder.Encode).ToList();
        var jwksUrl = RsaJwks();
        var tokenizer = Tokenizer(("jwt", Template(jwksUrl, TestJwks.Base64Url("{ claims: error 'mapper says no' }"))));

        var error = await Fails(tokenizer, "jwt", Sample());

        Assert.Equal(SessionTokenizer.JsonnetFailed, error.Reason);
        Assert.Contains(_logs.Lines, l => l.Contains("mapper says no", StringComparison.Ordinal));
        foreach (var text in _logs.Lines.Append(error.ToEnvelope().ToJsonString()))
        {
            Assert.DoesNotContain(jwksUrl[20..60], text, StringComparison.Ordinal);
            foreach (var secret in secrets) Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }
}
