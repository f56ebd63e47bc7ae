using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Tokens;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// Hydra's <c>oauth2.session.encrypt_at_rest</c> (default true): persister_oauth2.go sqlSchemaFromRequest encrypts the
/// session column with the key cipher (secrets.system), toRequest decrypts whatever is not JSON.
/// </summary>
public sealed class SessionEncryptionTests
{
    private const string First = "first-system-secret-0123456789";
    private const string Second = "second-system-secret-0123456789";

    private static async Task<string> IssueAsync(TestServer s, string tenant)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var issued = await scope.ServiceProvider.GetRequiredService<OAuth2TokenService>().IssueAsync(OAuth2TokenKinds.AccessToken, Guid.NewGuid(), "some-client", "some-subject",
            ["read"], [], new JsonObject { ["tenant"] = tenant }, TimeSpan.FromHours(1), CancellationToken.None);
        Assert.Equal($$"""{"tenant":"{{tenant}}"}""", issued.Row.Extra);
        return issued.Token;
    }

    private static async Task<string> StoredExtraAsync(TestServer s, string token)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var hash = OpaqueToken.Hash(token);
        return scope.ServiceProvider.GetRequiredService<GatehouseDbContext>().OAuth2Tokens.Single(t => t.Signature == hash).Extra;
    }

    private static async Task<JsonObject> IntrospectAsync(TestServer s, string token) =>
        (await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", token)]))).Json(HttpStatusCode.OK)).AsObject();

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Token_claims_are_stored_encrypted_under_the_system_secret_and_old_plaintext_rows_and_rotated_secrets_still_read(string db)
    {
        await using var encrypting = await TestServer.StartAsync(db, o => o.Secrets.System = [First]);
        var sealedToken = await IssueAsync(encrypting, "acme");
        var stored = await StoredExtraAsync(encrypting, sealedToken);
        Assert.DoesNotContain("acme", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("tenant", stored, StringComparison.Ordinal);
        Assert.Equal("acme", (await IntrospectAsync(encrypting, sealedToken))["ext"]!["tenant"]!.GetValue<string>());
        await using (var scope = encrypting.Services.CreateAsyncScope())
        {
            var row = await scope.ServiceProvider.GetRequiredService<OAuth2TokenService>().FindAsync(sealedToken, CancellationToken.None);
            Assert.Equal("""{"tenant":"acme"}""", row!.Extra);
        }

        // With the key off rows keep plain JSON, and a process with it on reads them (no migration), as Hydra's toRequest.
        await using var plain = await TestServer.StartAsync(db, o =>
        {
            o.Dsn = encrypting.Options.Dsn;
            o.Secrets.System = [First];
            o.Oauth2.Session.EncryptAtRest = false;
        });
        var plainToken = await IssueAsync(plain, "globex");
        Assert.Equal("""{"tenant":"globex"}""", await StoredExtraAsync(plain, plainToken));
        Assert.Equal("globex", (await IntrospectAsync(encrypting, plainToken))["ext"]!["tenant"]!.GetValue<string>());
        // A token without claims stores {} in clear either way.
        await using (var scope = encrypting.Services.CreateAsyncScope())
        {
            var bare = await scope.ServiceProvider.GetRequiredService<OAuth2TokenService>().IssueAsync(OAuth2TokenKinds.AccessToken, Guid.NewGuid(), "some-client", "some-subject",
                ["read"], [], null, TimeSpan.FromHours(1), CancellationToken.None);
            Assert.Equal("{}", await StoredExtraAsync(encrypting, bare.Token));
        }

        // Rotation: a new system secret prepended still reads what the old one sealed.
        await using var rotated = await TestServer.StartAsync(db, o =>
        {
            o.Dsn = encrypting.Options.Dsn;
            o.Secrets.System = [Second, First];
        });
        Assert.Equal("acme", (await IntrospectAsync(rotated, sealedToken))["ext"]!["tenant"]!.GetValue<string>());

        // Without the secret that sealed them the claims cannot be read, and the token is not honoured.
        await using var replaced = await TestServer.StartAsync(db, o =>
        {
            o.Dsn = encrypting.Options.Dsn;
            o.Secrets.System = [Second];
        });
        Assert.False((await IntrospectAsync(replaced, sealedToken))["active"]!.GetValue<bool>());
        Assert.True((await IntrospectAsync(replaced, plainToken))["active"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_token_hooks_id_token_claims_are_stored_encrypted_too(string db)
    {
        // Hydra keeps them in the same session column (IDTokenClaims().Extra), so they are sealed like the access token's.
        await using var s = await TestServer.StartAsync(db, o => o.Secrets.System = [First]);
        await using var scope = s.Services.CreateAsyncScope();
        var service = scope.ServiceProvider.GetRequiredService<OAuth2TokenService>();
        var issued = service.New(OAuth2TokenKinds.AccessToken, Guid.NewGuid(), "some-client", "some-subject", ["openid"], [], null, TimeSpan.FromHours(1));
        issued.Row.IdTokenExtra = """{"department":"research"}""";
        await service.AddAsync([issued.Row], CancellationToken.None);
        Assert.Equal("""{"department":"research"}""", issued.Row.IdTokenExtra);

        var hash = OpaqueToken.Hash(issued.Token);
        var stored = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>().OAuth2Tokens.Single(t => t.Signature == hash).IdTokenExtra;
        Assert.DoesNotContain("research", stored!, StringComparison.Ordinal);
        Assert.Equal("""{"department":"research"}""", (await service.FindAsync(issued.Token, CancellationToken.None))!.IdTokenExtra);

        // Without the secret that sealed them the token is not honoured.
        await using var replaced = await TestServer.StartAsync(db, o =>
        {
            o.Dsn = s.Options.Dsn;
            o.Secrets.System = [Second];
        });
        Assert.False((await IntrospectAsync(replaced, issued.Token))["active"]!.GetValue<bool>());
    }
}
