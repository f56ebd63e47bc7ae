using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Keys;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// OpenID Connect UserInfo Verifiable Credentials (draft 00), <c>POST /credentials</c>, as Hydra v26.2 serves them
/// (<c>oauth2/handler.go</c> <c>createVerifiableCredential</c>, <c>oauth2_auth_code_test.go</c> "verifiable credentials"),
/// on both databases.
/// </summary>
public sealed class VerifiableCredentialTests
{
    private const string LoginUrl = "https://login.example/login";
    private const string ConsentUrl = "https://login.example/consent";
    private const string RedirectUri = "https://app.example/callback";
    private const string Scope = "userinfo_credential_draft_00";
    private const string InvalidRequest = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.";

    private static async Task<(TestServer Server, FakeTimeProvider Clock)> StartAsync(string db, Action<Gatehouse.Config.GatehouseOptions>? configure = null)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var s = await TestServer.StartAsync(db, o =>
        {
            o.Urls.Login = LoginUrl;
            o.Urls.Consent = ConsentUrl;
            configure?.Invoke(o);
        }, services =>
        {
            services.AddSingleton(new KeyGeneration { RsaBits = 2048 });
            services.AddSingleton<TimeProvider>(clock);
        });
        return (s, clock);
    }

    private static HttpRequestMessage TokenRequest(string clientId, string secret, params (string, string)[] form)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))) };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        return req;
    }

    /// <summary>A client_credentials token response for <paramref name="scope"/>.</summary>
    private static async Task<JsonObject> MachineTokenAsync(TestServer s, string scope)
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", $$"""{"grant_types":["client_credentials"],"scope":"openid {{Scope}} photos"}""")).Json(HttpStatusCode.Created);
        var res = await s.Public.SendAsync(TokenRequest(c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>(), ("grant_type", "client_credentials"), ("scope", scope)));
        return (await res.Json(HttpStatusCode.OK)).AsObject();
    }

    /// <summary>
    /// The authorization-code flow for <c>user-1</c> through login and consent (Hydra's test: scope <c>openid
    /// userinfo_credential_draft_00</c>, an ID-token session claim), plus <c>offline</c> for a refresh token.
    /// </summary>
    private static async Task<(JsonObject Tokens, string ClientId)> UserTokensAsync(TestServer s)
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients",
            $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid offline {{Scope}}","grant_types":["authorization_code","refresh_token"]}""")).Json(HttpStatusCode.Created);
        var (id, secret) = (c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>());
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var toLogin = (await browser.GetAsync($"/oauth2/auth?response_type=code&client_id={id}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope={Uri.EscapeDataString("openid offline " + Scope)}&state=state-123456&nonce=nonce-abcdefgh&code_challenge={challenge}&code_challenge_method=S256")).Headers.Location!;
        var login = QueryHelpers.ParseQuery(toLogin.Query)["login_challenge"].ToString();
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(login)}", """{"subject":"user-1","remember":true}""")).Json(HttpStatusCode.OK);
        var toConsent = (await browser.GetAsync(accepted["redirect_to"]!.GetValue<string>())).Headers.Location!;
        var consent = QueryHelpers.ParseQuery(toConsent.Query)["consent_challenge"].ToString();
        var consented = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(consent)}",
            """{"grant_scope":["openid","offline","userinfo_credential_draft_00"],"session":{"id_token":{"email":"foo@bar.com","bar":"baz"},"access_token":{"foo":"bar"}}}""")).Json(HttpStatusCode.OK);
        var callback = (await browser.GetAsync(consented["redirect_to"]!.GetValue<string>())).Headers.Location!;
        var code = QueryHelpers.ParseQuery(callback.Query)["code"].ToString();
        var res = await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", RedirectUri), ("code_verifier", verifier)));
        return ((await res.Json(HttpStatusCode.OK)).AsObject(), id);
    }

    private static Task<HttpResponseMessage> PostCredentialAsync(TestServer s, string? token, string body)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/credentials") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (token is not null) req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return s.Public.SendAsync(req);
    }

    private static string ProofBody(string jwt, string format = "jwt_vc_json", string proofType = "jwt") =>
        new JsonObject { ["format"] = format, ["types"] = new JsonArray("VerifiableCredential", "UserInfoCredential"), ["proof"] = new JsonObject { ["proof_type"] = proofType, ["jwt"] = jwt } }.ToJsonString();

    private const string PrimingBody = """{"format":"jwt_vc_json","types":["VerifiableCredential","UserInfoCredential"]}""";

    private static async Task<string> PrimeAsync(TestServer s, string token)
    {
        var res = await PostCredentialAsync(s, token, PrimingBody);
        return (await res.Json(HttpStatusCode.BadRequest))["c_nonce"]!.GetValue<string>();
    }

    /// <summary>A holder key pair: its public JWK (members in a wallet's order, not go-jose's) and a signer for its algorithm.</summary>
    private sealed class Holder
    {
        private Holder(string alg, JsonObject jwk, Func<byte[], byte[]> sign)
        {
            Alg = alg;
            Jwk = jwk;
            Sign = sign;
        }

        public string Alg { get; }
        public JsonObject Jwk { get; }
        public Func<byte[], byte[]> Sign { get; }

        /// <summary>The JWK as go-jose marshals it (use, kty, kid, crv, alg, x, y, n, e): what Hydra puts into <c>did:jwk</c>.</summary>
        public string GoJoseJson()
        {
            var o = new JsonObject();
            foreach (var name in new[] { "use", "kty", "kid", "crv", "alg", "x", "y", "n", "e" })
            {
                if (Jwk[name] is { } v) o[name] = v.DeepClone();
            }
            return o.ToJsonString();
        }

        public string Did => "did:jwk:" + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(GoJoseJson()));

        public static Holder Create(string alg)
        {
            switch (alg[..2])
            {
                case "ES":
                {
                    var (curve, crv) = alg switch { "ES256" => (ECCurve.NamedCurves.nistP256, "P-256"), "ES384" => (ECCurve.NamedCurves.nistP384, "P-384"), _ => (ECCurve.NamedCurves.nistP521, "P-521") };
                    var ec = ECDsa.Create(curve);
                    var p = ec.ExportParameters(false);
                    var hash = Hash(alg);
                    return new Holder(alg, new JsonObject { ["x"] = Base64Url.EncodeToString(p.Q.X), ["y"] = Base64Url.EncodeToString(p.Q.Y), ["crv"] = crv, ["kty"] = "EC", ["alg"] = alg },
                        data => ec.SignData(data, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
                }
                case "RS" or "PS":
                {
                    var rsa = RSA.Create(2048);
                    var p = rsa.ExportParameters(false);
                    var hash = Hash(alg);
                    var padding = alg[0] == 'P' ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;
                    return new Holder(alg, new JsonObject { ["e"] = Base64Url.EncodeToString(p.Exponent), ["n"] = Base64Url.EncodeToString(p.Modulus), ["kty"] = "RSA", ["alg"] = alg },
                        data => rsa.SignData(data, hash, padding));
                }
                default:
                {
                    var generator = new Ed25519KeyPairGenerator();
                    generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
                    var pair = generator.GenerateKeyPair();
                    return new Holder(alg, new JsonObject { ["x"] = Base64Url.EncodeToString(((Ed25519PublicKeyParameters)pair.Public).GetEncoded()), ["crv"] = "Ed25519", ["kty"] = "OKP", ["alg"] = alg },
                        data =>
                        {
                            var signer = new Ed25519Signer();
                            signer.Init(true, pair.Private);
                            signer.BlockUpdate(data, 0, data.Length);
                            return signer.GenerateSignature();
                        });
                }
            }
        }

        private static HashAlgorithmName Hash(string alg) => alg[^3..] switch { "384" => HashAlgorithmName.SHA384, "512" => HashAlgorithmName.SHA512, _ => HashAlgorithmName.SHA256 };

        /// <summary>A proof JWT: header <c>{alg, typ, jwk}</c> (changed by <paramref name="header"/>), claims <c>{nonce}</c> (changed by <paramref name="claims"/>), signed by this holder.</summary>
        public string Proof(string? nonce, Action<JsonObject>? header = null, Action<JsonObject>? claims = null, Holder? signer = null)
        {
            var h = new JsonObject { ["alg"] = Alg, ["typ"] = "JWT", ["jwk"] = Jwk.DeepClone() };
            header?.Invoke(h);
            var c = new JsonObject();
            if (nonce is not null) c["nonce"] = nonce;
            claims?.Invoke(c);
            var input = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(h.ToJsonString())) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(c.ToJsonString()));
            return input + "." + Base64Url.EncodeToString((signer ?? this).Sign(Encoding.ASCII.GetBytes(input)));
        }
    }

    private static async Task<JsonObject> InvalidRequestAsync(HttpResponseMessage res, string hint)
    {
        var e = await res.OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(InvalidRequest + " " + hint, e["error_description"]!.GetValue<string>());
        return e;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_token_response_carries_a_nonce_only_when_openid_and_the_credential_scope_are_granted(string db)
    {
        var (s, _) = await StartAsync(db);
        await using var _s = s;
        var primed = await MachineTokenAsync(s, $"openid {Scope}");
        Assert.Equal(["access_token", "c_nonce_draft_00", "c_nonce_expires_in_draft_00", "expires_in", "scope", "token_type"], primed.Select(kv => kv.Key));
        Assert.Matches("^[A-Za-z0-9_-]{43}$", primed["c_nonce_draft_00"]!.GetValue<string>());
        Assert.Equal(3600, primed["c_nonce_expires_in_draft_00"]!.GetValue<long>());

        foreach (var scope in new[] { Scope, "openid", "openid photos" })
        {
            var plain = await MachineTokenAsync(s, scope);
            Assert.Null(plain["c_nonce_draft_00"]);
            Assert.Null(plain["c_nonce_expires_in_draft_00"]);
        }

        // The code flow: Hydra's test asks for exactly these scopes; the nonce comes with the ID token and the refresh token.
        var (user, _) = await UserTokensAsync(s);
        Assert.Equal(["access_token", "c_nonce_draft_00", "c_nonce_expires_in_draft_00", "expires_in", "id_token", "refresh_token", "scope", "token_type"], user.Select(kv => kv.Key));

        // Only hashes are stored, each bound to the hash of its access token.
        await using var scope2 = s.Services.CreateAsyncScope();
        var db2 = scope2.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>();
        var rows = await db2.OAuth2VerifiableCredentialNonces.ToListAsync();
        Assert.Equal(2, rows.Count);
        Assert.Contains(rows, r => r.Signature.SequenceEqual(SHA256.HashData(Encoding.UTF8.GetBytes(primed["c_nonce_draft_00"]!.GetValue<string>())))
            && r.AccessTokenSignature.SequenceEqual(SHA256.HashData(Encoding.UTF8.GetBytes(primed["access_token"]!.GetValue<string>()))));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_user_proof_with_a_token_endpoint_nonce_gets_a_credential_that_verifies_against_the_published_keys(string db)
    {
        var (s, clock) = await StartAsync(db);
        await using var _s = s;
        var (tokens, _) = await UserTokensAsync(s);
        var access = tokens["access_token"]!.GetValue<string>();
        var holder = Holder.Create("ES256");

        var res = await PostCredentialAsync(s, access, ProofBody(holder.Proof(tokens["c_nonce_draft_00"]!.GetValue<string>())));
        var body = (await res.Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(["format", "credential_draft_00"], body.Select(kv => kv.Key));
        Assert.Equal("jwt_vc_json", body["format"]!.GetValue<string>());
        Assert.Equal("no-store", res.Headers.CacheControl?.ToString());

        var jwks = new JsonWebKeySet(await s.Public.GetStringAsync("/.well-known/jwks.json"));
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(body["credential_draft_00"]!.GetValue<string>(), new TokenValidationParameters
        {
            ValidIssuer = s.PublicUrl + "/",
            ValidateAudience = false,
            ValidateLifetime = false,
            IssuerSigningKeys = jwks.GetSigningKeys(),
        });
        Assert.True(validation.IsValid, validation.Exception?.ToString());
        var jwt = (JsonWebToken)validation.SecurityToken;
        Assert.Equal("RS256", jwt.Alg);
        Assert.Equal(jwks.Keys.Single().Kid, jwt.Kid);
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(jwt.EncodedPayload))!.AsObject();
        Assert.Equal(["exp", "iat", "iss", "jti", "nbf", "sub", "vc"], claims.Select(kv => kv.Key));
        Assert.Equal(holder.Did, claims["sub"]!.GetValue<string>());
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(now, claims["iat"]!.GetValue<long>());
        Assert.Equal(now, claims["nbf"]!.GetValue<long>());
        Assert.Equal(now + 3600, claims["exp"]!.GetValue<long>());
        Assert.True(Guid.TryParse(claims["jti"]!.GetValue<string>(), out _));
        var vc = claims["vc"]!.AsObject();
        Assert.Equal(["@context", "credentialSubject", "type"], vc.Select(kv => kv.Key));
        Assert.Equal("""["https://www.w3.org/2018/credentials/v1"]""", vc["@context"]!.ToJsonString());
        Assert.Equal("""["VerifiableCredential","UserInfoCredential"]""", vc["type"]!.ToJsonString());
        var subject = vc["credentialSubject"]!.AsObject();
        // The holder's key as did:jwk (go-jose's member order), the token's subject, and the consent's ID-token claims with sid.
        Assert.Equal(["bar", "email", "id", "sid", "sub"], subject.Select(kv => kv.Key));
        Assert.Equal(holder.Did, subject["id"]!.GetValue<string>());
        Assert.StartsWith(""""{"kty":"EC","crv":"P-256","alg":"ES256","x":"""", Encoding.UTF8.GetString(Base64Url.DecodeFromChars(holder.Did.AsSpan("did:jwk:".Length))), StringComparison.Ordinal);
        Assert.Equal("user-1", subject["sub"]!.GetValue<string>());
        Assert.Equal("foo@bar.com", subject["email"]!.GetValue<string>());
        Assert.Equal("baz", subject["bar"]!.GetValue<string>());

        // The nonce is spent.
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(tokens["c_nonce_draft_00"]!.GetValue<string>()))), "The nonce is invalid.");
        // A refresh token is not an access token.
        await InvalidRequestAsync(await PostCredentialAsync(s, tokens["refresh_token"]!.GetValue<string>(), PrimingBody), "The provided token is not an access token.");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Every_advertised_suite_signs_a_proof_from_a_priming_nonce(string db)
    {
        var (s, _) = await StartAsync(db);
        await using var _s = s;
        var access = (await MachineTokenAsync(s, $"openid {Scope}"))["access_token"]!.GetValue<string>();
        var suites = (await (await s.Public.GetAsync("/.well-known/openid-configuration")).Json(HttpStatusCode.OK))["credentials_supported_draft_00"]![0]!["cryptographic_suites_supported"]!.AsArray();
        Assert.Equal(10, suites.Count);
        foreach (var alg in suites.Select(a => a!.GetValue<string>()))
        {
            var holder = Holder.Create(alg);
            var res = await PostCredentialAsync(s, access, ProofBody(holder.Proof(await PrimeAsync(s, access))));
            var vc = (await res.Json(HttpStatusCode.OK))["credential_draft_00"]!.GetValue<string>();
            var claims = JsonNode.Parse(Base64Url.DecodeFromChars(vc.Split('.')[1]))!;
            Assert.Equal(holder.Did, claims["vc"]!["credentialSubject"]!["id"]!.GetValue<string>());
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_request_without_proof_is_the_priming_answer_with_a_fresh_nonce(string db)
    {
        var (s, _) = await StartAsync(db);
        await using var _s = s;
        var access = (await MachineTokenAsync(s, $"openid {Scope}"))["access_token"]!.GetValue<string>();

        var res = await PostCredentialAsync(s, access, PrimingBody);
        var body = (await res.Json(HttpStatusCode.BadRequest)).AsObject();
        Assert.Equal(["format", "c_nonce", "c_nonce_expires_in", "error", "error_description"], body.Select(kv => kv.Key));
        Assert.Equal("jwt_vc", body["format"]!.GetValue<string>());
        Assert.Equal(3600, body["c_nonce_expires_in"]!.GetValue<long>());
        Assert.Equal("missing_proof", body["error"]!.GetValue<string>());
        Assert.Equal("Could not issue a verifiable credential because the proof is missing in the request.", body["error_description"]!.GetValue<string>());
        var second = (await (await PostCredentialAsync(s, access, PrimingBody)).Json(HttpStatusCode.BadRequest))["c_nonce"]!.GetValue<string>();
        Assert.NotEqual(body["c_nonce"]!.GetValue<string>(), second);

        // Both nonces work, once each.
        var holder = Holder.Create("ES256");
        await (await PostCredentialAsync(s, access, ProofBody(holder.Proof(second)))).Json(HttpStatusCode.OK);
        await (await PostCredentialAsync(s, access, ProofBody(holder.Proof(body["c_nonce"]!.GetValue<string>())))).Json(HttpStatusCode.OK);
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(second))), "The nonce is invalid.");

        // Priming keeps only the newest ten nonces of a token.
        var nonces = new List<string>();
        for (var i = 0; i < 11; i++) nonces.Add(await PrimeAsync(s, access));
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonces[0]))), "The nonce is invalid.");
        await (await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonces[1])))).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Tokens_without_the_credential_scope_or_no_token_are_refused(string db)
    {
        var (s, _) = await StartAsync(db);
        await using var _s = s;
        await (await PostCredentialAsync(s, null, PrimingBody)).OAuth2Error(HttpStatusCode.Unauthorized, "request_unauthorized");
        var unknown = await (await PostCredentialAsync(s, "ory_at_nope", PrimingBody)).OAuth2Error(HttpStatusCode.Unauthorized, "token_inactive");
        Assert.Equal("Token is inactive because it is malformed, expired or otherwise invalid. Token validation failed.", unknown["error_description"]!.GetValue<string>());

        foreach (var (scope, missing) in new[] { ("openid photos", Scope), (Scope, "openid"), ("photos", "openid") })
        {
            var access = (await MachineTokenAsync(s, scope))["access_token"]!.GetValue<string>();
            var e = await (await PostCredentialAsync(s, access, PrimingBody)).OAuth2Error(HttpStatusCode.BadRequest, "invalid_scope");
            Assert.Equal($"The requested scope is invalid, unknown, or malformed. The request scope '{missing}' has not been granted or is not allowed to be requested.", e["error_description"]!.GetValue<string>());
        }
        // Nothing was stored for the refused requests.
        await using var scope2 = s.Services.CreateAsyncScope();
        Assert.Equal(0, await scope2.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2VerifiableCredentialNonces.CountAsync());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Bad_requests_and_bad_proofs_get_hydras_errors_and_leave_the_nonce_usable(string db)
    {
        var (s, _) = await StartAsync(db);
        await using var _s = s;
        var access = (await MachineTokenAsync(s, $"openid {Scope}"))["access_token"]!.GetValue<string>();
        var nonce = await PrimeAsync(s, access);
        var holder = Holder.Create("ES256");
        var other = Holder.Create("ES256");

        await InvalidRequestAsync(await PostCredentialAsync(s, access, ""), "Unable to decode request body.");
        await InvalidRequestAsync(await PostCredentialAsync(s, access, """{"format":1}"""), "Unable to decode request body.");
        await InvalidRequestAsync(await PostCredentialAsync(s, access, """{"format":"jwt_vc_json","proof":"jwt"}"""), "Unable to decode request body.");
        await InvalidRequestAsync(await PostCredentialAsync(s, access, """{"types":["VerifiableCredential"]}"""), "The format '' is not supported.");
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce), format: "ldp_vc")), "The format 'ldp_vc' is not supported.");
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce), proofType: "cwt")), "The proof type 'cwt' is not supported.");
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody("no-dots")), "The JWT in the proof is malformed.");
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody("!!!." + holder.Proof(nonce).Split('.', 2)[1])), "The JWT header in the proof is malformed.");

        const string badKey = "The JWK in the JWT header is malformed.";
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce, h => h.Remove("jwk")))), badKey);
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce, h => h["jwk"]!["d"] = Base64Url.EncodeToString(new byte[32])))), badKey);
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce, h => h["jwk"] = new JsonObject { ["kty"] = "oct", ["k"] = "c2VjcmV0" }))), badKey);
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce, h => h["jwk"]!["x"] = Base64Url.EncodeToString(new byte[31])))), badKey);

        const string badSignature = "The JWT was not signed with the correct key supplied in the JWK header.";
        // Signed by another key than the one in its header.
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce, signer: other))), badSignature);
        // An algorithm that does not fit the key, or none.
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce, h => h["alg"] = "RS256"))), badSignature);
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce, h => h["alg"] = "HS256"))), badSignature);
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce).Split('.')[0] + "." + holder.Proof(nonce).Split('.')[1] + ".")), badSignature);
        var none = new JsonObject { ["alg"] = "none", ["jwk"] = holder.Jwk.DeepClone() }.ToJsonString();
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(Base64Url.EncodeToString(Encoding.UTF8.GetBytes(none)) + "." + holder.Proof(nonce).Split('.')[1] + ".")), badSignature);
        // An expired proof, or one issued in the future (fosite's claim checks).
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce, claims: c => c["exp"] = now - 60))), badSignature);
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce, claims: c => c["iat"] = now + 3600))), badSignature);
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(null))), "The JWT did not contain the 'nonce' claim.");
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(null, claims: c => c["nonce"] = 42))), "The JWT did not contain the 'nonce' claim.");
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof("invalid nonce"))), "The nonce is invalid.");
        // Another token's nonce.
        var otherAccess = (await MachineTokenAsync(s, $"openid {Scope}"))["access_token"]!.GetValue<string>();
        await InvalidRequestAsync(await PostCredentialAsync(s, otherAccess, ProofBody(holder.Proof(nonce))), "The nonce is invalid.");

        // None of that spent the nonce; like Hydra, the proof's typ, iss and aud are not checked.
        var res = await PostCredentialAsync(s, access, ProofBody(holder.Proof(nonce, h => h["typ"] = "openid4vci-proof+jwt", c => { c["aud"] = "https://elsewhere.example"; c["iss"] = "wallet"; })));
        await res.Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_nonce_expires_after_an_hour(string db)
    {
        // A day-long access token, as in Hydra's test, so that only the nonces run out.
        var (s, clock) = await StartAsync(db, o => o.Ttl.AccessToken = TimeSpan.FromHours(24));
        await using var _s = s;
        var tokens = await MachineTokenAsync(s, $"openid {Scope}");
        var access = tokens["access_token"]!.GetValue<string>();
        var fromTokenEndpoint = tokens["c_nonce_draft_00"]!.GetValue<string>();
        var holder = Holder.Create("ES256");
        var early = await PrimeAsync(s, access);

        clock.Advance(TimeSpan.FromMinutes(30));
        var primed = await PrimeAsync(s, access);
        clock.Advance(TimeSpan.FromMinutes(29));
        await (await PostCredentialAsync(s, access, ProofBody(holder.Proof(early)))).Json(HttpStatusCode.OK);

        clock.Advance(TimeSpan.FromMinutes(1));
        await InvalidRequestAsync(await PostCredentialAsync(s, access, ProofBody(holder.Proof(fromTokenEndpoint))), "The nonce has expired.");
        // A nonce primed later lives its own hour.
        await (await PostCredentialAsync(s, access, ProofBody(holder.Proof(primed)))).Json(HttpStatusCode.OK);
    }
}
