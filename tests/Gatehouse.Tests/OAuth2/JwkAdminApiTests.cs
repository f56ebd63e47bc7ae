using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.OAuth2.Keys;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.OAuth2;

public sealed class JwkAdminApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static string NewSet() => "test-set-" + Guid.NewGuid().ToString("N");

    private static string[] Kids(JsonNode set) => [.. set["keys"]!.AsArray().Select(k => k!["kid"]!.GetValue<string>())];

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Create_generates_a_key_returns_it_with_its_private_part_and_adds_to_the_set_on_rotation(string db)
    {
        var s = await fixture.Get(db);
        var set = NewSet();
        var res = await s.AdminWithKey.PostJson($"/admin/keys/{set}", """{"alg":"RS256","kid":"first","use":"sig"}""");
        var created = await res.Json(HttpStatusCode.Created);
        Assert.Equal($"{s.PublicUrl}/keys/{set}", res.Headers.Location?.ToString());
        var key = created["keys"]!.AsArray().Single()!.AsObject();
        // go-jose's members, in its order; a 4096-bit RSA key as Hydra generates.
        Assert.Equal(["use", "kty", "kid", "alg", "n", "e", "d", "p", "q", "dp", "dq", "qi"], key.Select(kv => kv.Key));
        Assert.Equal("RSA", key["kty"]!.GetValue<string>());
        Assert.Equal("AQAB", key["e"]!.GetValue<string>());
        Assert.Equal(512, Convert.FromBase64String(Pad(key["n"]!.GetValue<string>())).Length);

        // Rotation: a second key joins the set, newest first; the old one stays.
        var second = await (await s.AdminWithKey.PostJson($"/admin/keys/{set}", """{"alg":"ES256","kid":"second","use":"sig"}""")).Json(HttpStatusCode.Created);
        var ec = second["keys"]![0]!.AsObject();
        Assert.Equal(["use", "kty", "kid", "crv", "alg", "x", "y", "d"], ec.Select(kv => kv.Key));
        Assert.Equal("P-256", ec["crv"]!.GetValue<string>());
        var all = await (await s.AdminWithKey.GetAsync($"/admin/keys/{set}")).Json(HttpStatusCode.OK);
        Assert.Equal(["second", "first"], Kids(all));
        Assert.Equal(key.ToJsonString(), all["keys"]![1]!.ToJsonString());

        var one = await (await s.AdminWithKey.GetAsync($"/admin/keys/{set}/first")).Json(HttpStatusCode.OK);
        Assert.Equal(["first"], Kids(one));

        // Without a kid a UUID is chosen; without use, "sig"; symmetric and EdDSA keys too.
        var generated = await (await s.AdminWithKey.PostJson($"/admin/keys/{set}", """{"alg":"HS256"}""")).Json(HttpStatusCode.Created);
        Assert.True(Guid.TryParse(generated["keys"]![0]!["kid"]!.GetValue<string>(), out _));
        Assert.Equal("sig", generated["keys"]![0]!["use"]!.GetValue<string>());
        Assert.Equal(32, Convert.FromBase64String(Pad(generated["keys"]![0]!["k"]!.GetValue<string>())).Length);
        var ed = await (await s.AdminWithKey.PostJson($"/admin/keys/{set}", """{"alg":"EdDSA","kid":"ed","use":"sig"}""")).Json(HttpStatusCode.Created);
        Assert.Equal("OKP", ed["keys"]![0]!["kty"]!.GetValue<string>());

        // The same kid again is a conflict, and changes nothing.
        await (await s.AdminWithKey.PostJson($"/admin/keys/{set}", """{"alg":"ES256","kid":"first","use":"sig"}""")).OAuth2Error(HttpStatusCode.Conflict);
        Assert.Equal(4, (await (await s.AdminWithKey.GetAsync($"/admin/keys/{set}")).Json(HttpStatusCode.OK))["keys"]!.AsArray().Count);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Bad_requests_get_hydras_errors_and_change_nothing(string db)
    {
        var s = await fixture.Get(db);
        var set = NewSet();
        var unsupported = await (await s.AdminWithKey.PostJson($"/admin/keys/{set}", """{"alg":"none","kid":"a","use":"sig"}""")).OAuth2Error(HttpStatusCode.BadRequest, "Bad Request");
        Assert.Equal("Unsupported key algorithm", unsupported["error_description"]!.GetValue<string>());
        await (await s.AdminWithKey.PostJson($"/admin/keys/{set}", """{"alg":"RS256","kid":"a","use":"encrypt-everything"}""")).OAuth2Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PostJson($"/admin/keys/{set}", """{"alg":1}""")).OAuth2Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PostJson($"/admin/keys/{set}", """[]""")).OAuth2Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PostJson($"/admin/keys/{set}", """{"alg":""")).OAuth2Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PostJson($"/admin/keys/{new string('x', 300)}", """{"alg":"ES256"}""")).OAuth2Error(HttpStatusCode.BadRequest);

        var missing = await (await s.AdminWithKey.GetAsync($"/admin/keys/{set}")).OAuth2Error(HttpStatusCode.NotFound, "Not Found");
        Assert.Equal("Unable to locate the requested resource", missing["error_description"]!.GetValue<string>());
        await (await s.AdminWithKey.GetAsync($"/admin/keys/{set}/nope")).OAuth2Error(HttpStatusCode.NotFound);

        // Keys that go-jose would not decode.
        foreach (var bad in new[]
        {
            """{"kty":"XYZ","kid":"k"}""",
            """{"kty":"RSA","kid":"k","e":"AQAB"}""",
            """{"kty":"EC","kid":"k","crv":"P-256","x":"AAAA","y":"AAAA"}""",
            """{"kty":"EC","kid":"k","crv":"P-999","x":"AAAA","y":"AAAA"}""",
            """{"kty":"oct","kid":"k"}""",
            """{"kty":"oct","kid":"k","k":"!!not base64!!"}""",
            """{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0"}""",
            """{"kty":"oct","kid":7,"k":"c2VjcmV0c2VjcmV0c2VjcmV0"}""",
            """["not an object"]""",
        })
        {
            await (await s.AdminWithKey.PutJson($"/admin/keys/{set}/k", bad)).OAuth2Error(HttpStatusCode.BadRequest);
            await (await s.AdminWithKey.PutJson($"/admin/keys/{set}", $$"""{"keys":[{{bad}}]}""")).OAuth2Error(HttpStatusCode.BadRequest);
        }
        await (await s.AdminWithKey.PutJson($"/admin/keys/{set}", """{"keys":{}}""")).OAuth2Error(HttpStatusCode.BadRequest);
        await (await s.AdminWithKey.PutJson($"/admin/keys/{set}", """{"keys":[{"kty":"oct","kid":"d","k":"c2VjcmV0"},{"kty":"oct","kid":"d","k":"c2VjcmV0"}]}""")).OAuth2Error(HttpStatusCode.Conflict);
        await (await s.AdminWithKey.GetAsync($"/admin/keys/{set}")).OAuth2Error(HttpStatusCode.NotFound);

        // The admin API needs the key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.Admin.GetAsync($"/admin/keys/{set}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.Public.PostJson($"/admin/keys/{set}", """{"alg":"ES256"}""")).StatusCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Set_replaces_sets_and_keys_and_delete_removes_them(string db)
    {
        var s = await fixture.Get(db);
        var set = NewSet();
        var a = Jwk.Generate("ES256", "a", "sig", 2048).ToJson();
        var b = Jwk.Generate("RS256", "b", "sig", 2048).ToJson();
        a["unknown_member"] = "dropped";
        var put = await (await s.AdminWithKey.PutJson($"/admin/keys/{set}", new JsonObject { ["keys"] = new JsonArray(a, b) }.ToJsonString())).Json(HttpStatusCode.OK);
        Assert.Equal(["a", "b"], Kids(put));
        Assert.Null(put["keys"]![0]!["unknown_member"]);
        Assert.Equal(["a", "b"], Kids(await (await s.AdminWithKey.GetAsync($"/admin/keys/{set}")).Json(HttpStatusCode.OK)));

        // PUT of one key replaces that key (by the body's kid) or adds it.
        var c = Jwk.Generate("ES384", "c", "enc", 2048).ToJson();
        var setKey = await (await s.AdminWithKey.PutJson($"/admin/keys/{set}/ignored", c.ToJsonString())).Json(HttpStatusCode.OK);
        Assert.Equal(c.ToJsonString(), setKey.ToJsonString());
        var a2 = Jwk.Generate("ES256", "a", "sig", 2048).ToJson();
        await (await s.AdminWithKey.PutJson($"/admin/keys/{set}/a", a2.ToJsonString())).Json(HttpStatusCode.OK);
        var now = await (await s.AdminWithKey.GetAsync($"/admin/keys/{set}")).Json(HttpStatusCode.OK);
        Assert.Equal(["a", "c", "b"], Kids(now));
        Assert.Equal(a2["x"]!.GetValue<string>(), now["keys"]![0]!["x"]!.GetValue<string>());

        // A public key alone is a valid key too.
        var pub = JsonNode.Parse(a2.ToJsonString())!.AsObject();
        pub.Remove("d");
        pub["kid"] = "public-only";
        await (await s.AdminWithKey.PutJson($"/admin/keys/{set}/x", pub.ToJsonString())).Json(HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/keys/{set}/c")).StatusCode);
        Assert.Equal(["public-only", "a", "b"], Kids(await (await s.AdminWithKey.GetAsync($"/admin/keys/{set}")).Json(HttpStatusCode.OK)));
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/keys/{set}")).StatusCode);
        await (await s.AdminWithKey.GetAsync($"/admin/keys/{set}")).OAuth2Error(HttpStatusCode.NotFound);
        // Deleting what is not there is not an error (as Hydra).
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/keys/{set}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/keys/{set}/a")).StatusCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_jwks_publishes_the_id_token_set_generated_on_first_use_without_private_parts_and_keeps_rotated_keys(string db)
    {
        await using var s = await TestServer.StartAsync(db, configureServices: services => services.AddSingleton(new KeyGeneration { RsaBits = 2048 }));
        var res = await s.Public.GetAsync("/.well-known/jwks.json");
        var jwks = await res.Json(HttpStatusCode.OK);
        var first = jwks["keys"]!.AsArray().Single()!.AsObject();
        Assert.Equal(["use", "kty", "kid", "alg", "n", "e"], first.Select(kv => kv.Key));
        Assert.Equal("RS256", first["alg"]!.GetValue<string>());
        // The same key on the next call: it was stored, not generated per request.
        Assert.Equal(jwks.ToJsonString(), (await (await s.Public.GetAsync("/.well-known/jwks.json")).Json(HttpStatusCode.OK)).ToJsonString());

        // Rotation: the new key signs, both are published, newest first.
        var rotated = await (await s.AdminWithKey.PostJson("/admin/keys/hydra.openid.id-token", """{"alg":"ES256","kid":"rotated","use":"sig"}""")).Json(HttpStatusCode.Created);
        var after = await (await s.Public.GetAsync("/.well-known/jwks.json")).Json(HttpStatusCode.OK);
        Assert.Equal(["rotated", first["kid"]!.GetValue<string>()], Kids(after));
        Assert.Null(after["keys"]![0]!["d"]);
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var signing = await scope.ServiceProvider.GetRequiredService<JsonWebKeyManager>().GetSigningKeyAsync(JsonWebKeyManager.IdTokenSet, CancellationToken.None);
            Assert.Equal("rotated", signing.Key.Kid);
            Assert.Equal("ES256", signing.Credentials.Algorithm);
        }

        // A symmetric key in the set is neither published nor used to sign.
        await (await s.AdminWithKey.PostJson("/admin/keys/hydra.openid.id-token", """{"alg":"HS256","kid":"hmac","use":"sig"}""")).Json(HttpStatusCode.Created);
        Assert.Equal(["rotated", first["kid"]!.GetValue<string>()], Kids(await (await s.Public.GetAsync("/.well-known/jwks.json")).Json(HttpStatusCode.OK)));
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var signing = await scope.ServiceProvider.GetRequiredService<JsonWebKeyManager>().GetSigningKeyAsync(JsonWebKeyManager.IdTokenSet, CancellationToken.None);
            Assert.Equal("rotated", signing.Key.Kid);
        }
        Assert.Equal("d", rotated["keys"]![0]!.AsObject().Last().Key);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Private_keys_are_stored_encrypted_and_keys_another_secret_made_only_show_their_public_part(string db)
    {
        await using var s = await TestServer.StartAsync(db, configure: o => o.Secrets.Default = ["first-secret-0123456789abcdef"]);
        var set = NewSet();
        var created = await (await s.AdminWithKey.PostJson($"/admin/keys/{set}", """{"alg":"ES256","kid":"k1","use":"sig"}""")).Json(HttpStatusCode.Created);
        var d = created["keys"]![0]!["d"]!.GetValue<string>();
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var row = scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2JsonWebKeys.Single(k => k.SetId == set);
            Assert.DoesNotContain(d, row.EncryptedKey, StringComparison.Ordinal);
            Assert.DoesNotContain("\"d\"", row.PublicKey!, StringComparison.Ordinal);
            // secrets.cipher, when set, is what encrypts; it is tried first on reading, then secrets.default is not used.
            var other = new JsonWebKeyCipher(new GatehouseOptions { Secrets = { Default = ["another-secret-0123456789abcdef"] } });
            Assert.Null(other.TryDecrypt(row.EncryptedKey, set, "k1"));
            var same = new JsonWebKeyCipher(new GatehouseOptions { Secrets = { Default = ["new-secret-first-0123456789", "first-secret-0123456789abcdef"] } });
            Assert.Contains(d, same.TryDecrypt(row.EncryptedKey, set, "k1")!, StringComparison.Ordinal);
            // Bound to its set and key id.
            Assert.Null(same.TryDecrypt(row.EncryptedKey, set, "k2"));
        }

        // The same database read with other secrets: the key shows its public part only, and cannot sign.
        await using var other2 = await TestServer.StartAsync(db, configure: o =>
        {
            o.Dsn = s.Options.Dsn;
            o.Secrets.Default = ["another-secret-0123456789abcdef"];
        });
        var seen = await (await other2.AdminWithKey.GetAsync($"/admin/keys/{set}")).Json(HttpStatusCode.OK);
        Assert.Null(seen["keys"]![0]!["d"]);
        Assert.Equal(created["keys"]![0]!["x"]!.GetValue<string>(), seen["keys"]![0]!["x"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Secrets_system_encrypts_keys_keeps_keys_made_before_it_readable_and_rotates_by_prepending(string db)
    {
        // Hydra: the first system secret encrypts, all are tried on reading (aead/helpers.go allKeys over
        // driver/config/provider_fosite.go GetGlobalSecret + GetRotatedGlobalSecrets).
        const string Kratos = "kratos-default-secret-0123456789";
        const string First = "first-system-secret-0123456789";
        const string Second = "second-system-secret-0123456789";
        var set = NewSet();
        await using var kratos = await TestServer.StartAsync(db, configure: o => o.Secrets.Default = [Kratos]);
        var before = await (await kratos.AdminWithKey.PostJson($"/admin/keys/{set}", """{"alg":"ES256","kid":"before","use":"sig"}""")).Json(HttpStatusCode.Created);

        await using (var system = await TestServer.StartAsync(db, configure: o =>
        {
            o.Dsn = kratos.Options.Dsn;
            o.Secrets.Default = [Kratos];
            o.Secrets.System = [First];
        }))
        {
            // The key made before secrets.system was set still reads; a new one is encrypted with the system secret.
            Assert.Equal(before["keys"]![0]!.ToJsonString(), (await (await system.AdminWithKey.GetAsync($"/admin/keys/{set}/before")).Json(HttpStatusCode.OK))["keys"]![0]!.ToJsonString());
            await (await system.AdminWithKey.PostJson($"/admin/keys/{set}", """{"alg":"ES256","kid":"system","use":"sig"}""")).Json(HttpStatusCode.Created);
            await using var scope = system.Services.CreateAsyncScope();
            var row = scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2JsonWebKeys.Single(k => k.SetId == set && k.KeyId == "system");
            Assert.NotNull(new SystemSecretCipher(new GatehouseOptions { Secrets = { System = [First] } }).TryDecrypt(row.EncryptedKey, set, "system"));
            Assert.Null(new SystemSecretCipher(new GatehouseOptions { Secrets = { Default = [Kratos] } }).TryDecrypt(row.EncryptedKey, set, "system"));
            // Kratos's data keeps its own secrets: secrets.system does not change what JsonWebKeyCipher encrypts with.
            var kratosData = scope.ServiceProvider.GetRequiredService<JsonWebKeyCipher>().Encrypt("x", "a", "b");
            Assert.Equal("x", new JsonWebKeyCipher(new GatehouseOptions { Secrets = { Default = [Kratos] } }).TryDecrypt(kratosData, "a", "b"));
        }

        // Rotation: a new system secret prepended. The key the old one encrypted still reads in full; the one only the
        // dropped Kratos secret decrypts shows its public part.
        await using var rotated = await TestServer.StartAsync(db, configure: o =>
        {
            o.Dsn = kratos.Options.Dsn;
            o.Secrets.Default = ["unrelated-default-secret-0123456789"];
            o.Secrets.System = [Second, First];
        });
        var keys = (await (await rotated.AdminWithKey.GetAsync($"/admin/keys/{set}")).Json(HttpStatusCode.OK))["keys"]!.AsArray();
        Assert.Equal(["system", "before"], keys.Select(k => k!["kid"]!.GetValue<string>()));
        Assert.NotNull(keys[0]!["d"]);
        Assert.Null(keys[1]!["d"]);
    }

    private static string Pad(string b64url)
    {
        var s = b64url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }
}
