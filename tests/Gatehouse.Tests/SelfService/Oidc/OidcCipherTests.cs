using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.OAuth2.Keys;
using Gatehouse.Persistence;
using Gatehouse.SelfService.Strategies.Oidc;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>
/// <c>ciphers.algorithm</c> (Kratos <c>driver/config.CipherAlgorithm</c>, <c>RegistryDefault.Cipher</c>, <c>cipher/</c>):
/// how the social sign-in's upstream tokens are kept in the <c>oidc</c> credential and how its <c>state</c> is sealed.
/// </summary>
public sealed class OidcCipherTests(OidcServerFixture fixture) : IClassFixture<OidcServerFixture>
{
    public static TheoryData<string, string> ProvidersAndAlgorithms()
    {
        var data = new TheoryData<string, string>();
        foreach (var db in Db.Providers.Select(r => (string)r.Data))
        {
            foreach (var algorithm in new[] { "noop", "aes", "xchacha20-poly1305" }) data.Add(db, algorithm);
        }
        return data;
    }

    /// <summary>Signs a new subject up through the test provider; the new identity's id and the raw stored credential config.</summary>
    private async Task<(string IdentityId, JsonObject Stored, string State)> SignUp(TestServer s)
    {
        var idp = await fixture.Idp();
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using var browser = new Browser(s.PublicUrl);
        var init = await browser.Client.GetAsync("/self-service/registration/browser");
        var flowId = QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString();
        using var fetch = new HttpRequestMessage(HttpMethod.Get, $"/self-service/registration/flows?id={flowId}");
        fetch.Headers.Accept.ParseAdd("application/json");
        var flow = await (await browser.Client.SendAsync(fetch)).Json(HttpStatusCode.OK);
        var submit = await browser.PostForm($"/self-service/registration?flow={flowId}", [new("csrf_token", Csrf(flow)), new("provider", "test-idp")]);
        Assert.Equal(HttpStatusCode.SeeOther, submit.StatusCode);
        var q = QueryHelpers.ParseQuery(submit.Headers.Location!.Query);
        var code = idp.AddCode(new TestOpenIdProvider.Grant(idp.Claims(subject, fixture.Clock.GetUtcNow(), q["nonce"].ToString()), q["code_challenge"].ToString(), q["redirect_uri"].ToString()));
        var done = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/test-idp?state={Uri.EscapeDataString(q["state"].ToString())}&code={code}");
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        using var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        whoami.Headers.Accept.ParseAdd("application/json");
        var identityId = (string)(await (await browser.Client.SendAsync(whoami)).Json(HttpStatusCode.OK))["identity"]!["id"]!;
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var config = await db.Credentials.AsNoTracking().Where(c => c.IdentityId == Guid.Parse(identityId) && c.Type == "oidc").Select(c => c.Config).SingleAsync();
        return (identityId, (JsonObject)JsonNode.Parse(config)!, q["state"].ToString());
    }

    [Theory, MemberData(nameof(ProvidersAndAlgorithms))]
    public async Task The_upstream_tokens_are_stored_under_the_configured_algorithm_and_read_back_by_the_admin_api(string provider, string algorithm)
    {
        var s = await fixture.Get(provider, cipher: algorithm);
        var (identityId, stored, state) = await SignUp(s);

        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential=oidc")).Json(HttpStatusCode.OK);
        var entry = admin["credentials"]!["oidc"]!["config"]!["providers"]![0]!;
        var accessToken = (string)entry["initial_access_token"]!;
        Assert.StartsWith("at-", accessToken, StringComparison.Ordinal);
        Assert.StartsWith("rt-", (string?)entry["initial_refresh_token"], StringComparison.Ordinal);
        Assert.Equal(3, ((string)entry["initial_id_token"]!).Split('.').Length);

        var atRest = (string)stored["providers"]![0]!["initial_access_token"]!;
        // The state never shows the PKCE verifier or the nonce in the clear, whatever the algorithm (noop included).
        Assert.DoesNotContain("\"n\"", Encoding.UTF8.GetString(TryHex(state) ?? []), StringComparison.Ordinal);
        switch (algorithm)
        {
            case "noop":
                // Kratos's Noop: hex of the plaintext.
                Assert.Equal(Convert.ToHexStringLower(Encoding.UTF8.GetBytes(accessToken)), atRest);
                break;
            case "aes":
                // 12-byte nonce + ciphertext + 16-byte tag, base64url.
                Assert.Equal(12 + accessToken.Length + 16, Base64UrlLength(atRest));
                break;
            default:
                // 24-byte nonce + ciphertext + 16-byte tag, base64url.
                Assert.Equal(24 + accessToken.Length + 16, Base64UrlLength(atRest));
                break;
        }
        Assert.DoesNotContain(accessToken, stored.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_written_under_another_algorithm_does_not_decrypt_as_in_kratos()
    {
        // Kratos marks no algorithm on the value: each cipher only reads its own, and WithDeclassifiedCredentials shows ""
        // for a token that does not decrypt (OidcCredentials.AdminConfig does the same).
        var options = new GatehouseOptions();
        options.Secrets.Cipher = ["0123456789abcdef0123456789abcdef"];
        var aesKeys = new JsonWebKeyCipher(options);
        var ciphers = new[] { "noop", "aes", "xchacha20-poly1305" }.ToDictionary(a => a, a =>
        {
            options.Ciphers.Algorithm = a;
            return new OidcCipher(options, aesKeys, NullLogger<OidcCipher>.Instance);
        });
        try
        {
            foreach (var (writer, w) in ciphers)
            {
                var sealedValue = w.Encrypt("at-secret-token", "oidc_token", "idp:sub:initial_access_token");
                Assert.Equal("at-secret-token", w.TryDecrypt(sealedValue, "oidc_token", "idp:sub:initial_access_token"));
                foreach (var (reader, r) in ciphers.Where(c => c.Key != writer))
                    Assert.Null(r.TryDecrypt(sealedValue, "oidc_token", "idp:sub:initial_access_token"));
                if (writer != "noop")
                {
                    // Bound to its account and field; rotated secrets still read it.
                    Assert.Null(w.TryDecrypt(sealedValue, "oidc_token", "idp:other:initial_access_token"));
                }
            }
            options.Secrets.Cipher = ["fedcba9876543210fedcba9876543210", "0123456789abcdef0123456789abcdef"];
            options.Ciphers.Algorithm = "xchacha20-poly1305";
            using var rotated = new OidcCipher(options, new JsonWebKeyCipher(options), NullLogger<OidcCipher>.Instance);
            var old = ciphers["xchacha20-poly1305"].Encrypt("rt-token", "oidc_token", "a");
            Assert.Equal("rt-token", rotated.TryDecrypt(old, "oidc_token", "a"));
            Assert.Null(ciphers["xchacha20-poly1305"].TryDecrypt(rotated.Encrypt("rt-token", "oidc_token", "a"), "oidc_token", "a"));
        }
        finally
        {
            foreach (var c in ciphers.Values) c.Dispose();
        }
    }

    [Theory]
    [InlineData("ciphers:\n  algorithm: rot13\n")]
    [InlineData("ciphers:\n  algorithm: AES\n")]
    public void An_unknown_algorithm_is_refused_at_start_up(string yaml)
    {
        using var files = new Gatehouse.Tests.Config.ConfigFiles();
        var error = Assert.Throws<ConfigException>(() =>
            ConfigLoader.Load([files.Write("kratos.yml", "dsn: memory\n" + yaml)], new Dictionary<string, string?>(), dev: false));
        Assert.Contains("ciphers.algorithm", error.Message, StringComparison.Ordinal);
        Assert.Throws<ConfigException>(() => OidcCipher.Resolve("rot13"));
        Assert.Equal("aes", OidcCipher.Resolve(null));
    }

    private static int Base64UrlLength(string value) => System.Buffers.Text.Base64Url.DecodeFromChars(value).Length;

    private static byte[]? TryHex(string value)
    {
        try
        {
            return Convert.FromHexString(value);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
